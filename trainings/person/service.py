"""Moje vzdělávání: everything one e-mail address did, behind a link sent to that address.

People have no accounts. A person is her e-mail address, and she proves it by
opening a link e-mailed there: signing up proves nothing (anyone can type any
address), so a sign-up shows only that one registration, and whatever spans an
address (its registrations, hours toward § 111, certificates, the personal
calendar feed) is reached only through a PersonLink.

The link policy:
- "page" links (the Moje vzdělávání page) expire after PAGE_LIFETIME; a new
  one can be asked for at any time, and an address gets at most
  LINKS_PER_HOUR of them an hour (beyond that, silently no e-mail); the
  link is made by the outbox worker, so asking costs the same for every address;
- "feed" links (the personal calendar) live until the person ends them, so a
  subscribed calendar keeps working; one is made when she asks for it on the
  page, and its address is shown that once (only its hash is kept);
- `end_links` ends every page and feed link of the address.
Registration links have their own policy (registration.service).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import joinedload

from .. import tokens
from ..db_session import transaction
from ..extensions import db
from ..models import PersonLink, Registration, Term, utcnow
from ..registration.service import issue_link, link_expiry, normalize_email
from ..urls import absolute_url
from . import notifications

PAGE = "page"
FEED = "feed"
PAGE_LIFETIME = timedelta(days=7)
LINKS_PER_HOUR = 3


def _has_registrations(email_normalized: str) -> bool:
    return db.session.scalar(select(exists().where(Registration.email_normalized == email_normalized)))


def _new_link(email_normalized: str, purpose: str, now: datetime, expires_at: datetime | None) -> str:
    token = tokens.new()
    db.session.add(PersonLink(email_normalized=email_normalized, purpose=purpose, token_hash=tokens.token_hash(token),
                              created_at=now, expires_at=expires_at))
    return token


def request_page_link(email: str) -> None:
    """Queue the e-mail with a link to the Moje vzdělávání page of this address.

    Only the outbox row is written, for every address alike: whether the address is known
    (and how often it was sent a link) would otherwise show in the time the request takes.
    The outbox worker decides when it writes the e-mail (page_link_to_send)."""
    with transaction():
        notifications.person_link(email.strip(), normalize_email(email))


def page_link_to_send(email_normalized: str, now: datetime | None = None) -> tuple[str, datetime] | None:
    """A new page link (its address and expiry) for the e-mail the worker is writing, or None
    when nothing goes out: the address has no registrations, or got LINKS_PER_HOUR links
    in the last hour."""
    now = now or utcnow()
    if not _has_registrations(email_normalized):
        return None
    recent = db.session.scalar(
        select(func.count(PersonLink.id)).where(
            PersonLink.email_normalized == email_normalized,
            PersonLink.purpose == PAGE,
            PersonLink.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= LINKS_PER_HOUR:
        return None
    expires_at = now + PAGE_LIFETIME
    token = _new_link(email_normalized, PAGE, now, expires_at)
    return absolute_url("person.page", token=token), expires_at


def issue_feed_link(email_normalized: str, now: datetime | None = None) -> str:
    """A new personal calendar feed token, valid until she ends it."""
    with transaction():
        token = _new_link(email_normalized, FEED, now or utcnow(), None)
    return token


def link_for_token(token: str, purpose: str, now: datetime | None = None) -> PersonLink | None:
    """The person link of a token if it is of this purpose, not ended and not expired."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    return db.session.scalars(
        select(PersonLink).where(
            PersonLink.token_hash == tokens.token_hash(token),
            PersonLink.purpose == purpose,
            PersonLink.revoked_at.is_(None),
            or_(PersonLink.expires_at.is_(None), PersonLink.expires_at > now),
        )
    ).one_or_none()


def end_links(email_normalized: str, now: datetime | None = None) -> int:
    """End every page and feed link of the address (a forwarded e-mail, a shared computer,
    a calendar she no longer wants fed); returns how many."""
    with transaction():
        ended = db.session.execute(
            update(PersonLink)
            .where(PersonLink.email_normalized == email_normalized, PersonLink.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        ).rowcount
    return ended


@dataclass
class Overview:
    upcoming: list[Registration]
    past: list[Registration]


def overview(email_normalized: str, now: datetime | None = None) -> Overview:
    """Every registration of the address: terms still to end first in start order, then past ones newest first."""
    now = now or utcnow()
    registrations = db.session.scalars(
        select(Registration)
        .join(Term, Term.id == Registration.term_id)
        .options(joinedload(Registration.term).joinedload(Term.offer))
        .where(Registration.email_normalized == email_normalized)
        .order_by(Term.starts_at, Registration.id)
    ).all()
    return Overview(
        upcoming=[r for r in registrations if r.term.ends_at > now],
        past=[r for r in reversed(registrations) if r.term.ends_at <= now],
    )


def registration_of(email_normalized: str, registration_id: int) -> Registration | None:
    """One of the address's registrations, or None (someone else's, or none at all)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.email_normalized != email_normalized:
        return None
    return registration


def can_open(registration: Registration, now: datetime | None = None) -> bool:
    """Whether a registration link to it would still work (see registration.service)."""
    return link_expiry(registration) > (now or utcnow())


def open_registration(email_normalized: str, registration_id: int) -> str | None:
    """A fresh link to one of her registrations, from her page: the links she was sent sit
    in e-mails, and only their hashes are stored. None if it is not hers or is too old."""
    registration = registration_of(email_normalized, registration_id)
    if registration is None or not can_open(registration):
        return None
    with transaction():
        token = issue_link(registration)
    return token
