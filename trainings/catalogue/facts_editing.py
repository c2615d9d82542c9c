"""The project's facts and contacts edited by staff: versions, restoring.

Every save is a `ProjectFactsVersion` holding all edited values as they are from then on
(trainings/project.py reads the latest over catalogue.yaml). The first save first keeps the
file's own values as a "baseline" version, so they can always be restored. Saving publishes
at once: the values are few and short, and the history restores any earlier version.
`flask seed` touches neither this table nor the file's facts, so staff edits stay.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit, project
from ..errors import ServiceError
from ..db_session import transaction
from ..extensions import db
from ..models import ProjectFactsVersion, User, utcnow

# The edited texts in the order the form and the history show them, with their Czech names.
TEXTS = {
    "period": "období projektu",
    "focus": "zaměření",
    "intro": "úvod nabídky pro OSPOD",
    "region_intro": "úvod nabídky pro kraje",
    "region_note": "závěr nabídky pro kraje",
}
CONTACT_FIELDS = ("name", "topic", "email", "phone")
ACTIONS = {
    "baseline": "původní údaje z katalogu",
    "edit": "úprava",
    "restore": "obnovení starší verze",
}
AUDIT_SUBJECT = audit.Subject("project_facts")
assert tuple(TEXTS) == project.EDITED_FACTS


class FactsRefused(ServiceError):
    pass


def current_values() -> dict:
    """What the pages show now, in the shape a version keeps."""
    facts = project.facts()
    return {
        "project": {name: facts.get(name) or "" for name in TEXTS},
        "contacts": [{name: person.get(name) or "" for name in CONTACT_FIELDS} for person in project.contacts()],
    }


def _file_values() -> dict:
    doc = project.catalogue_document()
    return {
        "project": {name: doc["project"].get(name) or "" for name in TEXTS},
        "contacts": [{name: person.get(name) or "" for name in CONTACT_FIELDS} for person in doc["contacts"]],
    }


def clean(values: dict) -> dict:
    """Texts as given; contacts without the rows left empty. Field-level rules (e-mail, lengths)
    are the form's; what makes the whole refusable is here."""
    contacts = [{name: (person.get(name) or "").strip() for name in CONTACT_FIELDS}
                for person in values["contacts"]]
    contacts = [person for person in contacts if any(person.values())]
    for index, person in enumerate(contacts):
        for name, message in (("name", "Vyplňte prosím jméno."), ("topic", "Vyplňte prosím, pro co je kontaktem."),
                              ("email", "Vyplňte prosím e-mail.")):
            if not person[name]:
                raise FactsRefused(message, field=f"contact_{index}_{name}")
    if not contacts:
        raise FactsRefused("Uveďte prosím aspoň jeden kontakt.", field="contact_0_name")
    return {"project": {name: (values["project"].get(name) or "").strip() for name in TEXTS},
            "contacts": contacts}


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str
    after: str


def _contact_line(person: dict | None) -> str:
    if not person:
        return "–"
    return ", ".join(person[name] for name in CONTACT_FIELDS if person.get(name))


def change_lines(before: dict | None, after: dict) -> list[ChangeLine]:
    """What a version changed against the one before it, in words."""
    if before is None:
        return []
    lines = [ChangeLine(label, before["project"].get(name) or "–", after["project"].get(name) or "–")
             for name, label in TEXTS.items() if before["project"].get(name) != after["project"].get(name)]
    old, new = before["contacts"], after["contacts"]
    for index in range(max(len(old), len(new))):
        was = old[index] if index < len(old) else None
        now = new[index] if index < len(new) else None
        if was != now:
            lines.append(ChangeLine(f"kontakt {index + 1}", _contact_line(was), _contact_line(now)))
    return lines


def history() -> list[tuple[ProjectFactsVersion, list[ChangeLine]]]:
    """Newest first, each with what it changed against the version before it."""
    versions = db.session.scalars(select(ProjectFactsVersion).order_by(ProjectFactsVersion.id)).all()
    shown, before = [], None
    for version in versions:
        shown.append((version, change_lines(before, version.values)))
        before = version.values
    return shown[::-1]


def _save(values: dict, actor: User, action: str, restored_from: ProjectFactsVersion | None = None):
    with transaction():
        now = utcnow()
        latest = db.session.scalar(select(ProjectFactsVersion).order_by(ProjectFactsVersion.id.desc()).limit(1))
        before = latest.values if latest else _file_values()
        changes = change_lines(before, values)
        if not changes:
            raise FactsRefused("Tato verze je právě zveřejněná." if restored_from
                               else "Údaje se od zveřejněných ničím neliší.")
        if latest is None:
            db.session.add(ProjectFactsVersion(action="baseline", values=before, created_at=now))
            db.session.flush()
        version = ProjectFactsVersion(action=action, values=values, author=actor, restored_from=restored_from,
                                      created_at=now)
        db.session.add(version)
        db.session.flush()
        audit.record("project_facts.published", AUDIT_SUBJECT, actor,
                     fields=", ".join(dict.fromkeys(line.field for line in changes)))
    project.forget_edited()
    return version


def save(values: dict, actor: User) -> ProjectFactsVersion:
    """The pages, PDFs and e-mails show the new values from now on."""
    return _save(clean(values), actor, "edit")


def restore(version: ProjectFactsVersion, actor: User) -> ProjectFactsVersion:
    """An earlier version in force again, as a new version of its own."""
    return _save(dict(version.values), actor, "restore", restored_from=version)


def trail() -> list:
    return audit.trail(AUDIT_SUBJECT)
