"""The project's own facts, in one place: its name, short name, registration number and
period, the ministry that runs it, the contacts, and the kraj package's groups.

PDFs, XLSX reports, e-mails, request forms and every page read them here, at run time. They
are written in trainings/data/catalogue.yaml beside the catalogue's offers, which
catalogue/seed.py loads into the database; this module only reads the file.
"""
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"

# Who confirms attendance on an osvědčení, and who the reports are for.
MINISTRY = "Ministerstvo práce a sociálních věcí"


@lru_cache
def catalogue_document() -> dict:
    """The catalogue file as written: project facts, contacts, sections, offers."""
    with open(DATA_DIR / "catalogue.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def facts() -> dict:
    """name, short_name, reg_no, period, focus and the catalogue's intro texts."""
    return catalogue_document()["project"]


def ministry() -> dict:
    """The department, its addresses and websites."""
    return catalogue_document()["ministry"]


def contacts() -> list[dict]:
    return catalogue_document()["contacts"]


def region_groups() -> list[dict]:
    """The A/B/C headings of the kraj package's items."""
    return catalogue_document()["region_groups"]
