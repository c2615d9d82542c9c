"""Numbers for the project's reporting to the ministry.

Over a period (terms starting between two dates, Prague calendar days, both
included; cancelled terms left out) and per workshop, kraj, ORP and employer
type:

* confirmed registrations,
* participants: registrations marked present (one person at two workshops
  counts twice; this is what ESF+ indicators call participations),
* unique persons: distinct e-mail addresses among those present.

The kraj and ORP are where the participant works (from her registration),
not where the term took place. Each breakdown is one grouped query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, distinct, func, select

from .catalogue.seed import catalogue_document
from .collation import czech_key
from .exports.xlsx import workbook_of_sheets
from .extensions import db
from .models import EmployerType, Offer, Orp, Region, Registration, RegistrationState, Term, TermState
from .timefmt import PRAGUE


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time(0), PRAGUE),
            datetime.combine(self.end + timedelta(days=1), time(0), PRAGUE),
        )

    @property
    def label(self) -> str:
        def czech(day: date) -> str:
            return f"{day.day}. {day.month}. {day.year}"

        return f"{czech(self.start)} – {czech(self.end)}"


@dataclass(frozen=True)
class ReportRow:
    label: str
    terms: int
    confirmed: int
    participants: int
    unique_persons: int


@dataclass
class Report:
    period: Period
    totals: ReportRow
    by_workshop: list[ReportRow]
    by_region: list[ReportRow]
    by_orp: list[ReportRow]
    by_employer: list[ReportRow]


_present = Registration.attended.is_(True)
_MEASURES = (
    func.count(distinct(Term.id)),
    func.count(Registration.id),
    func.count(case((_present, Registration.id))),
    func.count(distinct(case((_present, Registration.email_normalized)))),
)


def _base(period: Period, *keys):
    start, end = period.bounds()
    return (
        select(*keys, *_MEASURES)
        .select_from(Registration)
        .join(Term, Term.id == Registration.term_id)
        .where(
            Term.state == TermState.SCHEDULED,
            Term.starts_at >= start,
            Term.starts_at < end,
            Registration.state == RegistrationState.CONFIRMED,
        )
    )


def _rows(stmt, label) -> list[ReportRow]:
    return [ReportRow(label(row[:-4]), *row[-4:]) for row in db.session.execute(stmt).all()]


def build_report(period: Period) -> Report:
    totals = _rows(_base(period), lambda _: "Celkem")[0]

    by_workshop = _rows(
        _base(period, Offer.title).join(Offer, Offer.id == Term.offer_id).group_by(Offer.id, Offer.title),
        lambda key: key[0],
    )
    by_region = _rows(
        _base(period, Region.name).join(Region, Region.id == Registration.region_id).group_by(Region.id, Region.name),
        lambda key: key[0],
    )
    by_orp = _rows(
        _base(period, Region.name, Orp.name)
        .join(Region, Region.id == Registration.region_id)
        .outerjoin(Orp, Orp.id == Registration.orp_id)
        .group_by(Region.id, Region.name, Orp.id, Orp.name),
        lambda key: f"{key[1]} ({key[0]})" if key[1] else f"bez ORP ({key[0]})",
    )
    by_employer = _rows(
        _base(period, Registration.employer_type).group_by(Registration.employer_type),
        lambda key: EmployerType(key[0]).label,
    )
    employer_order = [t.label for t in EmployerType]
    return Report(
        period=period,
        totals=totals,
        by_workshop=sorted(by_workshop, key=lambda r: czech_key(r.label)),
        by_region=sorted(by_region, key=lambda r: czech_key(r.label)),
        by_orp=sorted(by_orp, key=lambda r: czech_key(r.label)),
        by_employer=sorted(by_employer, key=lambda r: employer_order.index(r.label)),
    )


BREAKDOWNS = [
    ("by_workshop", "Podle workshopů", "Workshop"),
    ("by_region", "Podle krajů", "Kraj (pracoviště)"),
    ("by_orp", "Podle ORP", "ORP (kraj)"),
    ("by_employer", "Podle zaměstnavatele", "Typ zaměstnavatele"),
]
COLUMN_TITLES = ["Termíny", "Potvrzené přihlášky", "Účastníci (přítomní)", "Unikátní osoby"]


def report_xlsx(report: Report) -> bytes:
    project = catalogue_document()["project"]
    summary = [
        ["Spolufinancováno Evropskou unií", ""],
        ["Projekt", project["name"]],
        ["Registrační číslo", project["reg_no"]],
        ["Období (začátek termínu)", report.period.label],
        ["Termíny", report.totals.terms],
        ["Potvrzené přihlášky", report.totals.confirmed],
        ["Účastníci (přítomní)", report.totals.participants],
        ["Unikátní osoby", report.totals.unique_persons],
    ]
    sheets = [("Souhrn", ["Údaj", "Hodnota"], [30, 80], summary)]
    for attribute, title, key_title in BREAKDOWNS:
        rows = [[r.label, r.terms, r.confirmed, r.participants, r.unique_persons] for r in getattr(report, attribute)]
        sheets.append((title, [key_title, *COLUMN_TITLES], [50, 10, 20, 20, 16], rows))
    return workbook_of_sheets(sheets)
