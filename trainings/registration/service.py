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
from sqlalchemy import case, func, or_, select

from .. import audit, czech, places, tokens
from ..db_session import NotFound, availability_read, lock_also, locked, run_locked
from ..errors import ServiceError
from ..extensions import db
from ..mail import messages
from ..models import (
    AuditEntry,
    EmployerType,
    Registration,
    RegistrationLink,
    RegistrationState,
    Term,
    TermState,
    utcnow,
)


class RegistrationError(ServiceError):
    """An expected refusal; `message` is Czech and meant for the person."""

    message = "Přihlášku nelze přijmout."


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
    message = "Na tento termín už jste s touto e-mailovou adresou přihlášeni."
    field = "email"

    def __init__(self, registration_id: int):
        super().__init__()
        self.registration_id = registration_id


class NotCancellable(RegistrationError):
    message = "Tuto přihlášku už nelze zrušit."


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
    registration: Registration
    token: str
    waitlist_position: int | None
    # TERM_FULL or ORP_LIMIT when waitlisted, None when confirmed.
    waitlist_reason: str | None = None
    per_orp_limit: int | None = None

    def notice(self) -> str | None:
        """The waiting-list sentence for the page, or None for a confirmed seat (no query after the commit)."""
        if self.waitlist_position is None:
            return None
        return waitlist_notice(self.waitlist_reason, self.per_orp_limit, self.waitlist_position)


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


def link_expiry(registration: Registration) -> datetime:
    return registration.term.ends_at + LINK_LIFETIME_AFTER_TERM


def issue_link(registration: Registration, now: datetime | None = None) -> str:
    """A new private link token for the registration; only its hash is stored."""
    token = tokens.new()
    db.session.add(RegistrationLink(registration=registration, token_hash=tokens.token_hash(token),
                                    created_at=now or utcnow(), expires_at=link_expiry(registration)))
    return token


# No 0/O, 1/I/L: the code is read aloud and typed at the door.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_check_in_code() -> str:
    """A short code for the door; 31^8 values make a collision (caught by the unique index) remote."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


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
    links = db.session.scalars(
        select(RegistrationLink).where(
            RegistrationLink.registration_id == registration.id,
            RegistrationLink.revoked_at.is_(None),
            RegistrationLink.token_hash != tokens.token_hash(keep_token),
        )
    ).all()
    for link in links:
        link.revoked_at = utcnow()
    db.session.commit()
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


def waitlist_reason_text(reason: str | None, per_orp_limit: int | None) -> str:
    """Why she waits, as one sentence without a full stop, for the flash, her page and the e-mail.

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


def waitlist_notice(reason: str | None, per_orp_limit: int | None, position: int) -> str:
    """The whole message on the web: "Za vaši ORP jsou obsazena všechna 3 místa, …; jste na čekací
    listině (2. místo). Když se místo pro vaši ORP uvolní, přesuneme vás automaticky a napíšeme vám." """
    return (f"{waitlist_reason_text(reason, per_orp_limit)}; jste na čekací listině ({position}. místo). "
            f"{when_freed_text(reason)}, přesuneme vás automaticky a napíšeme vám.")


def waitlist_reason(registration: Registration) -> str | None:
    """Why a waitlisted person is waiting now (seats and the limit may have changed since she
    signed up); None when neither rule holds her back (e.g. staff moved her there)."""
    if registration.state != RegistrationState.WAITLISTED:
        return None
    return seat_usage(registration.term).refusal(registration.orp_id)


def waitlisted_message(registration: Registration, token: str, position: int, reason: str | None):
    """Queue the "you are on the waiting list" e-mail, saying why."""
    return messages.registration_waitlisted(
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
    if term.restricted_orp_id is not None and orp_id != term.restricted_orp_id:
        raise NotEligible(f"Tento termín je určen jen pro pracovníky z ORP {term.restricted_orp.name}.", "orp")
    if term.restricted_region_id is not None and region_id != term.restricted_region_id:
        raise NotEligible(f"Tento termín je určen jen pro pracovníky z tohoto kraje: {term.restricted_region.name}.")


def place_refusal(employer_type: EmployerType, region_id, orp_id) -> PlaceRefused | None:
    """Why this kraj and ORP cannot stand on a registration, or None: the kraj must exist,
    the ORP lie in it, and an OSPOD worker must name her ORP (her office is one).
    The sign-up form asks the same function, so its message shows beside the field at once."""
    if not places.region_exists(region_id):
        return PlaceRefused("Vyberte kraj.", "region")
    if orp_id is None:
        if employer_type == EmployerType.OSPOD:
            return PlaceRefused("Pracovníci OSPOD vyberou svou ORP (v Praze městskou část).")
        return None
    if not places.orp_in_region(region_id, orp_id):
        return PlaceRefused(places.ORP_NOT_IN_REGION)
    return None


# --- the operations ----------------------------------------------------------


def previous_registration(term: Term, email_normalized: str) -> Registration | None:
    """This e-mail's cancelled registration on the term, to be reused; an active one is refused."""
    registration = db.session.scalars(
        select(Registration).where(Registration.term_id == term.id, Registration.email_normalized == email_normalized)
    ).one_or_none()
    if registration is not None and registration.state != RegistrationState.CANCELLED:
        raise AlreadyRegistered(registration.id)
    return registration


def usage_and_previous(term: Term, email_normalized: str) -> tuple[SeatUsage, Registration | None]:
    """seat_usage and previous_registration in the one statement a sign-up can afford.

    The grouped count also carries the id of this e-mail's registration on the term,
    if any; only a cancelled one (reused on re-registration, a rare path) is loaded."""
    rows = db.session.execute(
        select(Registration.state, Registration.orp_id, func.count(),
               func.max(case((Registration.email_normalized == email_normalized, Registration.id))))
        .where(
            Registration.term_id == term.id,
            or_(Registration.state.in_([RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]),
                Registration.email_normalized == email_normalized),
        )
        .group_by(Registration.state, Registration.orp_id)
    ).all()
    previous = None
    for state, _, _, own_id in rows:
        if own_id is not None:
            if state != RegistrationState.CANCELLED:
                raise AlreadyRegistered(own_id)
            previous = db.session.get(Registration, own_id)
    active = [(state, orp_id, n) for state, orp_id, n, _ in rows if state != RegistrationState.CANCELLED]
    return _usage(term, active), previous


def enter(term: Term, registration: Registration | None, applicant: Applicant, email_normalized: str,
          state: RegistrationState, now: datetime) -> Registration:
    """Write the applicant onto a new registration, or onto her cancelled one (so one e-mail
    stays one row per term), entering the queue now. Call only with the term locked.

    Every way onto a term comes through here (sign-up, staff by hand, switch, handover),
    so the place rule is checked here for every caller, not only behind a form."""
    refusal = place_refusal(applicant.employer_type, applicant.region_id, applicant.orp_id)
    if refusal is not None:
        raise refusal
    if registration is None:
        registration = Registration(term=term, email_normalized=email_normalized)
        db.session.add(registration)
    elif registration.cancelled_at is not None:
        # Re-registration revives the same calendar event, which the last e-mail cancelled.
        registration.calendar_sequence += 1
    registration.state = state
    registration.check_in_code = registration.check_in_code or new_check_in_code()
    registration.name = applicant.name
    registration.email = applicant.email.strip()
    registration.phone = applicant.phone or None
    registration.employer_type = applicant.employer_type
    registration.job_title = applicant.job_title
    registration.region_id = applicant.region_id
    registration.orp_id = applicant.orp_id
    registration.consent_at = now
    registration.consent_version = current_app.config["CONSENT_VERSION"]
    registration.cancelled_at = None
    # Taken under the lock, so the queue follows the order seats were decided in.
    registration.queued_at = utcnow()
    registration.attended = None
    registration.attendance_marked_at = None
    return registration


def register(term_id: int, applicant: Applicant, now: datetime | None = None,
             signup_token: str | None = None) -> Outcome:
    """Sign her up: a seat if capacity and the per-ORP limit allow, else the waiting list.

    A term not in the catalogue ("na klíč") takes sign-ups only with its private
    sign-up link's token; without it, it does not exist for the caller (TermNotFound).

    One transaction under the term's lock that only writes rows (the registration, its
    link, the outbox message); the e-mail is written by the outbox worker when it sends
    it (mail.messages.compose). Five statements on the common path: the lock, one
    grouped count with the duplicate check, three inserts (bench/sql_counts.py)."""
    now = now or utcnow()
    email_normalized = normalize_email(applicant.email)
    try:
        with locked(Term, term_id) as term:
            if not term.public and not (signup_token and term.signup_token
                                        and secrets.compare_digest(signup_token, term.signup_token)):
                raise TermNotFound()
            if not term.is_open(now):
                raise TermClosed()
            check_eligibility(term, applicant.region_id, applicant.orp_id)
            usage, registration = usage_and_previous(term, email_normalized)
            availability_read.send(current_app._get_current_object(), term=term)
            reason = usage.refusal(applicant.orp_id)
            state = RegistrationState.CONFIRMED if reason is None else RegistrationState.WAITLISTED
            registration = enter(term, registration, applicant, email_normalized, state, now)
            token = issue_link(registration)
            # Everyone waiting entered before this registration, so its place is the queue's length.
            position = None if state == RegistrationState.CONFIRMED else usage.waitlisted + 1
            if position is None:
                messages.registration_confirmed(registration, token)
            else:
                waitlisted_message(registration, token, position, reason)
            per_orp_limit = term.per_orp_limit
    except NotFound as exc:
        raise TermNotFound() from exc
    return Outcome(registration, token, position, reason, per_orp_limit)


def fill_free_seats(term: Term) -> list[Registration]:
    """Promote waitlisted people, in queue order, into seats that are free.

    Someone whose ORP has reached the per-ORP limit is skipped, not removed:
    they keep their place for a seat their ORP may still get. Call only with
    the term locked.
    """
    usage = seat_usage(term)
    promoted = []
    if not usage.fits(None):
        return promoted
    queue = db.session.scalars(
        select(Registration)
        .where(Registration.term_id == term.id, Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.queued_at, Registration.id)
    )
    for registration in queue:
        if not usage.fits(None):
            break
        if not usage.fits(registration.orp_id):
            continue
        registration.state = RegistrationState.CONFIRMED
        usage.take(registration.orp_id)
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        held = pending_switch_seat(registration)
        if held is None:
            messages.registration_promoted(registration, issue_link(registration))
        else:
            complete_switch(registration, held)
    return promoted


# --- a switch of term waiting for a seat ---------------------------------------
# A waiting-list entry with `replaces_registration` is a switch: she keeps her
# seat on the other term until this entry gets a seat, and then gives that seat
# up in the same transaction. The entry counts as a switch only while the seat
# it replaces is still active on a term that has not begun: if she cancelled that
# seat (or staff did, or the term was cancelled) it is a plain waiting-list entry
# and a seat here is simply hers. The link is kept either way, for the history.


def pending_switch_seat(registration: Registration) -> Registration | None:
    """The seat this entry would give up when it is confirmed, or None for a plain entry."""
    held = registration.replaces_registration
    if held is None or held.state == RegistrationState.CANCELLED:
        return None
    if held.term.state != TermState.SCHEDULED or utcnow() >= held.term.starts_at:
        return None
    return held


def pending_switches(held: Registration) -> list[Registration]:
    """Waiting-list entries that would take over from this seat (normally at most one)."""
    return db.session.scalars(
        select(Registration)
        .where(Registration.replaces_registration_id == held.id, Registration.state == RegistrationState.WAITLISTED)
        .order_by(Registration.id)
    ).all()


def complete_switch(new: Registration, held: Registration, token: str | None = None) -> list[Registration]:
    """She was just confirmed on `new`: give up `held`, hand its seat on, tell her once.

    Called under the lock of new's term; held's term is locked here (in order,
    or the whole operation runs again with both locked: db_session.run_locked).
    The seat freed on held's term is filled like after any cancellation, which
    may complete another switch in turn."""
    old_term = lock_also(Term, held.term_id)
    db.session.refresh(held)
    held.state = RegistrationState.CANCELLED
    held.cancelled_at = utcnow()
    held.calendar_sequence += 1  # the CANCEL must outrank the invitation it withdraws
    for other in pending_switches(held):
        if other.id != new.id:
            other.replaces_registration_id = new.id  # a further switch she asked for now starts from here
    db.session.flush()
    messages.registration_switched(new, held, token or issue_link(new))
    audit.record("registration.switched", held, None, to_registration=new.id, to_term=new.term_id)
    audit.record("registration.switched_in", new, None, from_registration=held.id, from_term=held.term_id)
    return fill_free_seats(old_term)


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
    term_id = db.session.scalar(select(Registration.term_id).where(Registration.id == registration_id))
    if term_id is None:
        raise NotCancellable()

    def operation(terms):
        term = terms[term_id]
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if not can_cancel(registration, now):
            raise NotCancellable()
        previous_state = registration.state
        registration.state = RegistrationState.CANCELLED
        registration.cancelled_at = now
        registration.calendar_sequence += 1  # the CANCEL must outrank the invitation it withdraws
        messages.registration_cancelled(registration)
        # The seat may go to someone whose switch gives up a seat on another term (complete_switch).
        promoted = fill_free_seats(term)
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


def undo_refusal(registration: Registration, now: datetime | None = None) -> str | None:
    """Why her own cancellation cannot be undone now (a Czech sentence), or None if it can.

    Undo gives back a confirmed seat only: within UNDO_WINDOW of a cancellation she
    made herself, while the term takes sign-ups and capacity and the per-ORP limit
    still have room for her. Anything else is a fresh sign-up, which takes the
    waiting list's turn like everyone's. Call with the term locked for a decision
    that holds; without the lock it only tells the page whether to offer the button.
    """
    now = now or utcnow()
    fresh = "Můžete se na termín přihlásit znovu."
    if registration.state != RegistrationState.CANCELLED or registration.cancelled_at is None:
        return "Přihláška není zrušená."
    term = registration.term
    if not term.is_open(now):
        return "Přihlašování na tento termín je už uzavřené, zrušení nelze vrátit."
    if now >= undo_deadline(registration) or _cancelled_by_staff(registration):
        return f"Zrušení už nelze vrátit. {fresh}"
    reason = seat_usage(term).refusal(registration.orp_id)
    if reason == ORP_LIMIT:
        return (f"Místo za vaši ORP mezitím obsadil někdo jiný, zrušení proto nelze vrátit. {fresh} "
                "Zapíšeme vás na čekací listinu.")
    if reason == TERM_FULL:
        return (f"Uvolněné místo mezitím obsadil někdo jiný, zrušení proto nelze vrátit. {fresh} "
                "Zapíšeme vás na čekací listinu.")
    return None


def undo_cancel(registration_id: int, now: datetime | None = None) -> Registration:
    """Give her seat back after she cancelled by mistake (see undo_refusal for when).

    Like a promotion, she gets a new REQUEST invitation whose SEQUENCE outranks the
    CANCEL she was sent, and a fresh private link."""
    now = now or utcnow()
    term_id = db.session.scalar(select(Registration.term_id).where(Registration.id == registration_id))
    if term_id is None:
        raise UndoRefused()
    with locked(Term, term_id):
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        refusal = undo_refusal(registration, now)
        if refusal is not None:
            raise UndoRefused(refusal)
        registration.state = RegistrationState.CONFIRMED
        registration.cancelled_at = None
        registration.calendar_sequence += 1
        registration.attended = None
        registration.attendance_marked_at = None
        db.session.flush()
        messages.registration_confirmed(registration, issue_link(registration, now))
    return registration


def resend_link(term_id: int, email: str, now: datetime | None = None) -> bool:
    """E-mail a fresh private link to an active registration; False if none went out:
    no such registration, its links would already have expired, or it got
    LINKS_PER_HOUR links in the last hour. The caller answers the same in every case."""
    now = now or utcnow()
    registration = db.session.scalars(
        select(Registration).where(
            Registration.term_id == term_id,
            Registration.email_normalized == normalize_email(email),
            Registration.state != RegistrationState.CANCELLED,
        )
    ).one_or_none()
    if registration is None or link_expiry(registration) <= now:
        return False
    recent = db.session.scalar(
        select(func.count(RegistrationLink.id)).where(
            RegistrationLink.registration_id == registration.id,
            RegistrationLink.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= LINKS_PER_HOUR:
        return False
    messages.registration_link(registration, issue_link(registration, now))
    db.session.commit()
    return True
