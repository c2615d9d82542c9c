"""Reminders before a term: sent once per registration, however often cron runs the command."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db_session import transaction
from ..extensions import db
from ..mail.outbox import enqueue_once
from ..models import Registration, RegistrationState, Term, TermState, utcnow
from . import notifications
from .service import issue_link


def send_reminders(days_before: int, now=None) -> int:
    """Queue a reminder for every confirmed person whose term starts within `days_before` days."""
    now = now or utcnow()
    with transaction():
        due = db.session.scalars(
            select(Registration)
            .join(Term, Term.id == Registration.term_id)
            .options(joinedload(Registration.term).joinedload(Term.offer))
            .where(
                Registration.state == RegistrationState.CONFIRMED,
                Term.state == TermState.SCHEDULED,
                Term.starts_at > now,
                Term.starts_at <= now + timedelta(days=days_before),
            )
        ).all()
        queued = 0
        for registration in due:
            key = f"reminder:{registration.id}"
            compose = lambda k, r=registration: notifications.reminder(r, issue_link(r), k)  # noqa: E731
            if enqueue_once(key, compose):
                queued += 1
    return queued
