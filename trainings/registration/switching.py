"""Switching to another term of the same workshop, from the registration's private page.

Decisions (the views and tests rely on them):

* Only a confirmed seat on a term that has not begun can be switched, and only
  to another open, public term of the same workshop that her kraj/ORP may join.
* A seat for her on the target (capacity and the per-ORP rule, SeatUsage): she
  moves at once. Her new registration is a row of its own (its own calendar UID
  and private link); the old one is cancelled and its seat goes to the first
  person waiting there, as after any cancellation. One e-mail: REQUEST for the
  new event and CANCEL for the old, as two calendar objects.
* No seat: she joins the target's waiting list and keeps her seat
  (`replaces_registration`); the promotion path completes the switch
  (service.complete_switch). Should someone waiting on her current term hold a
  seat on the target and want hers, the two seats are exchanged at once: the
  exchange frees no seat, so nobody waiting for a free one is passed over.
* If she cancels her current seat meanwhile, the pending switch becomes a plain
  waiting-list entry (service.pending_switch_seat): she wanted that term, and
  keeps her place in its queue. She can withdraw a pending switch on her page.
* Both terms are locked in ascending id order (db_session.run_locked).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..db_session import NotFound, availability_read, run_locked
from ..extensions import db
from ..models import Registration, RegistrationState, Term, TermState, utcnow
from . import lifecycle, notifications
from .service import (
    AlreadyRegistered,
    Applicant,
    NotEligible,
    RegistrationError,
    SeatUsage,
    can_cancel,
    check_eligibility,
    complete_switch,
    enter,
    issue_link,
    pending_switch_seat,
    pending_switches,
    refuse_if_registered,
    seat_usage,
    term_id_of,
)


class SwitchRefused(RegistrationError):
    message = "Přihlášku nelze přesunout na tento termín."


MOVED, EXCHANGED, WAITING = "moved", "exchanged", "waiting"


@dataclass(frozen=True)
class SwitchOutcome:
    kind: str  # MOVED, EXCHANGED or WAITING
    registration: Registration  # the new seat, or the waiting-list entry
    token: str
    position: int | None = None


@dataclass(frozen=True)
class SwitchTarget:
    term: Term
    usage: SeatUsage
    refusal: str | None  # TERM_FULL, ORP_LIMIT or None (a seat for her)
    waiting: Registration | None  # her pending switch onto this term, if any


def applicant_of(registration: Registration) -> Applicant:
    return Applicant(
        name=registration.name, email=registration.email, phone=registration.phone,
        employer_type=registration.employer_type, job_title=registration.job_title,
        region_id=registration.region_id, orp_id=registration.orp_id,
    )


def can_switch(registration: Registration, now: datetime | None = None) -> bool:
    return registration.state == RegistrationState.CONFIRMED and can_cancel(registration, now)


def _candidate_terms(registration: Registration, now: datetime):
    terms = db.session.scalars(
        select(Term)
        .where(Term.offer_id == registration.term.offer_id, Term.id != registration.term_id,
               Term.public.is_(True), Term.state == TermState.SCHEDULED, Term.starts_at > now)
        .order_by(Term.starts_at, Term.id)
    ).all()
    for term in terms:
        if not term.is_open(now):
            continue
        try:
            check_eligibility(term, registration.region_id, registration.orp_id)
        except NotEligible:
            continue
        yield term


def switch_targets(registration: Registration, now: datetime | None = None) -> list[SwitchTarget]:
    """The other terms she could move to, with what she would get there (for the page; decided again under lock)."""
    now = now or utcnow()
    if not can_switch(registration, now):
        return []
    mine = {r.term_id: r for r in db.session.scalars(
        select(Registration).where(Registration.email_normalized == registration.email_normalized,
                                   Registration.state != RegistrationState.CANCELLED))}
    targets = []
    for term in _candidate_terms(registration, now):
        other = mine.get(term.id)
        if other is not None and other.replaces_registration_id != registration.id:
            continue  # she is on it already by a sign-up of her own
        usage = seat_usage(term)
        targets.append(SwitchTarget(term, usage, usage.refusal(registration.orp_id), other))
    return targets


def _without(usage: SeatUsage, registration: Registration) -> SeatUsage:
    """The usage as it would be with this confirmed seat given up."""
    per_orp = usage.confirmed_per_orp.copy()
    if registration.orp_id is not None:
        per_orp[registration.orp_id] -= 1
    return SeatUsage(usage.capacity, usage.per_orp_limit, usage.confirmed - 1, per_orp, usage.waitlisted)


def _exchange_partner(registration: Registration, target: Term, now: datetime) -> Registration | None:
    """Someone waiting on her term for a switch from a seat on `target`, whose seat fits her and hers fits them."""
    candidates = db.session.scalars(
        select(Registration)
        .where(Registration.term_id == registration.term_id, Registration.state == RegistrationState.WAITLISTED,
               Registration.replaces_registration_id.is_not(None))
        .order_by(Registration.queued_at, Registration.id)
    ).all()
    here = _without(seat_usage(registration.term), registration)
    there = seat_usage(target)
    for candidate in candidates:
        held = pending_switch_seat(candidate, now)
        if held is None or held.term_id != target.id or held.state != RegistrationState.CONFIRMED:
            continue
        if _without(there, held).fits(registration.orp_id) and here.fits(candidate.orp_id):
            return candidate
    return None


def switch(registration_id: int, target_term_id: int, now: datetime | None = None) -> SwitchOutcome:
    now = now or utcnow()
    term_id = term_id_of(registration_id)
    if term_id is None:
        raise SwitchRefused()
    if term_id == target_term_id:
        raise SwitchRefused("Na tento termín už máte přihlášku.")

    def operation(terms):
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        target = terms[target_term_id]
        if not can_switch(registration, now):
            raise SwitchRefused("Přesunout lze jen potvrzenou přihlášku na termín, který ještě nezačal.")
        if target.offer_id != registration.term.offer_id or not target.public:
            raise SwitchRefused()
        if not target.is_open(now):
            raise SwitchRefused("Přihlašování na tento termín je už uzavřené.")
        try:
            check_eligibility(target, registration.region_id, registration.orp_id)
            refuse_if_registered(target, registration.email_normalized)
        except NotEligible as exc:
            raise SwitchRefused(exc.message) from exc
        except AlreadyRegistered as exc:
            raise SwitchRefused("Na tento termín už máte přihlášku nebo na něj čekáte.") from exc
        usage = seat_usage(target)
        availability_read.send(current_app._get_current_object(), term=target)
        if usage.fits(registration.orp_id):
            new = _enter(target, registration, RegistrationState.CONFIRMED, now)
            token = issue_link(new)
            complete_switch(new, registration, token, now=now)
            return SwitchOutcome(MOVED, new, token)
        partner = _exchange_partner(registration, target, now)
        if partner is not None:
            partner_seat = pending_switch_seat(partner, now)
            lifecycle.confirm(partner, now)
            new = _enter(target, registration, RegistrationState.CONFIRMED, now)
            token = issue_link(new)
            complete_switch(new, registration, token, now=now)
            complete_switch(partner, partner_seat, now=now)
            return SwitchOutcome(EXCHANGED, new, token)
        entry = _enter(target, registration, RegistrationState.WAITLISTED, now)
        entry.replaces_registration_id = registration.id
        db.session.flush()
        token = issue_link(entry)
        position = entry.waitlist_position()
        notifications.registration_switch_pending(entry, registration, token, position)
        audit.record("registration.switch_requested", registration, None, to_registration=entry.id,
                     to_term=target.id, position=position)
        audit.record("registration.switch_waiting", entry, None, from_registration=registration.id,
                     from_term=registration.term_id)
        return SwitchOutcome(WAITING, entry, token, position)

    try:
        return run_locked(Term, [term_id, target_term_id], operation)
    except NotFound as exc:
        raise SwitchRefused() from exc


def _enter(target: Term, registration: Registration, state, now) -> Registration:
    new = enter(target, applicant_of(registration), registration.email_normalized, state, now)
    # Her consent to the processing was given with the sign-up; a switch is part of it.
    new.consent_at = registration.consent_at
    new.consent_version = registration.consent_version
    db.session.flush()
    return new


def withdraw_switch(entry_id: int, now: datetime | None = None) -> Registration:
    """She no longer wants to move: the waiting-list entry goes, her seat stays as it was."""
    now = now or utcnow()
    term_id = term_id_of(entry_id)
    if term_id is None:
        raise SwitchRefused("Změna termínu už neplatí.")

    def operation(terms):
        entry = db.session.get(Registration, entry_id, populate_existing=True)
        held = pending_switch_seat(entry, now) if entry.state == RegistrationState.WAITLISTED else None
        if held is None:
            raise SwitchRefused("Změna termínu už neplatí.")
        lifecycle.cancel(entry, now)
        audit.record("registration.switch_withdrawn", held, None, registration=entry.id, term=entry.term_id)
        audit.record("registration.switch_withdrawn", entry, None, registration=held.id, term=held.term_id)
        return held

    return run_locked(Term, [term_id], operation)


__all__ = ["SwitchRefused", "SwitchOutcome", "SwitchTarget", "switch", "switch_targets", "withdraw_switch",
           "pending_switches", "can_switch", "applicant_of", "MOVED", "EXCHANGED", "WAITING"]
