"""Reading the catalogue: offers, upcoming public terms, free seats, filters."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Offer, OfferKind, OfferStatus, Registration, RegistrationState, Term, TermForm, TermState, utcnow
from ..collation import fold
from ..paging import Page
from ..registration.service import SeatUsage, registration_counts
from ..timefmt import PRAGUE


@dataclass
class TermFilter:
    form: TermForm | None = None
    region_id: int | None = None
    month: date | None = None  # first day of the month
    free_only: bool = False
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.form or self.region_id or self.month or self.free_only or self.text)


@dataclass
class TermRow:
    """A term with its free seats, as listing pages show it."""

    term: Term
    confirmed: int
    waitlisted: int = 0

    @property
    def fill_rate(self) -> int:
        """Percent of seats taken, for the back office."""
        return round(100 * self.confirmed / self.term.capacity) if self.term.capacity else 100

    @property
    def usage(self) -> SeatUsage:
        # A listing counts by state only; the per-ORP counts matter to a sign-up, which reads seat_usage.
        return SeatUsage(self.term.capacity, self.term.per_orp_limit, self.confirmed, Counter(), self.waitlisted)

    @property
    def free(self) -> int:
        return self.usage.free

    @property
    def is_open(self) -> bool:
        return self.term.is_open()


def matches_text(offer: Offer, text: str) -> bool:
    """Every word found, without regard to case or diacritics: "ipod" finds "IPOD", "vyhodnocovani" "Vyhodnocování"."""
    haystack = fold(" ".join(filter(None, [offer.title, offer.summary, offer.description, offer.code])))
    return all(word in haystack for word in fold(text).split())


def offers_of_kind(kind: OfferKind) -> list[Offer]:
    """The public catalogue's offers of a kind: withdrawn ones left out."""
    return db.session.scalars(
        select(Offer).where(Offer.kind == kind, Offer.withdrawn_at.is_(None)).order_by(Offer.position)
    ).all()


def offer_by_slug(slug: str) -> Offer | None:
    """Any offer, withdrawn ones too: their terms' feeds stay valid."""
    return db.session.scalars(select(Offer).where(Offer.slug == slug)).one_or_none()


def listed_offer_by_slug(slug: str) -> Offer | None:
    """An offer of the public catalogue; a withdrawn one is not found."""
    found = offer_by_slug(slug)
    return found if found is not None and found.withdrawn_at is None else None


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month, time(0), PRAGUE)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime.combine(following, time(0), PRAGUE)


def _upcoming(stmt, flt: TermFilter, offer: Offer | None, now: datetime, include_closed: bool):
    """`stmt` narrowed to scheduled terms that have not started yet and match the filter, in SQL,
    so a page can take the first few of thousands without loading the rest."""
    stmt = stmt.where(Term.state == TermState.SCHEDULED, Term.starts_at > now)
    if not include_closed:
        stmt = stmt.where(Term.public.is_(True))
    if offer is not None:
        stmt = stmt.where(Term.offer_id == offer.id)
    else:
        # A withdrawn workshop's terms leave the lists with it (its own page is gone too).
        stmt = stmt.where(Term.offer_withdrawn_at.is_(None))
    if flt.form:
        stmt = stmt.where(Term.form == flt.form)
    if flt.region_id:
        # Online terms are open to every kraj.
        stmt = stmt.where((Term.region_id == flt.region_id) | (Term.form == TermForm.ONLINE))
    if flt.month:
        start, end = _month_bounds(flt.month)
        stmt = stmt.where(Term.starts_at >= start, Term.starts_at < end)
    if flt.text:
        # Few offers, matched in Python (Czech folding); their terms then in SQL.
        offers = offers_of_kind(OfferKind.WORKSHOP)
        stmt = stmt.where(Term.offer_id.in_([o.id for o in offers if matches_text(o, flt.text)]))
    if flt.free_only:
        stmt = stmt.where(Term.is_open(now), _has_free_seat())
    return stmt


def _has_free_seat():
    """SeatUsage.free > 0 in SQL: fewer confirmed registrations than seats."""
    confirmed = (
        select(func.count()).select_from(Registration)
        .where(Registration.term_id == Term.id, Registration.state == RegistrationState.CONFIRMED)
        .scalar_subquery()
    )
    return Term.capacity > confirmed


def _rows(terms: list[Term]) -> list[TermRow]:
    counts = registration_counts(t.id for t in terms)
    return [
        TermRow(t, c[RegistrationState.CONFIRMED], c[RegistrationState.WAITLISTED])
        for t in terms
        for c in [counts.get(t.id, Counter())]
    ]


def upcoming_terms(
    flt: TermFilter | None = None, offer: Offer | None = None, now=None, include_closed: bool = False
) -> list[TermRow]:
    """Scheduled terms that have not started yet, with free seats; public ones unless asked."""
    stmt = _upcoming(select(Term), flt or TermFilter(), offer, now or utcnow(), include_closed)
    terms = db.session.scalars(
        stmt.options(joinedload(Term.offer), joinedload(Term.region)).order_by(Term.starts_at, Term.id)
    ).unique().all()
    return _rows(terms)


def upcoming_page(flt: TermFilter, offer: Offer | None, number: int, size: int, now=None) -> Page:
    """One page of `upcoming_terms`, counted and cut by the database (the API pages through them)."""
    now = now or utcnow()
    total = db.session.scalar(_upcoming(select(func.count(Term.id)), flt, offer, now, False))
    terms = db.session.scalars(
        _upcoming(select(Term), flt, offer, now, False)
        .options(joinedload(Term.offer), joinedload(Term.region))
        .order_by(Term.starts_at, Term.id).offset((number - 1) * size).limit(size)
    ).unique().all()
    return Page(_rows(terms), number, size, total)


@dataclass
class FirstTerms:
    """The first few matching terms of each workshop, and how many match in all."""

    rows_by_offer: dict[int, list[TermRow]]
    total_by_offer: dict[int, int]

    def more(self, offer_id: int) -> int:
        return self.total_by_offer.get(offer_id, 0) - len(self.rows_by_offer.get(offer_id, []))


def first_terms(flt: TermFilter, per_offer: int, now=None) -> FirstTerms:
    """The catalogue's view of thousands of terms: the next `per_offer` of each workshop that match
    the filter, counted and ranked by the database."""
    ranked = _upcoming(
        select(
            Term.id.label("term_id"),
            func.row_number().over(partition_by=Term.offer_id, order_by=(Term.starts_at, Term.id)).label("rank"),
            func.count().over(partition_by=Term.offer_id).label("total"),
        ),
        flt, None, now or utcnow(), False,
    ).subquery()
    found = db.session.execute(
        select(Term, ranked.c.total)
        .join(ranked, ranked.c.term_id == Term.id)
        .where(ranked.c.rank <= per_offer)
        .options(joinedload(Term.region))
        .order_by(Term.starts_at, Term.id)
    ).all()
    totals = {term.offer_id: total for term, total in found}
    rows_by_offer: dict[int, list[TermRow]] = defaultdict(list)
    for row in _rows([term for term, _ in found]):
        rows_by_offer[row.term.offer_id].append(row)
    return FirstTerms(rows_by_offer, totals)


def upcoming_months(now=None, count: int = 12) -> list[date]:
    today = (now or utcnow()).astimezone(PRAGUE).date()
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def workshops(status: OfferStatus) -> list[Offer]:
    return db.session.scalars(
        select(Offer)
        .where(Offer.kind == OfferKind.WORKSHOP, Offer.status == status, Offer.withdrawn_at.is_(None))
        .order_by(Offer.position)
    ).all()
