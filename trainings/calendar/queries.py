"""What each calendar feed holds, and when that last changed (for Last-Modified)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Offer, Region, Registration, RegistrationState, Term, TermForm, TermState

# Cancelled terms stay this long so subscribers see the cancellation; past
# terms too, because a subscribed calendar deletes whatever leaves the feed and
# people want last week's workshop still in theirs.
KEEP_FOR = timedelta(days=30)
# How far ahead the public feeds reach: half a year is more than anyone plans a workshop ahead,
# and the catalogue lists everything further. A subscribed calendar polls hourly, so a term
# appears as the horizon reaches it. (The personal feeds hold all of the person's terms.)
AHEAD = timedelta(days=183)


def all_public() -> object:
    return Term.public.is_(True)


def of_offer(offer: Offer) -> object:
    return and_(Term.public.is_(True), Term.offer_id == offer.id)


def of_region(region: Region) -> object:
    # Online terms are open to every kraj.
    return and_(
        Term.public.is_(True),
        or_(and_(Term.form == TermForm.IN_PERSON, Term.region_id == region.id), Term.form == TermForm.ONLINE),
    )


def _term_shown(cutoff: datetime, until: datetime | None = None):
    shown = or_(
        and_(Term.state == TermState.SCHEDULED, Term.ends_at > cutoff),
        and_(Term.state == TermState.CANCELLED, Term.cancelled_at > cutoff),
    )
    return shown if until is None else and_(Term.starts_at <= until, shown)


def _latest(*values: datetime | None, left: tuple[datetime | None, ...] = (),
            entered: datetime | None = None) -> datetime | None:
    """The newest change: an edit, the moment an item aged out of the feed, or the moment the
    horizon reached the latest term in it.

    Ageing out and coming within the horizon change the feed without touching any row, so
    without them an If-Modified-Since client would keep a term that is gone, or miss one.
    """
    moments = [v for v in values if v is not None] + [v + KEEP_FOR for v in left if v is not None]
    if entered is not None:
        moments.append(entered - AHEAD)
    return max(moments, default=None)


def feed_version(scope, now: datetime) -> tuple:
    """Everything the feed's content depends on besides the rows' own columns, in one aggregate:
    the latest edit in scope, the latest term that aged out, and the latest start within the
    horizon. While it is the same, the feed is the same."""
    cutoff, until = now - KEEP_FOR, now + AHEAD
    # Over every term in scope, shown or not: a term made closed changes the feed too.
    return tuple(db.session.execute(
        select(
            func.max(Term.updated_at),
            func.max(case((and_(Term.state == TermState.SCHEDULED, Term.ends_at <= cutoff), Term.ends_at))),
            func.max(case((and_(Term.state == TermState.CANCELLED, Term.cancelled_at <= cutoff), Term.cancelled_at))),
            func.max(case((Term.starts_at <= until, Term.starts_at))),
            # A workshop's title is in every event of its terms: a published edit is a change too.
            select(func.max(Offer.edited_at)).scalar_subquery(),
        ).where(scope)
    ).one())


def last_change(version: tuple) -> datetime | None:
    """When the feed of this `feed_version` last changed (its Last-Modified)."""
    updated, ended, cancelled, entered, retitled = version
    return _latest(updated, retitled, left=(ended, cancelled), entered=entered)


@dataclass(frozen=True)
class Named:
    title: str | None = None
    slug: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class FeedTerm:
    """What a public feed shows of a term, read as plain columns (no ORM objects: a feed holds a
    thousand of them); the attributes `ics` reads from a Term."""
    id: int
    starts_at: datetime
    ends_at: datetime
    form: TermForm
    venue: str | None
    lecturer: str | None
    state: TermState
    sequence: int
    updated_at: datetime | None
    offer: Named
    region: Named | None

    @property
    def is_online(self) -> bool:
        return self.form == TermForm.ONLINE


def public_terms(scope, now: datetime) -> list[FeedTerm]:
    """Public terms of a feed within its horizon, in start order, with only what the feed shows."""
    rows = db.session.execute(
        select(Term.id, Term.starts_at, Term.ends_at, Term.form, Term.venue, Term.lecturer, Term.state, Term.sequence,
               Term.updated_at, Offer.title, Offer.slug, Region.name)
        .join(Offer, Offer.id == Term.offer_id)
        .outerjoin(Region, Region.id == Term.region_id)
        .where(scope, _term_shown(now - KEEP_FOR, now + AHEAD))
        .order_by(Term.starts_at, Term.id)
    ).all()
    # One Named per workshop and per kraj, shared by their terms: a feed holds a thousand terms
    # of a few dozen workshops, and its first view builds every one of them.
    offers: dict[tuple[str, str], Named] = {}
    regions: dict[str | None, Named | None] = {None: None}
    terms = []
    for *columns, title, slug, region in rows:
        offer = offers.get((title, slug))
        if offer is None:
            offer = offers[(title, slug)] = Named(title=title, slug=slug)
        if region not in regions:
            regions[region] = Named(name=region)
        terms.append(FeedTerm(*columns, offer=offer, region=regions[region]))
    return terms


def personal_registrations(email_normalized: str, now: datetime) -> tuple[list[Registration], datetime | None]:
    """The person's confirmed registrations (by e-mail, as they were made), with
    those whose term the organiser cancelled in the last 30 days."""
    return _registration_feed(Registration.email_normalized == email_normalized, now)


def registration_events(registration: Registration, now: datetime) -> tuple[list[Registration], datetime | None]:
    """One registration, on the same terms as in the personal feed."""
    return _registration_feed(Registration.id == registration.id, now)


def _registration_feed(scope, now: datetime) -> tuple[list[Registration], datetime | None]:
    cutoff = now - KEEP_FOR
    shown = or_(
        and_(Registration.state == RegistrationState.CONFIRMED, Term.state == TermState.SCHEDULED,
             Term.ends_at > cutoff),
        and_(
            Term.state == TermState.CANCELLED,
            Term.cancelled_at > cutoff,
            # Confirmed when the term was called off, whether or not the
            # cancellation also closed the registration.
            or_(
                Registration.state == RegistrationState.CONFIRMED,
                and_(Registration.state == RegistrationState.CANCELLED,
                     Registration.cancelled_at >= Term.cancelled_at),
            ),
        ),
    )
    registrations = db.session.scalars(
        select(Registration)
        .join(Registration.term)
        .options(joinedload(Registration.term).joinedload(Term.offer), joinedload(Registration.term).joinedload(Term.region))
        .where(scope, shown)
        .order_by(Term.starts_at, Registration.id)
    ).all()
    reg_updated, term_updated, ended, cancelled = db.session.execute(
        select(
            func.max(Registration.updated_at),
            func.max(Term.updated_at),
            func.max(case((and_(Term.state == TermState.SCHEDULED, Term.ends_at <= cutoff), Term.ends_at))),
            func.max(case((and_(Term.state == TermState.CANCELLED, Term.cancelled_at <= cutoff), Term.cancelled_at))),
        )
        .join(Registration.term)
        .where(scope)
    ).one()
    return list(registrations), _latest(reg_updated, term_updated, left=(ended, cancelled))
