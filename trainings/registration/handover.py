"""Handing a confirmed seat over to a colleague.

Decisions (the views and tests rely on them):

* She names the colleague with the sign-up's fields and rules (a closed term's
  kraj/ORP included, service.check_eligibility). The colleague gets an e-mail
  with a link; only her hash is kept (`SeatHandover.token_hash`). One offer is
  open per seat: a new one ends the previous.
* Until the colleague confirms, with the sign-up's consent, within
  HANDOVER_TIME (default 48 hours), the seat stays with the first person, who
  can withdraw the offer. Not confirmed in time: nothing changes.
* Confirming is a transfer under the term's lock: her registration is
  cancelled (CANCEL to her calendar, an e-mail saying the seat was handed
  over), the colleague gets a new confirmed registration with her own private
  link and invitation. The seat never passes through the waiting list; the
  per-ORP rule is checked for the colleague's ORP as if the seat given up were
  already free. A switch of term she was waiting for becomes a plain
  waiting-list entry (service.pending_switch_seat), as after a cancellation.
* Refused with a Czech sentence: the colleague is already on the term, is
  outside a closed term's kraj/ORP, her ORP has no seat left, the offer lapsed
  or was withdrawn, the seat is no longer confirmed, the term has begun.
* The colleague may correct her name (titles included) as she confirms: it goes on
  her certificate. The correction is in the audit trail with the handover, which
  both registrations record.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from .. import audit, tokens
from ..db_session import NotFound, run_locked, transaction
from ..extensions import db
from ..models import Registration, RegistrationState, SeatHandover, Term, utcnow
from ..urls import absolute_url
from . import lifecycle, notifications
from .service import (
    AlreadyRegistered,
    Applicant,
    NotEligible,
    RegistrationError,
    can_cancel,
    check_eligibility,
    enter,
    issue_link,
    normalize_email,
    refuse_if_registered,
    seat_usage,
    term_id_of,
)


class HandoverRefused(RegistrationError):
    message = "Místo nelze předat."


LAPSED = ("Nabídka místa už neplatí: vypršela, nebo ji ten, kdo místo nabídl, zrušil. "
          "Na workshop se můžete přihlásit běžnou přihláškou.")
SEAT_GONE = "Místo už předat nelze: přihláška, ze které bylo nabídnuto, už není potvrzená nebo termín začal."
ALREADY = "Na tento termín je tento e-mail už přihlášený, místo proto převzít nelze."


@dataclass(frozen=True)
class Offered:
    handover: SeatHandover
    token: str  # the colleague's link; only its hash is stored, so this is the one chance to read it


@dataclass(frozen=True)
class HandoverOutcome:
    registration: Registration
    token: str


def pending_handover(registration: Registration, now: datetime | None = None) -> SeatHandover | None:
    """The open offer of this seat, if any (not confirmed, withdrawn or lapsed)."""
    return db.session.scalars(
        select(SeatHandover)
        .where(SeatHandover.registration_id == registration.id, SeatHandover.confirmed_at.is_(None),
               SeatHandover.ended_at.is_(None), SeatHandover.expires_at > (now or utcnow()))
        .order_by(SeatHandover.id.desc())
    ).first()


def completed_handover(registration: Registration) -> SeatHandover | None:
    """The offer a colleague confirmed, when this seat went to her: the giver's page says so."""
    return db.session.scalars(
        select(SeatHandover)
        .where(SeatHandover.registration_id == registration.id, SeatHandover.confirmed_at.is_not(None))
        .order_by(SeatHandover.id.desc())
    ).first()


def handover_for_token(token: str) -> SeatHandover | None:
    """The offer behind a colleague's link, in whatever state (the page says which)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalars(select(SeatHandover).where(SeatHandover.token_hash == tokens.token_hash(token))).one_or_none()


def is_open(handover: SeatHandover, now: datetime | None = None) -> bool:
    return handover.confirmed_at is None and handover.ended_at is None and (now or utcnow()) < handover.expires_at


def _check_colleague(term: Term, giver: Registration, applicant: Applicant) -> None:
    """The sign-up's rules for the colleague."""
    try:
        check_eligibility(term, applicant.region_id, applicant.orp_id)
    except NotEligible as exc:
        raise HandoverRefused(exc.message, exc.field) from exc
    email = normalize_email(applicant.email)
    if email == giver.email_normalized:
        raise HandoverRefused("Zadejte e-mail osoby, které místo předáváte, ne svůj.", "email")
    try:
        refuse_if_registered(term, email)
    except AlreadyRegistered as exc:
        raise HandoverRefused(ALREADY, "email") from exc
    usage = seat_usage(term)
    # A transfer: the seat given up is free for this check, so only her ORP's limit can refuse.
    usage.confirmed -= 1
    if giver.orp_id is not None:
        usage.confirmed_per_orp[giver.orp_id] -= 1
    if usage.refusal(applicant.orp_id) is not None:
        raise HandoverRefused("Za ORP této osoby jsou místa, která termín jedné ORP vyhrazuje, už obsazena.", "orp")


def offer(registration_id: int, applicant: Applicant, now: datetime | None = None) -> Offered:
    """Offer the seat to a colleague: an e-mail with her link; nothing moves yet."""
    now = now or utcnow()
    term_id = term_id_of(registration_id)
    if term_id is None:
        raise HandoverRefused(SEAT_GONE)

    def operation(terms):
        term = terms[term_id]
        giver = db.session.get(Registration, registration_id, populate_existing=True)
        if giver.state != RegistrationState.CONFIRMED or not can_cancel(giver, now):
            raise HandoverRefused(SEAT_GONE)
        _check_colleague(term, giver, applicant)
        for earlier in db.session.scalars(select(SeatHandover).where(
                SeatHandover.registration_id == giver.id, SeatHandover.confirmed_at.is_(None),
                SeatHandover.ended_at.is_(None))):
            earlier.ended_at = now
        token = tokens.new()
        handover = SeatHandover(
            registration=giver, token_hash=tokens.token_hash(token), name=applicant.name, email=applicant.email.strip(),
            email_normalized=normalize_email(applicant.email), phone=applicant.phone or None,
            employer_type=applicant.employer_type, job_title=applicant.job_title, region_id=applicant.region_id,
            orp_id=applicant.orp_id, created_at=now, expires_at=now + current_app.config["HANDOVER_TIME"],
        )
        db.session.add(handover)
        db.session.flush()
        notifications.handover_offer(handover, absolute_url("registration.take_over", token=token))
        audit.record("registration.handover_offered", giver, None, handover=handover.id, to_name=handover.name,
                     expires_at=handover.expires_at)
        return Offered(handover, token)

    return run_locked(Term, [term_id], operation)


def withdraw(registration_id: int, now: datetime | None = None) -> bool:
    """She keeps her seat after all; False when no offer was open."""
    now = now or utcnow()
    with transaction():
        registration = db.session.get(Registration, registration_id)
        handover = pending_handover(registration, now) if registration else None
        if handover is None:
            return False
        handover.ended_at = now
        audit.record("registration.handover_withdrawn", registration, None, handover=handover.id)
    return True


def confirm(token: str, now: datetime | None = None, name: str | None = None) -> HandoverOutcome:
    """The colleague takes the seat over, with her consent given now; `name` is her name as she
    corrected it (the first person typed it, and it goes on her certificate)."""
    now = now or utcnow()
    found = handover_for_token(token)
    if found is None:
        raise HandoverRefused(LAPSED)
    handover_id, registration_id = found.id, found.registration_id
    term_id = term_id_of(registration_id)

    def operation(terms):
        term = terms[term_id]
        handover = db.session.get(SeatHandover, handover_id, populate_existing=True)
        if not is_open(handover, now):
            raise HandoverRefused(LAPSED)
        giver = db.session.get(Registration, registration_id, populate_existing=True)
        if giver.state != RegistrationState.CONFIRMED or not can_cancel(giver, now):
            raise HandoverRefused(SEAT_GONE)
        corrected = name if name and name != handover.name else None
        applicant = Applicant(name=corrected or handover.name, email=handover.email, phone=handover.phone,
                              employer_type=handover.employer_type, job_title=handover.job_title,
                              region_id=handover.region_id, orp_id=handover.orp_id)
        _check_colleague(term, giver, applicant)
        lifecycle.hand_over(giver, now)
        db.session.flush()
        # Confirmed directly: the seat is handed over, not freed for the waiting list.
        new = enter(term, applicant, handover.email_normalized, RegistrationState.CONFIRMED, now)
        db.session.flush()
        handover.confirmed_at = now
        handover.new_registration_id = new.id
        token_new = issue_link(new)
        notifications.registration_handed_over(giver, new.name)
        notifications.registration_confirmed(new, token_new)
        audit.record("registration.handed_over", giver, None, handover=handover.id, to_registration=new.id,
                     to_name=new.name)
        # The name as offered and as she corrected it, like any other change of a registration.
        audit.record("registration.taken_over", new, None, handover=handover.id, from_registration=giver.id,
                     from_name=giver.name, **({"name": [handover.name, new.name]} if corrected else {}))
        handover.name = new.name  # her old page names who took the seat as she is called
        return HandoverOutcome(new, token_new)

    try:
        return run_locked(Term, [term_id], operation)
    except NotFound as exc:
        raise HandoverRefused(LAPSED) from exc
