"""Sending queued e-mails: to .eml files in development, through SMTP otherwise."""
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_mail import Message
from sqlalchemy import or_, select

from ..extensions import db, mail
from ..models import OutboxMessage, OutboxState, utcnow

RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
MAX_ATTEMPTS = 8


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
        message.attach(item["filename"], item["content_type"], item["data"].encode("utf-8"))
    return message


def _deliver(message: Message, row: OutboxMessage) -> None:
    if current_app.config["MAIL_TRANSPORT"] == "files":
        folder = Path(current_app.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row.id:06d}-{row.kind}.eml").write_bytes(message.as_bytes())
    else:
        mail.send(message)


def _claim_due(limit: int) -> list[OutboxMessage]:
    now = utcnow()
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.RETRY]),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = db.session.scalars(stmt).all()
    for row in rows:
        row.state = OutboxState.SENDING
        row.attempts += 1
    db.session.commit()
    return rows


def send_due(limit: int = 100) -> dict:
    """One pass over due messages; returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for row in _claim_due(limit):
        try:
            _deliver(build_message(row), row)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.state = OutboxState.FAILED
                counts["failed"] += 1
            else:
                row.state = OutboxState.RETRY
                delay = RETRY_DELAYS[min(row.attempts - 1, len(RETRY_DELAYS) - 1)]
                row.next_attempt_at = utcnow() + delay
                counts["retry"] += 1
        else:
            row.state = OutboxState.SENT
            row.sent_at = utcnow()
            row.last_error = None
            counts["sent"] += 1
        db.session.commit()
    return counts
