"""Kde jsme byli / bílá místa: where in one kraj this year's participants come from.

Every ORP of the kraj (in Prague its 22 districts, which play the ORP's role) with the number
of participants from it this year, so the ORP nobody came from yet — the white spots the
coordinator should reach — stand out; and the same participants by month and by workshop.

"Participants" are counted as in the ministry report (trainings/reporting.py): confirmed
registrations marked present at terms that were not cancelled and started this year, by now
(Prague calendar year). The place is where the participant works (her registration), not where
the term was held.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select

from .collation import czech_key
from .exports.xlsx import workbook_of_sheets
from .extensions import db
from .models import Offer, Orp, Region, Registration, RegistrationState, Term, TermState, utcnow
from .reporting import MONTH_NAMES, Kept, Period, counted_alike, data_version, month_of
from .timefmt import PRAGUE



@dataclass(frozen=True)
class Count:
    label: str
    participants: int


@dataclass(frozen=True)
class Coverage:
    region: Region
    year: int
    places: list[Count]  # every ORP of the kraj, in Czech order (Praha 1 … Praha 22 by number)
    without_orp: int  # participants from the kraj who gave no ORP (a krajský úřad, say)
    by_month: list[Count]  # January to December, months with none included
    by_workshop: list[Count]  # workshops with a participant from the kraj, in Czech order

    @property
    def total(self) -> int:
        return sum(p.participants for p in self.places) + self.without_orp

    @property
    def white_spots(self) -> list[Count]:
        return [p for p in self.places if p.participants == 0]


def _participants_of(region: Region, year: int, now: datetime):
    start = datetime(year, 1, 1, tzinfo=PRAGUE)
    end = datetime(year + 1, 1, 1, tzinfo=PRAGUE)
    return and_(
        Term.state == TermState.SCHEDULED, Term.starts_at >= start, Term.starts_at < end, Term.starts_at <= now,
        Registration.state == RegistrationState.CONFIRMED, Registration.attended.is_(True),
        Registration.region_id == region.id,
    )


_kept = Kept(32)


def coverage_for(region: Region, now: datetime | None = None) -> Coverage:
    """`coverage`, kept while nothing it counts has changed, as the reports are."""
    now = now or utcnow()
    year = now.astimezone(PRAGUE).year
    version = data_version(Period(date(year, 1, 1), date(year, 12, 31)), now)
    return _kept.get_or_make((region.id, year), version, lambda: coverage(region, now),
                             lambda made_at, version: counted_alike(made_at, version, now))


def coverage(region: Region, now: datetime | None = None) -> Coverage:
    """This year's participants from `region`, by ORP, month and workshop."""
    now = now or utcnow()
    year = now.astimezone(PRAGUE).year
    participants = _participants_of(region, year, now)

    # One grouped query, by the participant's ORP, month and workshop: a few hundred rows a year
    # whatever the number of terms, summed three ways here. Months are Prague calendar months,
    # told apart in SQL by their boundaries (the same on SQLite and PostgreSQL).
    month = month_of([(name, datetime(year + number // 12, number % 12 + 1, 1, tzinfo=PRAGUE))
                      for number, name in enumerate(MONTH_NAMES, start=1)])
    rows = db.session.execute(
        select(Registration.orp_id, month, Offer.id, Offer.title, func.count())
        .select_from(Registration).join(Term, Term.id == Registration.term_id).join(Offer, Offer.id == Term.offer_id)
        .where(participants).group_by(Registration.orp_id, month, Offer.id, Offer.title)
    ).all()
    per_orp: Counter[int | None] = Counter()
    months: Counter[int] = Counter()
    workshops: Counter[tuple[int, str]] = Counter()
    for orp_id, month_index, offer_id, title, n in rows:
        per_orp[orp_id] += n
        months[month_index + 1] += n
        workshops[(offer_id, title)] += n
    orps = db.session.execute(select(Orp.id, Orp.name).where(Orp.region_id == region.id)).all()
    places = sorted((Count(name, per_orp[orp_id]) for orp_id, name in orps), key=lambda c: czech_key(c.label))
    # A registration's ORP belongs to its kraj (the sign-up form checks it); anything else counts as none.
    without_orp = sum(n for orp_id, n in per_orp.items() if orp_id not in {o for o, _ in orps})
    by_month = [Count(name, months[number]) for number, name in enumerate(MONTH_NAMES, start=1)]
    by_workshop = sorted((Count(title, n) for (_, title), n in workshops.items()), key=lambda c: czech_key(c.label))
    return Coverage(region=region, year=year, places=places, without_orp=without_orp,
                    by_month=by_month, by_workshop=by_workshop)


def coverage_xlsx(report: Coverage) -> bytes:
    """The page's three tables, one sheet each."""
    place_title = "Městská část" if report.region.code == "CZ010" else "ORP"
    places = [[p.label, p.participants, "bílé místo" if p.participants == 0 else ""] for p in report.places]
    if report.without_orp:
        places.append(["bez uvedeného ORP", report.without_orp, ""])
    return workbook_of_sheets([
        (f"{place_title} {report.year}", [place_title, "Účastníci", "Poznámka"], [34, 12, 14], places),
        ("Podle měsíců", ["Měsíc", "Účastníci"], [16, 12], [[m.label, m.participants] for m in report.by_month]),
        ("Podle workshopů", ["Workshop", "Účastníci"], [60, 12],
         [[w.label, w.participants] for w in report.by_workshop]),
    ])
