"""The project's own facts, in one place: its name, short name, registration number and
period, the ministry that runs it, the contacts, and the kraj package's groups.

PDFs, XLSX reports, e-mails, request forms and every page read them here, at run time. They
are written in trainings/data/catalogue.yaml beside the catalogue's offers, which
catalogue/seed.py loads into the database.

Organisers edit the contacts and the texts that change (EDITED_FACTS) in the back office
(catalogue/facts_editing.py); the latest `ProjectFactsVersion` then overrides the file. Each
process keeps it and asks the database at most every CHECK_SECONDS whether a newer one exists
(a saving process forgets it at once). Error pages read these facts while the database may be
down: a failed check keeps what the process last knew, or the file, and never raises.
"""
import threading
import time
from functools import lru_cache
from pathlib import Path

import yaml
from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import ProjectFactsVersion

DATA_DIR = Path(__file__).resolve().parent / "data"

# Who confirms attendance on an osvědčení, and who the reports are for.
MINISTRY = "Ministerstvo práce a sociálních věcí"


@lru_cache
def catalogue_document() -> dict:
    """The catalogue file as written: project facts, contacts, sections, offers."""
    with open(DATA_DIR / "catalogue.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


# The project's texts organisers edit; name, short name and registration number stay in the file.
EDITED_FACTS = ("period", "focus", "intro", "region_intro", "region_note")
CHECK_SECONDS = 5.0

class _Kept:
    """One app's latest version as last read, and when the database was last asked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked = float("-inf")
        self.version: int | None = None
        self.values: dict | None = None


def _kept() -> _Kept:
    return current_app.extensions.setdefault("project_facts", _Kept())


def forget_edited() -> None:
    """The next read asks the database again (after a save in this process)."""
    kept = _kept()
    with kept.lock:
        kept.checked = float("-inf")


def _edited() -> dict | None:
    """The values of the latest back-office version, or None while the file is in force."""
    if not has_app_context():
        return None
    kept = _kept()
    with kept.lock:
        if time.monotonic() - kept.checked < CHECK_SECONDS:
            return kept.values
        kept.checked = time.monotonic()  # also during an outage: one try per CHECK_SECONDS
    try:
        # On a connection of its own: the caller may be in the middle of its work (nothing of it
        # may be flushed by this), and a failed check must not abort the caller's transaction,
        # as a failed statement does on PostgreSQL.
        with db.engine.connect() as connection:
            latest = connection.scalar(select(func.max(ProjectFactsVersion.id)))
            if latest != kept.version:
                values = connection.scalar(
                    select(ProjectFactsVersion.values).where(ProjectFactsVersion.id == latest)
                ) if latest else None
                with kept.lock:
                    kept.version, kept.values = latest, values
    except SQLAlchemyError:
        pass  # the file, or what this process last knew, stands until the next check
    return kept.values


def document() -> dict:
    """The catalogue file with the back office's facts and contacts over it."""
    doc = catalogue_document()
    edited = _edited()
    if not edited:
        return doc
    return {**doc, "project": {**doc["project"], **edited["project"]}, "contacts": edited["contacts"]}


def facts() -> dict:
    """name, short_name, reg_no, period, focus and the catalogue's intro texts."""
    return document()["project"]


def ministry() -> dict:
    """The department, its addresses and websites."""
    return catalogue_document()["ministry"]


def contacts() -> list[dict]:
    """name, topic (what the person is the contact for), email and, when given, phone."""
    return document()["contacts"]


def region_groups() -> list[dict]:
    """The A/B/C headings of the kraj package's items."""
    return catalogue_document()["region_groups"]
