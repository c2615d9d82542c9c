"""Attended workshops and their hours per calendar year (who gets an osvědčení: certificates.rule).

Social workers must complete 24 hours of further training a calendar year
(zákon č. 108/2006 Sb., o sociálních službách, § 111). People have no
accounts here: a person is her normalised e-mail address, so the private
page of any of her registrations lists everything that address attended.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import czech
from ..extensions import db
from ..models import Registration, RegistrationState, Term, TermState
from ..timefmt import local

YEARLY_HOURS = 24


def attended_registrations(email_normalized: str) -> list[Registration]:
    """Every registration of this person marked present on a term not cancelled, oldest first (the hours
    she attended; each one's osvědčení is `certificates.rule.can_issue`)."""
    return db.session.scalars(
        select(Registration)
        .join(Term, Term.id == Registration.term_id)
        .options(joinedload(Registration.term).joinedload(Term.offer))
        .where(
            Registration.email_normalized == email_normalized,
            Registration.attended.is_(True),
            Registration.state == RegistrationState.CONFIRMED,
            Term.state == TermState.SCHEDULED,
        )
        .order_by(Term.starts_at, Registration.id)
    ).all()


@dataclass
class YearHours:
    year: int
    registrations: list[Registration] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return round(sum(r.term.length_hours for r in self.registrations), 2)

    @property
    def remaining(self) -> float:
        return max(round(YEARLY_HOURS - self.hours, 2), 0)

    @property
    def complete(self) -> bool:
        return self.hours >= YEARLY_HOURS


def hours_by_year(registrations: list[Registration]) -> list[YearHours]:
    """Hours summed per calendar year of the term's start in Prague, newest year first."""
    years: dict[int, YearHours] = {}
    for registration in registrations:
        year = local(registration.term.starts_at).year
        years.setdefault(year, YearHours(year)).registrations.append(registration)
    return [years[year] for year in sorted(years, reverse=True)]


def format_hours(hours: float) -> str:
    """Czech number and noun: "1 hodina", "3,5 hodiny", "24 hodin"."""
    return czech.hours(hours)
