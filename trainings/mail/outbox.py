"""Writing e-mails into the outbox, inside the caller's transaction."""
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import OutboxMessage, Registration


def enqueue(*, kind, recipient, subject, body_text, body_html=None, attachments=(), registration=None,
            dedupe_key=None, context=None):
    """Queue a message; returns it (an OutboxMessage to change further before the flush).

    A registration that is not an ORM object (the sign-up writes its row with a plain INSERT,
    registration.service.RegistrationRow) gets its message the same way: one INSERT on the transaction's
    connection, and None is returned, as nothing of the message is left to change."""
    if registration is not None and not isinstance(registration, Registration):
        db.session.connection().execute(_INSERT, {
            "context": context, "kind": kind, "recipient": recipient, "subject": subject, "body_text": body_text,
            "body_html": body_html, "attachments": list(attachments), "registration_id": registration.id,
            "dedupe_key": dedupe_key})
        return None
    message = OutboxMessage(
        context=context,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=list(attachments),
        registration=registration,
        dedupe_key=dedupe_key,
    )
    db.session.add(message)
    return message


# Built once: building a statement per call costs more CPU than running it.
_INSERT = insert(OutboxMessage.__table__)


def already_queued(dedupe_key: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def enqueue_once(dedupe_key: str, compose) -> OutboxMessage | None:
    """Queue the message `compose(dedupe_key)` builds unless one with this key exists.

    The unique key decides, so two runs at once (two cron jobs, two workers)
    still queue it once: the loser's insert fails inside a savepoint and is
    dropped without touching the rest of its transaction.
    """
    if already_queued(dedupe_key):
        return None
    try:
        with db.session.begin_nested():
            message = compose(dedupe_key)
            db.session.flush()
    except IntegrityError:
        return None
    return message
