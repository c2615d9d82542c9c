"""The registration rules: sign-up, capacity, per-ORP limit, waiting list,
cancellation and promotion. Views, CLI commands and tests call these
functions; each runs in one transaction under the term's lock, and every
e-mail it causes is written to the outbox in that same transaction.
"""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_timedelta
from flask import current_app
from sqlalchemy import bindparam, case, func, insert, or_, select
from sqlalchemy.orm.util import identity_key

from .. import audit, czech, places, tokens
from ..db_session import NotFound, availability_read, in_use_case, lock_also, locked, run_locked, transaction
from ..extensions import db
from ..models import (
    AuditEntry,
    EmployerType,
    Orp,
    Region,
    Registration,
    RegistrationLink,
    RegistrationState,
    Term,
    TermState,
    utcnow,
)
from . import lifecycle
from . import notifications
from .lifecycle import RegistrationError


class TermNotFound(RegistrationError):
    message = "Termín neexistuje."


class TermClosed(RegistrationError):
    message = "Přihlašování na tento termín je uzavřené."


class NotEligible(RegistrationError):
    message = "Tento termín je určen jen pro pracovníky z vymezeného území."
    field = "region"


class PlaceRefused(RegistrationError):
    """Kraj and ORP that do not go together, or an OSPOD worker without her ORP."""

    field = "orp"


class AlreadyRegistered(RegistrationError):
    """The address has an active registration on the term. The public sign-up does not say so
    (register() tells the owner of the address by e-mail instead); staff see it."""

    message = "S touto e-mailovou adresou už na tento termín přihláška existuje."
    field = "email"

    def __init__(self, registration_id: int):
        super().__init__()
        self.registration_id = registration_id


class NotCancellable(RegistrationError):
    message = "Tuto přihlášku už nelze zrušit."


class NotMoved(RegistrationError):
    message = "Tato přihláška nebyla přesunuta na jiný termín."


class UndoRefused(RegistrationError):
    """Undoing a cancellation is refused; the message says why and what she can do instead."""

    message = "Zrušení už nelze vrátit. Můžete se na termín přihlásit znovu."


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str
    employer_type: EmployerType
    job_title: str
    region_id: int
    orp_id: int | None = None
    phone: str | None = None


# Why someone is on the waiting list: the whole term is full, or her ORP has used
# the seats the term keeps for one ORP while other seats are still free.
TERM_FULL = "term_full"
ORP_LIMIT = "orp_limit"


@dataclass(frozen=True)
class Outcome:
    # The registration, or the id of one the sign-up wrote with its own INSERT (see `registration`).
    row: Registration | int
    token: str
    waitlist_position: int | None
    # TERM_FULL or ORP_LIMIT when waitlisted, None when confirmed.
    waitlist_reason: str | None = None

    @property
    def registration(self) -> Registration:
        """The registration. The sign-up's answer never reads its row back, so it is loaded only
        for a caller that asks (like any row after the commit, read afresh)."""
        if isinstance(self.row, Registration):
            return self.row
        return db.session.get(Registration, self.row)


@dataclass(frozen=True)
class RegistrationRow:
    """A registration the sign-up handles as a plain row, without an ORM object (the one it
    wrote with its own INSERT, or the address's earlier one it found): what a link (issue_link)
    and the plan of an e-mail (registration/notifications.py, mail.outbox.enqueue) read of it."""

    id: int
    email: str
    term: Term
    calendar_sequence: int = 0


def normalize_email(email: str) -> str:
    return email.strip().lower()



# A registration's private link works until this long after its term ends: long
# enough for the certificate and questions afterwards, not for ever. Everything
# later is on "Moje vzdělávání", behind a link e-mailed on request.
LINK_LIFETIME_AFTER_TERM = timedelta(days=90)
# New private links one registration may get in an hour (sign-up, promotion,
# "send me my link"…): "send me my link" stops e-mailing beyond that, so nobody
# can fill someone's mailbox through the public form.
LINKS_PER_HOUR = 3


def in_days(delta: timedelta) -> str:
    """A link's lifetime as pages and e-mails state it: "7 dnů", "90 dnů" (from the constant, so they never drift)."""
    return format_timedelta(delta, granularity="day", threshold=1000, locale="cs")


def in_minutes(delta: timedelta) -> str:
    """ "30 minut", from the constant like in_days."""
    return format_timedelta(delta, granularity="minute", threshold=1000, locale="cs")


def link_expiry(registration: Registration | RegistrationRow) -> datetime:
    return registration.term.ends_at + LINK_LIFETIME_AFTER_TERM


def issue_link(registration: Registration | RegistrationRow, now: datetime | None = None) -> str:
    """A new private link token for the registration; only its hash is stored."""
    token = tokens.new()
    values = {"token_hash": tokens.token_hash(token), "created_at": now or utcnow(),
              "expires_at": link_expiry(registration)}
    if isinstance(registration, RegistrationRow):
        # The sign-up's hot path: one INSERT, not the unit of work's bookkeeping around it.
        db.session.connection().execute(_INSERT_LINK, {"registration_id": registration.id, **values})
    else:
        db.session.add(RegistrationLink(registration=registration, **values))
    return token


# Built once: a statement made per call costs more CPU in building and its cache key than in running.
_INSERT_LINK = insert(RegistrationLink.__table__)


def new_check_in_code() -> str:
    """A short code for the door, read aloud and typed there; 31^8 values make a collision (caught by
    the unique index) remote."""
    return tokens.readable_code(8)


def term_id_of(registration_id: int) -> int | None:
    """The term of a registration, None when there is none. A registration's term never changes,
    so one already loaded in this transaction (the access check's) answers without a query."""
    loaded = db.session.identity_map.get(identity_key(Registration, registration_id))
    if loaded is not None and "term_id" in loaded.__dict__:
        return loaded.term_id
    return db.session.scalar(select(Registration.term_id).where(Registration.id == registration_id))


def registration_for_token(token: str, now: datetime | None = None) -> Registration | None:
    """The registration of a private link that is neither ended nor expired.

    A link without an expiry (issued before links expired) works until ended."""
    now = now or utcnow()
    return tokens.find(
        select(Registration)
        .join(RegistrationLink, RegistrationLink.registration_id == Registration.id)
        .where(
            RegistrationLink.revoked_at.is_(None),
            or_(RegistrationLink.expires_at.is_(None), RegistrationLink.expires_at > now),
        ),
        RegistrationLink.token_hash, token,
    )


def revoke_other_links(registration: Registration, keep_token: str) -> int:
    """End every private link of the registration but the one in use (a forwarded e-mail, a shared computer)."""
    with transaction():
        links = db.session.scalars(
            select(RegistrationLink).where(
                RegistrationLink.registration_id == registration.id,
                RegistrationLink.revoked_at.is_(None),
                RegistrationLink.token_hash != tokens.token_hash(keep_token),
            )
        ).all()
        for link in links:
            link.revoked_at = utcnow()
    return len(links)


# --- capacity: the one place that decides whether a seat is free -------------


@dataclass
class SeatUsage:
    capacity: int
    per_orp_limit: int | None
    confirmed: int
    confirmed_per_orp: Counter
    waitlisted: int = 0

    @property
    def free(self) -> int:
        """Seats nobody holds, as the catalogue, the sign-up form, the API and the back office show
        them; 0, not a negative number, when the capacity was lowered below the confirmed."""
        return max(self.capacity - self.confirmed, 0)

    def fits(self, orp_id: int | None) -> bool:
        return self.refusal(orp_id) is None

    def refusal(self, orp_id: int | None) -> str | None:
        """Why a person from this ORP gets no seat now (TERM_FULL, ORP_LIMIT), or None if she does."""
        if self.free == 0:
            return TERM_FULL
        if self.per_orp_limit is not None and orp_id is not None and \
                self.confirmed_per_orp[orp_id] >= self.per_orp_limit:
            return ORP_LIMIT
        return None

    def take(self, orp_id: int | None) -> None:
        self.confirmed += 1
        if orp_id is not None:
            self.confirmed_per_orp[orp_id] += 1


def next_in_line(usage: SeatUsage, queue):
    """Who of the waiting list, given in queue order, gets the free seats; takes them in `usage`.

    Someone whose ORP has used its seats is passed over, not removed: she keeps her place for
    a seat her ORP may still get, and the people behind her from other ORPs go first."""
    chosen = []
    for waiting in queue:
        if not usage.fits(None):
            break
        if usage.fits(waiting.orp_id):
            usage.take(waiting.orp_id)
            chosen.append(waiting)
    return chosen


def waitlist_reason_text(reason: str | None, per_orp_limit: int | None) -> str:
    """Why she waits, as one sentence without a full stop, for her page and the e-mail.

    "Termín je obsazený" only when it is: with free seats left, the per-ORP limit is
    what put her on the list, and saying the term is full would contradict the page.
    """
    if reason == ORP_LIMIT and per_orp_limit:
        seats = czech.count_noun(per_orp_limit, "místo", "místa", "míst")
        return czech.plural(
            per_orp_limit,
            "Za vaši ORP je obsazeno jediné místo, které termín jedné ORP vyhrazuje",
            f"Za vaši ORP jsou obsazena všechna {seats}, která termín jedné ORP vyhrazuje",
            f"Za vaši ORP je obsazeno všech {seats}, která termín jedné ORP vyhrazuje",
        )
    return "Termín je obsazený"


def when_freed_text(reason: str | None) -> str:
    """What happens next, as the start of a sentence ("…, přesuneme vás automaticky")."""
    return "Když se místo pro vaši ORP uvolní" if reason == ORP_LIMIT else "Když se místo uvolní"


def waitlist_reason(registration: Registration) -> str | None:
    """Why a waitlisted person is waiting now (seats and the limit may have changed since she
    signed up); None when neither rule holds her back (e.g. staff moved her there)."""
    if registration.state != RegistrationState.WAITLISTED:
        return None
    return seat_usage(registration.term).refusal(registration.orp_id)


def waitlisted_message(registration: Registration | RegistrationRow, token: str, position: int, reason: str | None):
    """Queue the "you are on the waiting list" e-mail, saying why."""
    return notifications.registration_waitlisted(
        registration, token, position, reason=waitlist_reason_text(reason, registration.term.per_orp_limit),
        when_freed=when_freed_text(reason))


def seat_usage(term: Term) -> SeatUsage:
    """Computed from the registrations themselves: no counter that could drift."""
    rows = db.session.execute(
        select(Registration.state, Registration.orp_id, func.count())
        .where(
            Registration.term_id == term.id,
            Registration.state.in_([RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]),
        )
        .group_by(Registration.state, Registration.orp_id)
    ).all()
    return _usage(term, rows)


def _usage(term: Term, rows) -> SeatUsage:
    """SeatUsage from (state, orp_id, count) rows of the term's confirmed and waitlisted registrations."""
    confirmed = [(orp_id, n) for state, orp_id, n in rows if state == RegistrationState.CONFIRMED]
    per_orp = Counter({orp_id: n for orp_id, n in confirmed if orp_id is not None})
    waitlisted = sum(n for state, _, n in rows if state == RegistrationState.WAITLISTED)
    return SeatUsage(term.capacity, term.per_orp_limit, sum(n for _, n in confirmed), per_orp, waitlisted)


def registration_counts(term_ids) -> dict[int, Counter]:
    """Registrations per term and state for listing pages, in one query."""
    term_ids = list(term_ids)
    counts: dict[int, Counter] = {}
    if not term_ids:
        return counts
    rows = db.session.execute(
        select(Registration.term_id, Registration.state, func.count())
        .where(Registration.term_id.in_(term_ids))
        .group_by(Registration.term_id, Registration.state)
    ).all()
    for term_id, state, n in rows:
        counts.setdefault(term_id, Counter())[state] = n
    return counts


def check_eligibility(term: Term, region_id: int | None, orp_id: int | None) -> None:
    # Names by id, not through the term's relationships: the sign-up's term is read without them.
    if term.restricted_orp_id is not None and orp_id != term.restricted_orp_id:
        name = db.session.get(Orp, term.restricted_orp_id).name
        raise NotEligible(f"Tento termín je určen jen pro pracovníky z ORP {name}.", "orp")
    if term.restricted_region_id is not None and region_id != term.restricted_region_id:
        name = db.session.get(Region, term.restricted_region_id).name
        raise NotEligible(f"Tento termín je určen jen pro pracovníky z tohoto kraje: {name}.")


def place_refusal(employer_type: EmployerType, region_id, orp_id) -> PlaceRefused | None:
    """Why this kraj and ORP cannot stand on a registration, or None: the kraj must exist,
    the ORP lie in it, and an OSPOD worker must name her ORP (her office is one).
    The sign-up form asks the same function, so its message shows beside the field at once."""
    if not places.region_exists(region_id):
        return PlaceRefused("Vyberte kraj.", "region")
    if orp_id is None:
        if employer_type == EmployerType.OSPOD:
            return PlaceRefused("Vyberte ORP svého pracoviště (v Praze městskou část); u OSPOD je povinná.")
        return None
    if not places.orp_in_region(region_id, orp_id):
        return PlaceRefused(places.ORP_NOT_IN_REGION)
    return None


# --- the operations ----------------------------------------------------------


def active_registration(term_id: int, email_normalized: str) -> Registration | None:
    """The address's one active registration on the term (the database allows no second)."""
    return db.session.scalars(
        select(Registration).where(Registration.term_id == term_id,
                                   Registration.email_normalized == email_normalized,
                                   Registration.state != RegistrationState.CANCELLED)
    ).one_or_none()


def refuse_if_registered(term: Term, email_normalized: str) -> None:
    """An address is on a term once at a time: an active registration refuses another (staff
    by hand, a switch, a handover). A cancelled one does not: it stays as it was, for her old
    link and the history, and the new way onto the term is a registration of its own."""
    registration = active_registration(term.id, email_normalized)
    if registration is not None:
        raise AlreadyRegistered(registration.id)


def usage_and_registered(term: Term, email_normalized: str) -> tuple[SeatUsage, int | None]:
    """seat_usage, and the id of the address's active registration on the term if any, in the
    one statement a sign-up can afford: the grouped count of the active rows carries it.
    A Core statement on the transaction's connection: its rows are plain values, nothing for the ORM."""
    rows = db.session.connection().execute(_USAGE_AND_REGISTERED, {"term_id": term.id, "email": email_normalized})
    usage_rows, registered = [], None
    for state, orp_id, n, own_id in rows:
        usage_rows.append((state, orp_id, n))
        registered = registered or own_id
    return _usage(term, usage_rows), registered


_R = Registration.__table__.c
_USAGE_AND_REGISTERED = (
    select(_R.state, _R.orp_id, func.count(), func.max(case((_R.email_normalized == bindparam("email"), _R.id))))
    .where(_R.term_id == bindparam("term_id"),
           _R.state.in_([RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]))
    .group_by(_R.state, _R.orp_id)
)


def _entry(applicant: Applicant, email_normalized: str, state: RegistrationState, now: datetime) -> dict:
    """The columns of a new registration of the applicant, entering the queue now, once the place
    rule lets her onto a term: for enter() and the sign-up's own INSERT alike."""
    refusal = place_refusal(applicant.employer_type, applicant.region_id, applicant.orp_id)
    if refusal is not None:
        raise refusal
    return dict(
        email_normalized=email_normalized, state=state, check_in_code=new_check_in_code(),
        name=applicant.name, email=applicant.email.strip(), phone=applicant.phone or None,
        employer_type=applicant.employer_type, job_title=applicant.job_title, region_id=applicant.region_id,
        orp_id=applicant.orp_id, consent_at=now, consent_version=current_app.config["CONSENT_VERSION"],
        # Taken under the lock, so the queue follows the order seats were decided in.
        queued_at=utcnow(),
    )


def enter(term: Term, applicant: Applicant, email_normalized: str, state: RegistrationState,
          now: datetime) -> Registration:
    """A new registration of the applicant, entering the queue now. Call only with the term
    locked, after the caller made sure the address has no active registration on the term.

    Never a cancelled row brought back: her old link would show whoever signed up next, and
    the door code and calendar event would carry over. Every way onto a term comes through
    here or through `_enter_row` (the sign-up), both by `_entry`, so the place rule is checked
    for every caller, not only behind a form."""
    registration = Registration(term=term, **_entry(applicant, email_normalized, state, now))
    db.session.add(registration)
    return registration


def _enter_row(term: Term, applicant: Applicant, email_normalized: str, state: RegistrationState,
               now: datetime) -> RegistrationRow:
    """enter() for the sign-up: the same columns and rule, written by one INSERT on the
    transaction's connection instead of through the unit of work (a third of a sign-up's CPU)."""
    values = _entry(applicant, email_normalized, state, now)
    inserted = db.session.connection().execute(_INSERT_REGISTRATION, {"term_id": term.id, **values})
    return RegistrationRow(inserted.inserted_primary_key[0], values["email"], term)


_INSERT_REGISTRATION = insert(Registration.__table__)


def register(term_id: int, applicant: Applicant, now: datetime | None = None,
             signup_token: str | None = None) -> Outcome:
    """Sign her up: a seat if capacity and the per-ORP limit allow, else the waiting list.

    A term not in the catalogue ("na klíč") takes sign-ups only with its private
    sign-up link's token; without it, it does not exist for the caller (TermNotFound).

    One transaction under the term's lock that only writes rows (the registration, its
    link, the outbox message); the e-mail is written by the outbox worker when it sends
    it (registration/compose.py). Five statements on the common path: the lock, one
    grouped count with the duplicate check, three inserts (bench/sql_counts.py).

    An address already active on the term gets no second registration, and whoever typed
    it learns nothing: the owner of the address is told by e-mail with a link to her
    registration (the same five statements as a sign-up; whether it goes out is decided
    when it is written, issued_link_goes_out), that is committed, and then AlreadyRegistered
    is raised for the caller to answer as if the sign-up went through."""
    now = now or utcnow()
    email_normalized = normalize_email(applicant.email)
    joined = in_use_case()
    try:
        with transaction():
            if joined:
                # The statements below run on the connection, past the ORM's autoflush: the other
                # use case's pending rows must be in the database before seats are counted.
                db.session.flush()
                term = lock_also(Term, term_id)
            else:
                term = _locked_term(term_id)
            if not term.public and not (signup_token and term.signup_token
                                        and secrets.compare_digest(signup_token, term.signup_token)):
                raise TermNotFound()
            if not term.takes_sign_ups(now):
                raise TermClosed()
            check_eligibility(term, applicant.region_id, applicant.orp_id)
            # Also asked by enter(); here first, so a bad place is refused alike for every address.
            refusal = place_refusal(applicant.employer_type, applicant.region_id, applicant.orp_id)
            if refusal is not None:
                raise refusal
            usage, registered = usage_and_registered(term, email_normalized)
            availability_read.send(current_app._get_current_object(), term=term)
            if registered is not None:
                registration = _registered_row(registered, term)
                notifications.already_registered(registration, issue_link(registration))
            else:
                outcome = _sign_up(term, applicant, email_normalized, usage, now)
    except NotFound as exc:
        raise TermNotFound() from exc
    if registered is not None:
        raise AlreadyRegistered(registered)
    return outcome


def _locked_term(term_id: int) -> Term:
    """The term's row locked for the sign-up's own transaction, as db_session.locked takes it
    (SELECT … FOR UPDATE; on SQLite BEGIN IMMEDIATE holds the database already; no lock with
    REGISTRATION_LOCKING off, the concurrency tests' control), read by one Core statement into
    a Term outside the session: every column (so its rules, takes_sign_ups among them, read what
    they read on any term), no relationship. The ORM's loading of the row cost a seventh of a
    sign-up's CPU. A sign-up joined to another use case's transaction locks through lock_also
    instead, in that transaction's order of locks."""
    locking = current_app.config["REGISTRATION_LOCKING"]
    row = db.session.connection().execute(_LOCK_TERM if locking else _READ_TERM, {"id": term_id}).one_or_none()
    if row is None:
        raise NotFound(f"Term {term_id}")
    return Term(**row._mapping)


_READ_TERM = select(*(prop.columns[0].label(prop.key) for prop in Term.__mapper__.column_attrs)) \
    .where(Term.__table__.c.id == bindparam("id"))
_LOCK_TERM = _READ_TERM.with_for_update()


def _registered_row(registration_id: int, term: Term) -> RegistrationRow:
    """Her active registration, read as the sign-up would have written it: the answer and the
    work stay alike whether or not the address was on the term."""
    email, sequence = db.session.connection().execute(_REGISTERED_ROW, {"id": registration_id}).one()
    return RegistrationRow(registration_id, email, term, sequence)


_REGISTERED_ROW = select(_R.email, _R.calendar_sequence).where(_R.id == bindparam("id"))


def _sign_up(term: Term, applicant: Applicant, email_normalized: str, usage: SeatUsage, now: datetime) -> Outcome:
    """A seat if capacity and the per-ORP limit allow, else the waiting list (under the lock).
    Three INSERTs (registration, link, e-mail plan) written as statements, not ORM objects."""
    reason = usage.refusal(applicant.orp_id)
    state = RegistrationState.CONFIRMED if reason is None else RegistrationState.WAITLISTED
    registration = _enter_row(term, applicant, email_normalized, state, now)
    token = issue_link(registration)
    # Everyone waiting entered before this registration, so its place is the queue's length.
    position = None if state == RegistrationState.CONFIRMED else usage.waitlisted + 1
    if position is None:
        notifications.registration_confirmed(registration, token)
    else:
        waitlisted_message(registration, token, position, reason)
    return Outcome(registration.id, token, position, reason)


def fill_free_seats(term: Term, now: datetime | None = None) -> list[Registration]:
    """Promote waitlisted people, in queue order, into seats that are free.

    Someone whose ORP has reached the per-ORP limit is skipped, not removed:
    they keep their place for a seat their ORP may still get. Call only with
    the term locked.
    """
    now = now or utcnow()
    usage = seat_usage(term)
    promoted = []
    if not usage.fits(None):
        return promoted
    queue = db.session.scalars(
        select(Registration)
        .where(Registration.term_id == term.id, Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.queued_at, Registration.id)
    )
    for registration in next_in_line(usage, queue):
        lifecycle.confirm(registration, now)
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        held = pending_switch_seat(registration, now)
        if held is None:
            notifications.registration_promoted(registration, issue_link(registration))
        else:
            complete_switch(registration, held, now=now)
    return promoted


# --- a switch of term waiting for a seat ---------------------------------------
# A waiting-list entry with `replaces_registration` is a switch: she keeps her
# seat on the other term until this entry gets a seat, and then gives that seat
# up in the same transaction. The entry counts as a switch only while the seat
# it replaces is still active on a term that has not begun: if she cancelled that
# seat (or staff did, or the term was cancelled) it is a plain waiting-list entry
# and a seat here is simply hers. The link is kept either way, for the history.


def pending_switch_seat(registration: Registration, now: datetime | None = None) -> Registration | None:
    """The seat this entry would give up when it is confirmed, or None for a plain entry."""
    held = registration.replaces_registration
    if held is None or held.state == RegistrationState.CANCELLED:
        return None
    if held.term.state != TermState.SCHEDULED or (now or utcnow()) >= held.term.starts_at:
        return None
    return held


def pending_switches(held: Registration) -> list[Registration]:
    """Waiting-list entries that would take over from this seat (normally at most one)."""
    return db.session.scalars(
        select(Registration)
        .where(Registration.replaces_registration_id == held.id, Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.id)
    ).all()


def complete_switch(new: Registration, held: Registration, token: str | None = None,
                    now: datetime | None = None) -> list[Registration]:
    """She was just confirmed on `new`: give up `held`, hand its seat on, tell her once.

    Called under the lock of new's term; held's term is locked here (in order,
    or the whole operation runs again with both locked: db_session.run_locked).
    The seat freed on held's term is filled like after any cancellation, which
    may complete another switch in turn."""
    now = now or utcnow()
    old_term = lock_also(Term, held.term_id)
    db.session.refresh(held)
    lifecycle.cancel(held, now)
    for other in pending_switches(held):
        if other.id != new.id:
            other.replaces_registration_id = new.id  # a further switch she asked for now starts from here
    db.session.flush()
    notifications.registration_switched(new, held, token or issue_link(new))
    audit.record("registration.switched", held, None, to_registration=new.id, to_term=new.term_id)
    audit.record("registration.switched_in", new, None, from_registration=held.id, from_term=held.term_id)
    return fill_free_seats(old_term, now)


def moved_to(registration: Registration) -> Registration | None:
    """Her registration on another term, when this one was given up by a switch (the audit entry
    complete_switch wrote says which): her old link leads there instead of a bare "zrušená"."""
    if registration.state != RegistrationState.CANCELLED:
        return None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == Registration.__tablename__,
                                 AuditEntry.object_id == registration.id,
                                 AuditEntry.action == "registration.switched")
        .order_by(AuditEntry.id.desc())
    ).first()
    return db.session.get(Registration, entry.data["to_registration"]) if entry is not None else None


def open_moved_registration(registration: Registration) -> str:
    """A fresh private link to the registration her switched one became (hers: the same address)."""
    with transaction():
        new = moved_to(registration)
        if new is None or new.email_normalized != registration.email_normalized:
            raise NotMoved()
        token = issue_link(new)
    return token


def can_cancel(registration: Registration, now: datetime | None = None) -> bool:
    """Until the term starts; afterwards attendance, not cancellation, is what counts."""
    return (
        registration.state != RegistrationState.CANCELLED
        and registration.term.state == TermState.SCHEDULED
        and (now or utcnow()) < registration.term.starts_at
    )


def cancel(
    registration_id: int, now: datetime | None = None, actor=None, reason: str | None = None
) -> list[Registration]:
    """Cancel a registration and hand its seat on; returns who was promoted.

    `actor` is the staff member cancelling on the person's behalf: then the
    cancellation and the promotions it causes go to the audit trail.
    """
    now = now or utcnow()
    term_id = term_id_of(registration_id)
    if term_id is None:
        raise NotCancellable()

    def operation(terms):
        term = terms[term_id]
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if not can_cancel(registration, now):
            raise NotCancellable()
        previous_state = lifecycle.cancel(registration, now)
        # Her link comes along: the e-mail tells her how to undo it while that is possible.
        notifications.registration_cancelled(registration, issue_link(registration, now))
        # The seat may go to someone whose switch gives up a seat on another term (complete_switch).
        promoted = fill_free_seats(term, now)
        if actor is not None:
            audit.record("registration.cancelled", registration, actor, state=[previous_state, "cancelled"],
                         reason=reason)
            for other in promoted:
                audit.record("registration.promoted", other, actor, reason="registration.cancelled")
        return promoted

    return run_locked(Term, [term_id], operation)


# How long "Vrátit zrušení" is offered after she cancelled herself: long enough for
# "I clicked the wrong term", short enough that nobody counts on a seat she gave up.
UNDO_WINDOW = timedelta(minutes=30)


def undo_deadline(registration: Registration) -> datetime | None:
    return registration.cancelled_at + UNDO_WINDOW if registration.cancelled_at else None


# Cancellations that were not her plain "I cannot come": staff's (on her behalf, or the privacy
# erasure's), and a seat given up by a switch of term or handed over: undoing those would give
# her a second seat, or take one from the colleague. Hers leave no audit entry.
_NOT_UNDOABLE = ("registration.cancelled", "registration.switched", "registration.handed_over")


def _cancelled_by_staff(registration: Registration) -> bool:
    return db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.object_type == Registration.__tablename__,
            AuditEntry.object_id == registration.id,
            AuditEntry.action.in_(_NOT_UNDOABLE),
            AuditEntry.at >= registration.cancelled_at,
        )
    ) > 0


def undo_refusal(registration: Registration, now: datetime | None = None, offer_fresh: bool = True) -> str | None:
    """Why her own cancellation cannot be undone now (a Czech sentence), or None if it can.

    Undo gives back a confirmed seat only: within UNDO_WINDOW of a cancellation she
    made herself, while the term takes sign-ups and capacity and the per-ORP limit
    still have room for her. Anything else is a fresh sign-up, which takes the
    waiting list's turn like everyone's. Call with the term locked for a decision
    that holds; without the lock it only tells the page whether to offer the button.
    """
    now = now or utcnow()
    fresh = " Můžete se na termín přihlásit znovu." if offer_fresh else ""
    waiting = " Zapíšeme vás na čekací listinu." if offer_fresh else ""
    if registration.state != RegistrationState.CANCELLED or registration.cancelled_at is None:
        return "Přihláška není zrušená."
    term = registration.term
    if not term.is_open(now):
        return "Přihlašování na tento termín je už uzavřené, zrušení nelze vrátit."
    if now >= undo_deadline(registration):
        return f"Zrušení šlo vrátit jen {in_minutes(UNDO_WINDOW)}; ta doba uplynula.{fresh}"
    # A newer registration of the address on the term is the one there now; said like the
    # rest, as a link shown after a sign-up (before links went by e-mail only) may be in a
    # stranger's hands, and must not tell whether the address is on the term.
    if _cancelled_by_staff(registration) or active_registration(term.id, registration.email_normalized) is not None:
        return f"Zrušení už nelze vrátit.{fresh}"
    reason = seat_usage(term).refusal(registration.orp_id)
    if reason == ORP_LIMIT:
        return f"Místo za vaši ORP mezitím obsadil někdo jiný, zrušení proto nelze vrátit.{fresh}{waiting}"
    if reason == TERM_FULL:
        return f"Uvolněné místo mezitím obsadil někdo jiný, zrušení proto nelze vrátit.{fresh}{waiting}"
    return None


def undo_cancel(registration_id: int, now: datetime | None = None) -> Registration:
    """Give her seat back after she cancelled by mistake (see undo_refusal for when).

    Like a promotion, she gets a new REQUEST invitation whose SEQUENCE outranks the
    CANCEL she was sent, and a fresh private link."""
    now = now or utcnow()
    term_id = term_id_of(registration_id)
    if term_id is None:
        raise UndoRefused()
    with transaction(), locked(Term, term_id):
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        refusal = undo_refusal(registration, now)
        if refusal is not None:
            raise UndoRefused(refusal)
        lifecycle.reinstate(registration, now)
        db.session.flush()
        notifications.registration_confirmed(registration, issue_link(registration, now))
    return registration


def resend_link(term_id: int, email: str) -> None:
    """ "Send me my link": queue the e-mail for whatever address was typed. Whether the address
    is on the term, and so whether anything is sent, is decided when the e-mail is written
    (link_to_send), so this request does the same work, and takes the same time, for every address."""
    with transaction():
        notifications.registration_link(term_id, email, normalize_email(email))


# E-mails with a link that someone else's typing may cause ("send me my link", "you are
# already registered") are decided by the outbox worker when it writes them (registration/
# compose.py), never by the request that queued them: the request does the same work whether
# or not the address is registered. They follow one rule, so nobody can fill her mailbox
# through the public forms: an active registration whose links still work, and fewer than
# LINKS_PER_HOUR links in the hour before (the sign-up's own counts).


def _may_mail_link(registration: Registration, earlier_links: int, now: datetime) -> bool:
    return (registration.state != RegistrationState.CANCELLED and link_expiry(registration) > now
            and earlier_links < LINKS_PER_HOUR)


def _links_since(registration_id: int, since: datetime, below_id: int | None = None) -> int:
    query = select(func.count(RegistrationLink.id)).where(RegistrationLink.registration_id == registration_id,
                                                          RegistrationLink.created_at > since)
    if below_id is not None:
        query = query.where(RegistrationLink.id < below_id)
    return db.session.scalar(query)


def link_to_send(registration: Registration | None, now: datetime | None = None) -> str | None:
    """ "Send me my link": a new private link for the e-mail, or None when none goes out."""
    now = now or utcnow()
    if registration is None:
        return None
    if not _may_mail_link(registration, _links_since(registration.id, now - timedelta(hours=1)), now):
        return None
    return issue_link(registration, now)


def issued_link_goes_out(registration: Registration, token: str, now: datetime | None = None) -> bool:
    """ "You are already registered": the sign-up that found her registration issued this link,
    doing a sign-up's work (and taking its time) for the address. Whether the e-mail goes is
    decided here, counting the links made before this one; a link that does not go is deleted."""
    link = tokens.find(select(RegistrationLink), RegistrationLink.token_hash, token)
    if link is None:
        return False
    earlier = _links_since(link.registration_id, link.created_at - timedelta(hours=1), below_id=link.id)
    if _may_mail_link(registration, earlier, now or utcnow()):
        return True
    db.session.delete(link)
    return False
