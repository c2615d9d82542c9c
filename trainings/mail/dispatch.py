"""The dispatcher: sends due outbox messages, to SMTP or (development) to .eml files.

Several dispatchers may run at once. Each claims a batch in a short
transaction of its own (rows locked with SKIP LOCKED on PostgreSQL, the
database write lock on SQLite) and marks it "sending" before any network
work, so no message is claimed twice. A message left "sending" by a crashed
dispatcher is claimed again after STUCK_AFTER: delivery is at least once,
and a duplicate is possible only after a crash between sending and marking.
"""
from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_mail import Message
from sqlalchemy import and_, or_, select

from ..db_session import begin_write
from ..extensions import db, mail
from ..models import OutboxMessage, OutboxState, utcnow
from .messages import compose_pending

RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
]
MAX_ATTEMPTS = 8
STUCK_AFTER = timedelta(minutes=10)


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


def classify(exc: Exception) -> bool:
    """True when the failure is worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    if isinstance(exc, PermanentFailure):
        return False
    # Refused or dropped connections, time-outs, DNS: the server may come back.
    return True


def describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        text = f"{exc.smtp_code} {message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:2000]


def build_message(row: OutboxMessage) -> Message:
    message = Message(
        subject=row.subject,
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-SPOD4-Message": f"{row.kind}-{row.id}"},
    )
    for item in row.attachments or []:
        message.attach(
            item["filename"], item["content_type"], item["data"].encode("utf-8"),
            headers=item.get("headers"),
        )
    return message


class FileTransport:
    """Development default: one .eml file per message, for a newcomer to open."""

    def __init__(self):
        self.folder = Path(current_app.config["MAIL_FILE_DIR"])
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message, name: str) -> None:
        (self.folder / f"{name}.eml").write_bytes(message.as_bytes())

    def reset(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection per pass, reopened after a failure."""

    def __init__(self):
        self.connection = None

    def send(self, message: Message, name: str) -> None:
        if self.connection is None:
            self.connection = mail.connect()
            self.connection.__enter__()
        self.connection.send(message)

    def reset(self) -> None:
        if self.connection is not None:
            try:
                self.connection.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - a dead connection may fail to close
                pass
            self.connection = None


def _transport():
    return FileTransport() if current_app.config["MAIL_TRANSPORT"] == "files" else SmtpTransport()


def _claim_due(limit: int, now) -> list[int]:
    session = db.session
    session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    due = or_(
        and_(
            OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.RETRY]),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_at < now - STUCK_AFTER),
    )
    rows = session.scalars(
        select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.state = OutboxState.SENDING
        row.claimed_at = now
        row.attempts += 1
    ids = [row.id for row in rows]
    session.commit()
    return ids


def _record_failure(row: OutboxMessage, exc: Exception) -> str:
    row.last_error = describe(exc)
    if not classify(exc) or row.attempts >= MAX_ATTEMPTS:
        row.state = OutboxState.FAILED
        return "failed"
    row.state = OutboxState.RETRY
    row.next_attempt_at = utcnow() + RETRY_DELAYS[min(row.attempts - 1, len(RETRY_DELAYS) - 1)]
    return "retry"


def _record_sent(row: OutboxMessage) -> str:
    row.state = OutboxState.SENT
    row.sent_at = utcnow()
    row.last_error = None
    return "sent"


def send_due(limit: int = 100, now=None) -> dict:
    """One pass over due messages; returns counts by outcome.

    No transaction is open while a message travels to the server, so a slow
    SMTP server never holds up registrations.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = _claim_due(limit, now or utcnow())
    if not ids:
        return counts
    transport = _transport()
    try:
        for message_id in ids:
            failure = None
            try:
                row = db.session.get(OutboxMessage, message_id)
                if row.body_text is None:
                    # Queued by a request that stopped before writing it.
                    compose_pending([message_id])
                    row = db.session.get(OutboxMessage, message_id)
                message, name = build_message(row), f"{row.id:06d}-{row.kind}"
                db.session.rollback()
                transport.send(message, name)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
                db.session.rollback()
                failure = exc
                transport.reset()
            begin_write()
            row = db.session.get(OutboxMessage, message_id, populate_existing=True)
            counts[_record_failure(row, failure) if failure else _record_sent(row)] += 1
            db.session.commit()
    finally:
        transport.reset()
    return counts
