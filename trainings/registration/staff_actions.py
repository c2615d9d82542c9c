"""What staff do with registrations: add a person by hand, move between the
confirmed list and the waiting list, notes, attendance, and a message to
everyone on a term.

The same rules as the public sign-up hold (`service.SeatUsage` decides whether
a seat is free); each operation runs under the term's lock, in one
transaction, with its e-mails in the outbox and an entry in the audit trail.

Decisions written down here because the views and tests rely on them:

* Confirming someone from the waiting list follows the capacity and per-ORP
  rule. Confirming over it needs `over_capacity=True`, an explicit decision
  of the organiser (a bigger room, a priority participant) that the audit
  trail records as such; the seat count then simply stays above capacity
  and nobody else is promoted until it drops below again.
* Moving a confirmed person to the waiting list does not hand the seat on
  automatically: the organiser usually does it to give that seat to someone
  in particular, whom she confirms next. The term page shows the free seat
  and offers `fill_from_waitlist`; the next cancellation or capacity change
  fills it in queue order as well. The moved person goes to the end of the
  queue.
* Staff may add people after the registration deadline and to closed terms
  outside their kraj/ORP: the deadline and the restriction guard the public
  sign-up, and a hand-made entry is the organiser's deliberate exception.
  Capacity still decides between confirmed and waiting list.
* Attendance can be marked from CHECK_IN_OPENS before the start (the door,
  a lecturer arriving early), only for confirmed people; no-shows are marked
  in bulk once the term has ended.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import audit
from ..db_session import NotFound, locked, transaction
from ..extensions import db
from ..models import Registration, RegistrationState, Term, TermState, User, utcnow
from . import lifecycle, notifications
from .service import (
    Applicant,
    Outcome,
    RegistrationError,
    TermClosed,
    TermNotFound,
    cancel,
    enter,
    fill_free_seats,
    issue_link,
    normalize_email,
    refuse_if_registered,
    seat_usage,
    term_id_of,
    waitlisted_message,
)

CHECK_IN_OPENS = timedelta(hours=24)
NOTE_MAX_LENGTH = 2000


class RegistrationNotFound(RegistrationError):
    message = "Přihláška neexistuje."


class NoSeat(RegistrationError):
    message = (
        "Na termínu není volné místo nebo je vyčerpaný limit pro tuto ORP. "
        "Pokud ji chcete potvrdit přesto, zvolte potvrzení nad kapacitu."
    )


class WrongState(RegistrationError):
    message = "Tuto akci nelze u přihlášky v tomto stavu provést."


class AttendanceNotOpen(RegistrationError):
    message = "Docházku lze zapisovat nejdříve 24 hodin před začátkem termínu."


@contextmanager
def _locked_registration(registration_id: int):
    """The registration with its term locked, as every seat-changing rule needs."""
    with transaction():
        term_id = term_id_of(registration_id)
        if term_id is None:
            raise RegistrationNotFound()
        with locked(Term, term_id) as term:
            registration = db.session.get(Registration, registration_id, populate_existing=True)
            yield term, registration


def _not_cancelled(term: Term) -> None:
    if term.state == TermState.CANCELLED:
        raise TermClosed("Termín je zrušený.")


# --- the list of a term --------------------------------------------------------


def add_by_hand(
    term_id: int,
    applicant: Applicant,
    actor: User,
    *,
    over_capacity: bool = False,
    note: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Register someone on the organiser's word (phone, e-mail); she gets the usual e-mail and link."""
    now = now or utcnow()
    email_normalized = normalize_email(applicant.email)
    actor_id = actor.id  # read now: the lock below expires loaded objects
    try:
        with transaction(), locked(Term, term_id) as term:
            _not_cancelled(term)
            refuse_if_registered(term, email_normalized)
            reason = seat_usage(term).refusal(applicant.orp_id)
            fits = reason is None
            state = RegistrationState.CONFIRMED if fits or over_capacity else RegistrationState.WAITLISTED
            # The person agreed to the organiser, who confirms it in the form (consent time: now).
            registration = enter(term, applicant, email_normalized, state, now)
            registration.added_by_id = actor_id
            registration.internal_note = note or None
            db.session.flush()
            token = issue_link(registration)
            position = registration.waitlist_position()
            if position is None:
                notifications.registration_confirmed(registration, token)
            else:
                waitlisted_message(registration, token, position, reason)
            audit.record(
                "registration.added", registration, actor, state=registration.state,
                over_capacity=over_capacity and not fits,
            )
    except NotFound as exc:
        raise TermNotFound() from exc
    return Outcome(registration, token, position, None if position is None else reason)


def confirm(registration_id: int, actor: User, *, over_capacity: bool = False,
            now: datetime | None = None) -> Registration:
    """Move someone from the waiting list to the confirmed list."""
    now = now or utcnow()
    with _locked_registration(registration_id) as (term, registration):
        _not_cancelled(term)
        if registration.state != RegistrationState.WAITLISTED:
            raise WrongState("Potvrdit lze jen přihlášku z čekací listiny.")
        fits = seat_usage(term).fits(registration.orp_id)
        if not fits and not over_capacity:
            raise NoSeat()
        lifecycle.confirm(registration, now)
        notifications.registration_promoted(registration, issue_link(registration))
        audit.record(
            "registration.confirmed", registration, actor, state=["waitlisted", "confirmed"],
            over_capacity=not fits,
        )
    return registration


def move_to_waitlist(registration_id: int, actor: User, now: datetime | None = None) -> int:
    """Move a confirmed person to the end of the waiting list; returns her position.

    The seat is not handed on here (see the module's notes). Her CANCEL outranks the
    invitation she had; a later promotion raises the counter again (lifecycle.confirm).
    """
    now = now or utcnow()
    with _locked_registration(registration_id) as (term, registration):
        _not_cancelled(term)
        if registration.state != RegistrationState.CONFIRMED:
            raise WrongState("Na čekací listinu lze přesunout jen potvrzenou přihlášku.")
        if registration.attended is not None:
            raise WrongState("Osoba už má zapsanou docházku; nejdřív zápis zrušte.")
        lifecycle.waitlist(registration, now)
        db.session.flush()
        position = registration.waitlist_position()
        notifications.registration_moved_to_waitlist(registration, issue_link(registration), position)
        audit.record("registration.waitlisted", registration, actor, state=["confirmed", "waitlisted"],
                     position=position)
    return position


def fill_from_waitlist(term_id: int, actor: User, now: datetime | None = None) -> list[Registration]:
    """Hand free seats to the waiting list in queue order, as a cancellation would."""
    try:
        with transaction(), locked(Term, term_id) as term:
            _not_cancelled(term)
            promoted = fill_free_seats(term, now)
            for registration in promoted:
                audit.record("registration.promoted", registration, actor, reason="staff")
    except NotFound as exc:
        raise TermNotFound() from exc
    return promoted


def cancel_on_behalf(registration_id: int, actor: User, reason: str | None = None,
                     now: datetime | None = None) -> list[Registration]:
    """The person asked the organiser to cancel; the seat goes on as with her own cancellation."""
    return cancel(registration_id, now=now, actor=actor, reason=reason or None)


def set_note(registration_id: int, note: str | None, actor: User) -> Registration:
    note = (note or "").strip()[:NOTE_MAX_LENGTH] or None
    with _locked_registration(registration_id) as (_term, registration):
        if registration.internal_note != note:
            audit.record("registration.note", registration, actor,
                         internal_note=[registration.internal_note, note])
            registration.internal_note = note
    return registration


# --- attendance ----------------------------------------------------------------


def attendance_open(term: Term, now: datetime | None = None) -> bool:
    return term.state == TermState.SCHEDULED and (now or utcnow()) >= term.starts_at - CHECK_IN_OPENS


def mark_attendance(registration_id: int, attended: bool | None, actor: User,
                    now: datetime | None = None) -> Registration:
    """Present (True), no-show (False) or not marked (None, the undo of a tap).

    Marking the state it already has changes nothing, so a double tap at the
    door leaves one entry in the trail.
    """
    now = now or utcnow()
    with _locked_registration(registration_id) as (term, registration):
        if not attendance_open(term, now):
            raise AttendanceNotOpen(
                "Termín je zrušený." if term.state == TermState.CANCELLED else AttendanceNotOpen.message
            )
        if registration.state != RegistrationState.CONFIRMED:
            raise WrongState("Docházku lze zapsat jen potvrzeným účastníkům.")
        before = registration.attended
        if lifecycle.attend(registration, attended, now):
            audit.record("registration.attendance", registration, actor, attended=[before, attended])
    return registration


def admit_from_waitlist(registration_id: int, actor: User, now: datetime | None = None) -> Registration:
    """Someone from the waiting list came and there is a chair: confirm and mark present in one tap.

    Over capacity if need be: the people at the door see the room, the system does not.
    """
    now = now or utcnow()
    with _locked_registration(registration_id) as (term, registration):
        if not attendance_open(term, now):
            raise AttendanceNotOpen()
        if registration.state != RegistrationState.WAITLISTED:
            raise WrongState("Tato osoba není na čekací listině.")
        fits = seat_usage(term).fits(registration.orp_id)
        lifecycle.confirm(registration, now)
        lifecycle.attend(registration, True, now)
        audit.record("registration.admitted", registration, actor, state=["waitlisted", "confirmed"],
                     attended=[None, True], over_capacity=not fits)
    return registration


def mark_no_shows(term_id: int, actor: User, now: datetime | None = None) -> int:
    """After the term, everyone confirmed and not marked present is a no-show; returns how many."""
    now = now or utcnow()
    try:
        with transaction(), locked(Term, term_id) as term:
            if term.state == TermState.CANCELLED or now < term.ends_at:
                raise AttendanceNotOpen("Neúčast lze hromadně zapsat až po skončení termínu.")
            unmarked = db.session.scalars(
                select(Registration).where(
                    Registration.term_id == term.id,
                    Registration.state == RegistrationState.CONFIRMED,
                    Registration.attended.is_(None),
                )
            ).all()
            for registration in unmarked:
                lifecycle.attend(registration, False, now)
                audit.record("registration.attendance", registration, actor, attended=[None, False])
            audit.record("term.no_shows_marked", term, actor, count=len(unmarked))
    except NotFound as exc:
        raise TermNotFound() from exc
    return len(unmarked)


# --- writing to the participants -------------------------------------------------


def message_participants(term_id: int, subject: str, body: str, actor: User) -> int:
    """One e-mail per confirmed participant, through the outbox; returns how many."""
    try:
        with transaction(), locked(Term, term_id) as term:
            people = db.session.scalars(
                select(Registration)
                .where(Registration.term_id == term.id, Registration.state == RegistrationState.CONFIRMED)
                .order_by(Registration.id)
            ).all()
            for registration in people:
                notifications.term_message(registration, issue_link(registration), subject, body)
            audit.record("term.message_sent", term, actor, subject=subject, recipients=len(people))
    except NotFound as exc:
        raise TermNotFound() from exc
    return len(people)
