"""What each calendar feed holds, and when that last changed (for Last-Modified)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Offer, Region, Registration, RegistrationState, Term, TermForm, TermState

# Cancelled terms stay this long so subscribers see the cancellation; past
# terms too, because a subscribed calendar deletes whatever leaves the feed and
# people want last week's workshop still in theirs.
KEEP_FOR = timedelta(days=30)


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


def _term_shown(cutoff: datetime):
    return or_(
        and_(Term.state == TermState.SCHEDULED, Term.ends_at > cutoff),
        and_(Term.state == TermState.CANCELLED, Term.cancelled_at > cutoff),
    )


def _latest(*values: datetime | None, left: tuple[datetime | None, ...] = ()) -> datetime | None:
    """The newest change: an edit, or the moment an item aged out of the feed.

    Ageing out changes the feed without touching any row, so without the
    second part an If-Modified-Since client would keep a term that is gone.
    """
    moments = [v for v in values if v is not None] + [v + KEEP_FOR for v in left if v is not None]
    return max(moments, default=None)


def public_terms(scope, now: datetime) -> tuple[list[Term], datetime | None]:
    """Public terms of a feed in start order, and when the feed last changed."""
    cutoff = now - KEEP_FOR
    terms = db.session.scalars(
        select(Term)
        .options(joinedload(Term.offer), joinedload(Term.region))
        .where(scope, _term_shown(cutoff))
        .order_by(Term.starts_at, Term.id)
    ).all()
    # Over every term in scope, shown or not: a term made closed changes the feed too.
    updated, ended, cancelled = db.session.execute(
        select(
            func.max(Term.updated_at),
            func.max(case((and_(Term.state == TermState.SCHEDULED, Term.ends_at <= cutoff), Term.ends_at))),
            func.max(case((and_(Term.state == TermState.CANCELLED, Term.cancelled_at <= cutoff), Term.cancelled_at))),
        ).where(scope)
    ).one()
    return list(terms), _latest(updated, left=(ended, cancelled))


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
