"""Personal data as a public body must handle it: anonymise what the project's
reporting no longer needs, export or erase what is held about one person.

Anonymising keeps every row that reports count (term, state, employer type,
kraj, ORP, attendance) and removes what identifies a person: names, e-mail
addresses, phone numbers, free texts, private links, the e-mails themselves
and the data in the audit trail of those rows; the person links ("Moje
vzdělávání") of an address go once no registration is left under it. All
registrations of one person anonymised in the same run share one random
pseudonym, so "unique persons" in reports stay as they were.
"""
from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from .. import audit
from ..db_session import locked_many, transaction
from ..extensions import db
from ..models import (
    ANONYMOUS_DOMAIN,
    AuditEntry,
    DocumentJob,
    InterestEntry,
    OutboxMessage,
    OutboxState,
    PersonLink,
    Registration,
    RegistrationLink,
    RequestEvent,
    RequestState,
    SupportRequest,
    SupportRequestLink,
    Term,
    User,
    utcnow,
)
from ..registration.service import NotCancellable, can_cancel, cancel, normalize_email
from ..people import sessions

ANONYMOUS_NAME = "anonymizováno"


def _pseudonym() -> str:
    return f"{secrets.token_hex(8)}@{ANONYMOUS_DOMAIN}"


@dataclass
class Outcome:
    registrations: int = 0
    interest_entries: int = 0
    requests: int = 0
    messages: int = 0
    staff_sessions: int = 0
    cancelled: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "registrations": self.registrations,
            "interest_entries": self.interest_entries,
            "requests": self.requests,
            "messages": self.messages,
        }


def _anonymise_registrations(registrations: list[Registration], outcome: Outcome) -> None:
    pseudonyms: dict[str, str] = defaultdict(_pseudonym)
    ids = [r.id for r in registrations]
    addresses = {r.email_normalized for r in registrations}
    for registration in registrations:
        pseudonym = pseudonyms[registration.email_normalized]
        registration.name = ANONYMOUS_NAME
        registration.email = registration.email_normalized = pseudonym
        registration.phone = None
        registration.job_title = ANONYMOUS_NAME
        registration.internal_note = None
        registration.check_in_code = None
    if ids:
        db.session.execute(delete(RegistrationLink).where(RegistrationLink.registration_id.in_(ids)))
        outcome.messages += db.session.execute(
            delete(OutboxMessage).where(OutboxMessage.registration_id.in_(ids))
        ).rowcount
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.object_type == "registrations", AuditEntry.object_id.in_(ids))
            .values(data={"anonymized": True})
        )
        db.session.flush()
        _drop_person_links(addresses)
    outcome.registrations += len(registrations)


def _drop_person_links(addresses: set[str]) -> None:
    """Person links of addresses with no registration left: their page and feed would
    show nothing, and the link itself still ties the address to this service.
    An address with newer registrations keeps them (her calendar goes on)."""
    still_used = set(db.session.scalars(
        select(Registration.email_normalized).where(Registration.email_normalized.in_(addresses))
    ))
    gone = addresses - still_used
    if gone:
        db.session.execute(delete(PersonLink).where(PersonLink.email_normalized.in_(gone)))


def _anonymise_interest(entries: list[InterestEntry], outcome: Outcome) -> None:
    for entry in entries:
        entry.email = entry.email_normalized = _pseudonym()
    outcome.interest_entries += len(entries)


def _anonymise_requests(requests: list[SupportRequest], outcome: Outcome) -> None:
    ids = [r.id for r in requests]
    for request in requests:
        request.requester_name = ANONYMOUS_NAME
        request.requester_email = _pseudonym()
        request.requester_phone = None
        # Free texts may describe people (the form warns, but cannot prevent it).
        for name in ("participant_needs", "preferred_dates", "place", "situation", "note", "rejection_reason"):
            setattr(request, name, None)
        for item in request.items:
            item.note = None
    if ids:
        db.session.execute(update(RequestEvent).where(RequestEvent.request_id.in_(ids)).values(text=None))
        db.session.execute(delete(SupportRequestLink).where(SupportRequestLink.request_id.in_(ids)))
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.object_type == "support_requests", AuditEntry.object_id.in_(ids))
            .values(data={"anonymized": True})
        )
    outcome.requests += len(requests)


def default_retention() -> timedelta:
    return timedelta(days=current_app.config["RETENTION_DAYS"])


def run_retention(older_than: timedelta | None = None, now: datetime | None = None, actor: User | None = None):
    """Anonymise registrations of terms that ended, interest entries and finished
    requests older than the retention period; delete sent e-mails as old, and
    staff session rows a month after they ended (their own, shorter period)."""
    now = now or utcnow()
    cutoff = now - (older_than or default_retention())
    outcome = Outcome()
    with transaction():
        registrations = db.session.scalars(
            select(Registration)
            .join(Term, Term.id == Registration.term_id)
            .where(Term.ends_at < cutoff, ~Registration.email_normalized.endswith(ANONYMOUS_DOMAIN))
        ).all()
        _anonymise_registrations(registrations, outcome)
        _anonymise_interest(
            db.session.scalars(
                select(InterestEntry).where(
                    InterestEntry.created_at < cutoff, ~InterestEntry.email_normalized.endswith(ANONYMOUS_DOMAIN)
                )
            ).all(),
            outcome,
        )
        _anonymise_requests(
            db.session.scalars(
                select(SupportRequest).where(
                    SupportRequest.updated_at < cutoff,
                    SupportRequest.state.in_([RequestState.CLOSED, RequestState.REJECTED]),
                    ~SupportRequest.requester_email.endswith(ANONYMOUS_DOMAIN),
                )
            ).all(),
            outcome,
        )
        outcome.messages += db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.created_at < cutoff, OutboxMessage.state.in_([OutboxState.SENT, OutboxState.FAILED])
            )
        ).rowcount
        # Links that can no longer open anything are only a record of who used the service.
        db.session.execute(delete(PersonLink).where(
            or_(PersonLink.expires_at < now, PersonLink.revoked_at.is_not(None))))
        db.session.execute(delete(RegistrationLink).where(
            or_(RegistrationLink.expires_at < now, RegistrationLink.revoked_at.is_not(None))))
        outcome.staff_sessions = sessions.delete_old(now)
        audit.record("privacy.retention", audit.PRIVACY, actor, cutoff=cutoff, **outcome.as_dict(),
                     staff_sessions=outcome.staff_sessions)
    return outcome


def _person_rows(email: str):
    email = normalize_email(email)
    registrations = db.session.scalars(
        select(Registration).where(Registration.email_normalized == email).order_by(Registration.id)
    ).all()
    interest = db.session.scalars(
        select(InterestEntry).where(InterestEntry.email_normalized == email).order_by(InterestEntry.id)
    ).all()
    requests = db.session.scalars(
        select(SupportRequest).where(func.lower(SupportRequest.requester_email) == email).order_by(SupportRequest.id)
    ).all()
    return registrations, interest, requests


def export_person(email: str, actor: User | None) -> dict:
    """Everything held about one e-mail address, as plain data (a JSON download for staff)."""
    with transaction():
        registrations, interest, requests = _person_rows(email)
        messages = db.session.scalars(
            select(OutboxMessage).where(
                or_(func.lower(OutboxMessage.recipient) == normalize_email(email),
                    OutboxMessage.registration_id.in_([r.id for r in registrations]))
            ).order_by(OutboxMessage.id)
        ).all()
        data = {
            "email": normalize_email(email),
            "registrations": [
                {
                    "workshop": r.term.offer.title,
                    "term_starts_at": r.term.starts_at.isoformat(),
                    "state": r.state.value,
                    "name": r.name,
                    "email": r.email,
                    "phone": r.phone,
                    "employer_type": r.employer_type.value,
                    "region": r.region.name,
                    "orp": r.orp.name if r.orp else None,
                    "job_title": r.job_title,
                    "attended": r.attended,
                    "consent_at": r.consent_at.isoformat(),
                    "consent_version": r.consent_version,
                    "created_at": r.created_at.isoformat(),
                }
                for r in registrations
            ],
            "interest": [
                {"workshop": e.offer.title, "region": e.region.name, "orp": e.orp.name if e.orp else None,
                 "consent_at": e.consent_at.isoformat(), "consent_version": e.consent_version,
                 "created_at": e.created_at.isoformat()}
                for e in interest
            ],
            "requests": [
                {"kind": r.kind.value, "state": r.state.value, "requester_name": r.requester_name,
                 "requester_email": r.requester_email, "requester_phone": r.requester_phone,
                 "organisation": r.organisation, "situation": r.situation, "participant_needs": r.participant_needs,
                 "created_at": r.created_at.isoformat()}
                for r in requests
            ],
            "emails": [
                {"subject": m.subject, "state": m.state.value, "created_at": m.created_at.isoformat()}
                for m in messages
            ],
        }
        audit.record("privacy.export", audit.PRIVACY, actor, registrations=len(registrations),
                     interest_entries=len(interest), requests=len(requests))
    return data


def erase_person(email: str, actor: User | None, now: datetime | None = None) -> Outcome:
    """Erase one person on request, in one transaction: active registrations are cancelled first
    (their seats go to the waiting list), then everything is anonymised like old data. Should
    any step fail, nothing is done: no seat given up without the erasure, nor the reverse."""
    now = now or utcnow()
    outcome = Outcome()
    with transaction():
        registrations, _, _ = _person_rows(email)
        # Every term she may leave is locked here, in order, before any seat moves.
        with locked_many(Term, {r.term_id for r in registrations if can_cancel(r, now)}):
            for registration in registrations:
                # The one cancellation rule: a seat on a term that was itself cancelled, or has begun,
                # is not given up again; anonymising is all it needs.
                if not can_cancel(registration, now):
                    continue
                try:
                    cancel(registration.id, now=now)
                except NotCancellable:
                    continue  # cancelled meanwhile, before the lock: nothing to give up
                outcome.cancelled.append(registration.id)
            registrations, interest, requests = _person_rows(email)
            _anonymise_registrations(registrations, outcome)
            _anonymise_interest(interest, outcome)
            _anonymise_requests(requests, outcome)
            outcome.messages += db.session.execute(
                delete(OutboxMessage).where(func.lower(OutboxMessage.recipient) == normalize_email(email))
            ).rowcount
            # Also when the address had nothing else: a link asked for just before the erasure.
            db.session.execute(delete(PersonLink).where(PersonLink.email_normalized == normalize_email(email)))
            # Prepared files of her terms print her page; staff ask for them again without her.
            db.session.execute(delete(DocumentJob).where(DocumentJob.term_id.in_({r.term_id for r in registrations})))
            audit.record("privacy.erase", audit.PRIVACY, actor, **outcome.as_dict())
            db.session.flush()
    return outcome
