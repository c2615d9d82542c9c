"""Writing e-mails into the outbox, inside the caller's transaction."""
from ..extensions import db
from ..models import OutboxMessage


def enqueue(*, kind, recipient, subject, body_text, body_html=None, attachments=(), registration=None):
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=list(attachments),
        registration=registration,
    )
    db.session.add(message)
    return message
