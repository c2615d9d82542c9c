"""Reading terms for the back office: lists with fill rate, and where interest lies."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..catalogue.queries import TermRow
from ..collation import czech_key
from ..extensions import db
from ..models import InterestEntry, Offer, OfferKind, OfferStatus, Region, RegistrationState, Term
from ..paging import Page
from ..registration.service import registration_counts


def term_rows(starts_from: datetime | None = None, starts_before: datetime | None = None,
              newest_first: bool = False, lecturer_filter=None, page: int = 1,
              per_page: int | None = None, ends_from: datetime | None = None,
              ends_before: datetime | None = None) -> Page:
    """Terms of every state and access in a window, with their counts: one page of them (all when
    `per_page` is None), counted, cut and loaded by the database, so the list costs the same with
    years of terms behind it.

    `lecturer_filter` (access.term_filter: a WHERE clause) narrows the list to a lecturer's own terms.
    """
    where = []
    if starts_from is not None:
        where.append(Term.starts_at >= starts_from)
    if starts_before is not None:
        where.append(Term.starts_at < starts_before)
    if ends_from is not None:
        where.append(Term.ends_at >= ends_from)
    if ends_before is not None:
        where.append(Term.ends_at < ends_before)
    if lecturer_filter is not None:
        where.append(lecturer_filter)
    total = db.session.scalar(select(func.count()).select_from(Term).where(*where))
    size = per_page or max(total, 1)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    order = (Term.starts_at.desc(), Term.id.desc()) if newest_first else (Term.starts_at, Term.id)
    terms = db.session.scalars(
        select(Term).options(joinedload(Term.offer), joinedload(Term.region)).where(*where)
        .order_by(*order).offset((page - 1) * size).limit(size)
    ).unique().all()
    counts = registration_counts(t.id for t in terms)
    rows = [
        TermRow(t, c[RegistrationState.CONFIRMED], c[RegistrationState.WAITLISTED])
        for t in terms
        for c in [counts.get(t.id, Counter())]
    ]
    return Page(rows, page, size, total)


@dataclass
class InterestSummary:
    """The interest list of one planned workshop, counted per kraj."""

    offer: Offer
    per_region: list[tuple[Region, int, int]] = field(default_factory=list)  # (kraj, all, not yet told)

    @property
    def total(self) -> int:
        return sum(n for _, n, _ in self.per_region)

    @property
    def waiting(self) -> int:
        return sum(w for _, _, w in self.per_region)


def interest_by_region() -> list[InterestSummary]:
    """Every planned workshop, and any other with interest, with counts per kraj (most first); one grouped query.

    "Not yet told" counts people who have not had the e-mail about an opened
    term yet: where a term would reach new people.
    """
    # Running workshops collect interest too while they have no upcoming term.
    offers = db.session.scalars(
        select(Offer)
        .where(
            Offer.kind == OfferKind.WORKSHOP,
            (Offer.status == OfferStatus.PLANNED) | Offer.id.in_(select(InterestEntry.offer_id)),
        )
        .order_by(Offer.position)
    ).all()
    regions = {r.id: r for r in db.session.scalars(select(Region))}
    rows = db.session.execute(
        select(
            InterestEntry.offer_id,
            InterestEntry.region_id,
            func.count(),
            func.count(InterestEntry.id).filter(InterestEntry.notified_at.is_(None)),
        ).group_by(InterestEntry.offer_id, InterestEntry.region_id)
    ).all()
    by_offer: dict[int, list] = {}
    for offer_id, region_id, total, waiting in rows:
        by_offer.setdefault(offer_id, []).append((regions[region_id], total, waiting))
    summaries = []
    for offer in offers:
        per_region = sorted(by_offer.get(offer.id, []), key=lambda item: (-item[1], czech_key(item[0].name)))
        summaries.append(InterestSummary(offer, per_region))
    return summaries
