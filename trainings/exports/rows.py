"""The participant list of a term as rows, shared by the CSV and XLSX exports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Registration, RegistrationState, Term
from .roster import organisation, term_registrations
from ..timefmt import local


def attendance_label(attended: bool | None) -> str:
    # Nouns, not "přítomen/a": the person's gender is not known.
    return {True: "přítomnost", False: "neúčast", None: "nezapsáno"}[attended]


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # characters, for XLSX
    value: callable
    is_date: bool = False


def _local_naive(moment: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: the organiser reads Prague wall-clock time.
    return local(moment).replace(tzinfo=None) if moment else None


COLUMNS = [
    Column("Stav", 16, lambda r: r.state.label),
    Column("Jméno a příjmení", 28, lambda r: r.name),
    Column("E-mail", 30, lambda r: r.email),
    Column("Telefon", 16, lambda r: r.phone or ""),
    Column("Organizace", 34, organisation),
    Column("Typ zaměstnavatele", 18, lambda r: r.employer_type.label),
    Column("Pracovní pozice", 26, lambda r: r.job_title),
    Column("Kraj", 22, lambda r: r.region.name),
    Column("ORP", 22, lambda r: r.orp.name if r.orp else ""),
    Column("Přihlášeno", 17, lambda r: _local_naive(r.created_at), is_date=True),
    Column("Docházka", 14, lambda r: attendance_label(r.attended)),
    Column("Docházka zapsána", 17, lambda r: _local_naive(r.attendance_marked_at), is_date=True),
]


def participant_registrations(term: Term) -> list[Registration]:
    """Confirmed people first, then the waiting list in its order; cancelled ones are left out."""
    return term_registrations(term.id, states=[RegistrationState.CONFIRMED, RegistrationState.WAITLISTED])


def participant_rows(term: Term) -> list[list]:
    return [[column.value(r) for column in COLUMNS] for r in participant_registrations(term)]


def export_filename(term: Term, suffix: str, prefix: str = "prihlasky") -> str:
    return f"{prefix}-{local(term.starts_at):%Y-%m-%d}-termin-{term.id}.{suffix}"


def place_label(term: Term) -> str:
    if term.is_online:
        return "online"
    region = f" ({term.region.name})" if term.region else ""
    return f"{term.venue or ''}{region}"
