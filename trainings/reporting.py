"""Numbers for the project's reporting to the ministry.

Over a period (terms starting between two dates, Prague calendar days, both
included, and only those that have started by now: a report counts what took
place; cancelled terms left out) and per workshop, kraj, ORP and employer
type:

* terms: every term of the period, also one nobody signed up for,
* confirmed registrations,
* participants: registrations marked present (one person at two workshops
  counts twice; this is what ESF+ indicators call participations),
* unique persons: distinct e-mail addresses among those present.

The kraj and ORP are where the participant works (from her registration),
not where the term took place. Each breakdown is one grouped query over the
needed columns; months are Prague calendar months, told apart in SQL by their
boundaries (the same on SQLite and PostgreSQL).

A whole period is tens of thousands of registrations, and counting distinct
persons over them is what a report costs (a quarter of a second for 65 000 on
PostgreSQL, in one pass: `_in_one_pass`). The numbers change only
when a term or a registration of a term that has started does, or when another
term starts: `report_for` keeps each period's report, in each process, until one
of those moves (indexed queries tell; a sign-up for a term still to come is not
one), so viewing the same report again costs next to nothing.

Per person (a person is her e-mail address, as on Moje vzdělávání): the
workshops she was present at and their hours (`Term.length_hours`), for the
24 hours a year of zákon 108/2006 Sb., § 111. Tens of thousands of rows sorted
by Czech surname: only in the XLSX, never on a page.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, distinct, exists, func, literal, select, tuple_

from . import project as project_facts
from .collation import czech_key, person_key
from .exports.xlsx import workbook_of_sheets
from .extensions import db
from .models import EmployerType, Offer, Orp, Region, Registration, RegistrationState, Term, TermState, utcnow
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


@dataclass(frozen=True)
class PersonHours:
    name: str
    email: str
    place: str  # her ORP, or her kraj where she gave none
    workshops: int
    hours: float


@dataclass
class Report:
    period: Period
    totals: ReportRow
    by_workshop: list[ReportRow]
    by_region: list[ReportRow]
    by_orp: list[ReportRow]
    by_employer: list[ReportRow]
    by_month: list[ReportRow]


_present = Registration.attended.is_(True)
_MEASURES = (
    func.count(distinct(Term.id)),
    func.count(Registration.id),
    func.count(case((_present, Registration.id))),
    func.count(distinct(case((_present, Registration.email_normalized)))),
)


def _terms_of(period: Period, now: datetime):
    """The terms a report counts: scheduled, started in the period, and started by now."""
    start, end = period.bounds()
    return and_(Term.state == TermState.SCHEDULED, Term.starts_at >= start, Term.starts_at < end,
                Term.starts_at <= now)


def _base(period: Period, now: datetime, *keys):
    # From the terms, with their confirmed registrations joined on: a term nobody signed up
    # for still counts as a term (the breakdowns by the participant's place then drop it).
    return (
        select(*keys, *_MEASURES)
        .select_from(Term)
        .outerjoin(Registration, and_(Registration.term_id == Term.id,
                                      Registration.state == RegistrationState.CONFIRMED))
        .where(_terms_of(period, now))
    )


def _rows(stmt, label) -> list[ReportRow]:
    return [ReportRow(label(row[:-4]), *row[-4:]) for row in db.session.execute(stmt).all()]


def build_report(period: Period, now: datetime | None = None) -> Report:
    now = now or utcnow()
    months = _months(period, now)
    if db.session.get_bind().dialect.name == "postgresql":
        totals, breakdowns = _in_one_pass(period, now, months)
    else:
        totals, breakdowns = _grouped_apart(period, now, months)
    by_workshop, by_region, by_orp, by_employer, month_rows = breakdowns
    employer_order = [t.label for t in EmployerType]
    return Report(
        period=period,
        totals=totals,
        by_workshop=sorted(by_workshop, key=lambda r: czech_key(r.label)),
        by_region=sorted(by_region, key=lambda r: czech_key(r.label)),
        by_orp=sorted(by_orp, key=lambda r: czech_key(r.label)),
        by_employer=sorted(by_employer, key=lambda r: employer_order.index(r.label)),
        by_month=[ReportRow(label, *month_rows[i]) for i, (label, _) in enumerate(months) if i in month_rows],
    )


def month_of(months: list[tuple[str, datetime]]):
    """The index of a term's month in `months`, told apart in SQL by the months' boundaries."""
    return case(*((Term.starts_at < end, index) for index, (_, end) in enumerate(months)), else_=len(months))


def _orp_label(region: str, orp: str | None) -> str:
    return f"{orp} ({region})" if orp else f"bez ORP ({region})"


def _grouped_apart(period: Period, now: datetime, months) -> tuple:
    """Each breakdown its own grouped query (SQLite, which has no GROUPING SETS)."""
    totals = _rows(_base(period, now), lambda _: "Celkem")[0]
    by_workshop = _rows(
        _base(period, now, Offer.title).join(Offer, Offer.id == Term.offer_id).group_by(Offer.id, Offer.title),
        lambda key: key[0],
    )
    by_region = _rows(
        _base(period, now, Region.name).join(Region, Region.id == Registration.region_id)
        .group_by(Region.id, Region.name),
        lambda key: key[0],
    )
    by_orp = _rows(
        _base(period, now, Region.name, Orp.name)
        .join(Region, Region.id == Registration.region_id)
        .outerjoin(Orp, Orp.id == Registration.orp_id)
        .group_by(Region.id, Region.name, Orp.id, Orp.name),
        lambda key: _orp_label(*key),
    )
    by_employer = _rows(
        _base(period, now, Registration.employer_type).where(Registration.id.is_not(None))
        .group_by(Registration.employer_type),
        lambda key: EmployerType(key[0]).label,
    )
    month_rows = {}
    if months:  # no term yet: nothing to count, and a CASE without a WHEN is not SQL
        month = month_of(months)
        month_rows = {row[0]: row[1:] for row in db.session.execute(_base(period, now, month).group_by(month))}
    return totals, (by_workshop, by_region, by_orp, by_employer, month_rows)


# GROUPING(offer, month, region, orp, employer) of each grouping set: a bit set for each key left out.
_TOTAL, _WORKSHOP, _MONTH, _REGION, _ORP, _EMPLOYER = 0b11111, 0b01111, 0b10111, 0b11011, 0b11001, 0b11110


def _in_one_pass(period: Period, now: datetime, months) -> tuple:
    """Every breakdown from one pass over the period's rows (PostgreSQL's GROUPING SETS): the join
    of terms and registrations is made once instead of six times, and each person is numbered
    once (by her address's bytes, "C", the quickest order; the same equality as the default), so
    the six counts of distinct persons compare integers, not addresses. The numbers are those of
    `_grouped_apart` (tests/test_reports.py compares them): each set groups what its query groups,
    and the sets by the participant's place or employer leave out the terms nobody signed up for
    (their row has no kraj or employer), as the inner joins there do."""
    present = Registration.attended.is_(True)
    row = (
        select(Term.id.label("term"), Term.offer_id.label("offer"),
               (month_of(months) if months else literal(0)).label("month"),
               Registration.id.label("registration"), Registration.region_id.label("region"),
               Registration.orp_id.label("orp"), Registration.employer_type.label("employer"),
               present.label("present"),
               func.dense_rank().over(order_by=Registration.email_normalized.collate("C")).label("person"))
        .select_from(Term)
        .outerjoin(Registration, and_(Registration.term_id == Term.id,
                                      Registration.state == RegistrationState.CONFIRMED))
        .where(_terms_of(period, now))
        .subquery()
    ).c
    keys = (row.offer, row.month, row.region, row.orp, row.employer)
    counted = (
        select(func.grouping(*keys).label("kind"), *keys,
               func.count(distinct(row.term)), func.count(row.registration),
               func.count(row.registration).filter(row.present),
               func.count(distinct(row.person)).filter(row.present))
        .group_by(func.grouping_sets(tuple_(), tuple_(row.offer), tuple_(row.month), tuple_(row.region),
                                     tuple_(row.region, row.orp), tuple_(row.employer)))
        .subquery()
    )
    rows = db.session.execute(
        select(counted, Offer.title, Region.name, Orp.name)
        .outerjoin(Offer, Offer.id == counted.c.offer)
        .outerjoin(Region, Region.id == counted.c.region)
        .outerjoin(Orp, Orp.id == counted.c.orp)
    ).all()
    totals = ReportRow("Celkem", 0, 0, 0, 0)
    by_workshop, by_region, by_orp, by_employer, month_rows = [], [], [], [], {}
    for kind, _, month_index, region_id, _, employer_type, *numbers, title, region_name, orp_name in rows:
        if kind == _TOTAL:
            totals = ReportRow("Celkem", *numbers)
        elif kind == _WORKSHOP:
            by_workshop.append(ReportRow(title, *numbers))
        elif kind == _MONTH:
            month_rows[month_index] = tuple(numbers)
        elif region_id is None and employer_type is None:
            continue  # terms nobody signed up for: no participant's place or employer to count them under
        elif kind == _REGION:
            by_region.append(ReportRow(region_name, *numbers))
        elif kind == _ORP:
            by_orp.append(ReportRow(_orp_label(region_name, orp_name), *numbers))
        elif kind == _EMPLOYER:
            by_employer.append(ReportRow(EmployerType(employer_type).label, *numbers))
    return totals, (by_workshop, by_region, by_orp, by_employer, month_rows)


MONTH_NAMES = ("leden", "únor", "březen", "duben", "květen", "červen",
               "červenec", "srpen", "září", "říjen", "listopad", "prosinec")


def _months(period: Period, now: datetime) -> list[tuple[str, datetime]]:
    """("leden 2026", the first moment after it) for every Prague calendar month of the period that
    can hold a term counted: from the first term there is to now (a period typed as 1900–2100
    must not become three thousand months)."""
    first = db.session.scalar(select(func.min(Term.starts_at)))
    if first is None:
        return []
    start = max(period.start, first.astimezone(PRAGUE).date())
    end = min(period.end, now.astimezone(PRAGUE).date())
    months, day = [], date(start.year, start.month, 1)
    while day <= end:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        months.append((f"{MONTH_NAMES[day.month - 1]} {day.year}", datetime.combine(following, time(0), PRAGUE)))
        day = following
    return months


# --- the same report again, while nothing it counts has changed --------------------------------

class Kept:
    """The latest result of each scope (a period, a kraj's year), shared by a process's threads,
    with the `data_version` it was made at: kept while that stays the same, or while
    `still_holds(made_at, now_at)` says what moved changes none of its numbers."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple, tuple[tuple, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, scope: tuple, version: tuple, make, still_holds=None):
        with self._lock:
            kept = self._items.get(scope)
            if kept is not None:
                self._items.move_to_end(scope)
        if kept is not None:
            made_at, result = kept
            if made_at == version:
                return result
            if still_holds is not None and still_holds(made_at, version):
                self._keep(scope, version, result)
                return result
        made = make()
        self._keep(scope, version, made)
        return made

    def _keep(self, scope: tuple, version: tuple, result) -> None:
        with self._lock:
            self._items[scope] = (version, result)
            self._items.move_to_end(scope)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_reports = Kept(32)


def data_version(period: Period, now: datetime) -> tuple:
    """What numbers over a period depend on besides the period: the latest change of any term or
    registration (rows are never deleted, every change sets updated_at), the latest term of the
    period that has started by now, and the latest edit of a workshop's title. Indexed maxima: a millisecond however much data."""
    start, end = period.bounds()
    started = and_(Term.starts_at >= start, Term.starts_at < end, Term.starts_at <= now)
    return tuple(db.session.execute(select(
        select(func.max(Term.updated_at)).scalar_subquery(),
        select(func.max(Registration.updated_at)).scalar_subquery(),
        select(func.max(Term.starts_at)).where(started).scalar_subquery(),
        # Rows are labelled with the workshops' titles, which the back office edits.
        select(func.max(Offer.edited_at)).scalar_subquery(),
    )).one())


# A transaction stamps updated_at when it writes and commits a moment later, so a change can
# become visible after a later-stamped one; changes this much older than the latest seen are
# looked at again. (Statements are limited to seconds and idle transactions to a minute.)
LATE_COMMIT = timedelta(minutes=5)


def counted_alike(made_at: tuple, version: tuple, now: datetime) -> bool:
    """Whether numbers made at `data_version` `made_at` still hold at `version`: nothing but
    registrations moved, and none of those that moved since is on a term that has started. A
    sign-up for a term still to come changes no report (it counts only terms that started), and
    sign-ups are most of what moves, so they no longer throw the numbers away. One indexed look at
    the registrations changed since."""
    terms, registrations, started, titles = made_at
    if registrations is None or (terms, started, titles) != (version[0], version[2], version[3]):
        return False
    return not db.session.scalar(select(exists().where(
        Registration.updated_at > registrations - LATE_COMMIT,
        Term.id == Registration.term_id, Term.starts_at <= now,
    )))


def report_for(period: Period, now: datetime | None = None) -> Report:
    """`build_report`, kept while nothing it counts has changed (see the module's docstring)."""
    now = now or utcnow()
    return _reports.get_or_make((period,), data_version(period, now), lambda: build_report(period, now),
                                lambda made_at, version: counted_alike(made_at, version, now))


def hours_per_person(period: Period, now: datetime | None = None) -> list[PersonHours]:
    """Everyone present at a term of the period, with her workshops and hours, by surname in Czech
    order. Her name and place are those of her latest registration (people retype them).

    Summed by the database, one row a person: a whole period holds tens of thousands of
    attendances, too many to load as objects for a page."""
    present = (
        select(
            Registration.email_normalized.label("person"), Registration.name, Registration.email,
            Registration.orp_id, Registration.region_id, Term.length_hours.label("hours"),
            func.row_number().over(partition_by=Registration.email_normalized,
                                   order_by=(Term.starts_at.desc(), Registration.id.desc())).label("recency"),
        )
        .join(Term, Term.id == Registration.term_id)
        .where(_terms_of(period, now or utcnow()), Registration.state == RegistrationState.CONFIRMED, _present)
        .subquery()
    )
    totals = (
        select(present.c.person, func.count().label("workshops"), func.sum(present.c.hours).label("hours"))
        .group_by(present.c.person)
        .subquery()
    )
    rows = db.session.execute(
        select(present.c.name, present.c.email, Orp.name, Region.name, totals.c.workshops, totals.c.hours)
        .join(totals, totals.c.person == present.c.person)
        .join(Region, Region.id == present.c.region_id)
        .outerjoin(Orp, Orp.id == present.c.orp_id)
        .where(present.c.recency == 1)
    ).all()
    people = [
        PersonHours(name=name, email=email, place=orp or f"bez ORP ({region})", workshops=workshops,
                    hours=round(float(hours), 2))
        for name, email, orp, region, workshops, hours in rows
    ]
    return sorted(people, key=lambda p: (person_key(p.name), p.email))


BREAKDOWNS = [
    ("by_workshop", "Podle workshopů", "Workshop"),
    ("by_region", "Podle krajů", "Kraj (pracoviště)"),
    ("by_orp", "Podle ORP", "ORP (kraj)"),
    ("by_employer", "Podle zaměstnavatele", "Typ zaměstnavatele"),
    ("by_month", "Podle měsíců", "Měsíc (začátek termínu)"),
]
COLUMN_TITLES = ["Termíny", "Potvrzené přihlášky", "Účastníci (přítomní)", "Unikátní osoby"]
PERSON_TITLE = "Hodiny podle osob"
PERSON_COLUMNS = ["Jméno", "E-mail", "ORP", "Workshopy", "Hodiny"]


def report_xlsx(report: Report, people: list[PersonHours]) -> bytes:
    project = project_facts.facts()
    summary = [
        ["Spolufinancováno Evropskou unií", ""],
        ["Projekt", project["name"]],
        ["Registrační číslo", project["reg_no"]],
        ["Období (termíny, které v něm už začaly)", report.period.label],
        ["Termíny", report.totals.terms],
        ["Potvrzené přihlášky", report.totals.confirmed],
        ["Účastníci (přítomní)", report.totals.participants],
        ["Unikátní osoby", report.totals.unique_persons],
    ]
    sheets = [("Souhrn", ["Údaj", "Hodnota"], [30, 80], summary)]
    for attribute, title, key_title in BREAKDOWNS:
        rows = [[r.label, r.terms, r.confirmed, r.participants, r.unique_persons] for r in getattr(report, attribute)]
        sheets.append((title, [key_title, *COLUMN_TITLES], [50, 10, 20, 20, 16], rows))
    rows = [[p.name, p.email, p.place, p.workshops, p.hours] for p in people]
    sheets.append((PERSON_TITLE, PERSON_COLUMNS, [30, 34, 26, 12, 10], rows))
    return workbook_of_sheets(sheets)
