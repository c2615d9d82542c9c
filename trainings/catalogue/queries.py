"""Reading the catalogue: offers, upcoming public terms, free seats, filters."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Offer, OfferKind, OfferStatus, RegistrationState, Term, TermForm, TermState, utcnow
from ..collation import fold
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
    return db.session.scalars(select(Offer).where(Offer.kind == kind).order_by(Offer.position)).all()


def offer_by_slug(slug: str) -> Offer | None:
    return db.session.scalars(select(Offer).where(Offer.slug == slug)).one_or_none()


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month, time(0), PRAGUE)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime.combine(following, time(0), PRAGUE)


def upcoming_terms(
    flt: TermFilter | None = None, offer: Offer | None = None, now=None, include_closed: bool = False
) -> list[TermRow]:
    """Scheduled terms that have not started yet, with free seats; public ones unless asked."""
    flt = flt or TermFilter()
    now = now or utcnow()
    stmt = (
        select(Term)
        .options(joinedload(Term.offer), joinedload(Term.region))
        .where(Term.state == TermState.SCHEDULED, Term.starts_at > now)
        .order_by(Term.starts_at, Term.id)
    )
    if not include_closed:
        stmt = stmt.where(Term.public.is_(True))
    if offer is not None:
        stmt = stmt.where(Term.offer_id == offer.id)
    if flt.form:
        stmt = stmt.where(Term.form == flt.form)
    if flt.region_id:
        # Online terms are open to every kraj.
        stmt = stmt.where((Term.region_id == flt.region_id) | (Term.form == TermForm.ONLINE))
    if flt.month:
        start, end = _month_bounds(flt.month)
        stmt = stmt.where(Term.starts_at >= start, Term.starts_at < end)
    terms = db.session.scalars(stmt).unique().all()
    if flt.text:
        terms = [t for t in terms if matches_text(t.offer, flt.text)]
    counts = registration_counts(t.id for t in terms)
    rows = [
        TermRow(t, c[RegistrationState.CONFIRMED], c[RegistrationState.WAITLISTED])
        for t in terms
        for c in [counts.get(t.id, Counter())]
    ]
    if flt.free_only:
        rows = [r for r in rows if r.free > 0 and r.is_open]
    return rows


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
        .where(Offer.kind == OfferKind.WORKSHOP, Offer.status == status)
        .order_by(Offer.position)
    ).all()
