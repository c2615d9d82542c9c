"""What staff may do with the outbox: see messages that did not go out, send them again."""
from sqlalchemy import func, select

from ..db_session import transaction
from ..extensions import db
from ..models import OutboxMessage, OutboxState, utcnow


def problem_messages(limit: int = 200) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state.in_([OutboxState.FAILED, OutboxState.RETRY]))
        .order_by(OutboxMessage.created_at.desc())
        .limit(limit)
    ).all()


def counts_by_state() -> dict[OutboxState, int]:
    rows = db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
    return {state: n for state, n in rows}


def retry_now(message_id: int) -> bool:
    """Put a failed or waiting message back in the queue for the next dispatcher pass."""
    with transaction():
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.state not in (OutboxState.FAILED, OutboxState.RETRY):
            return False
        message.state = OutboxState.QUEUED
        message.next_attempt_at = utcnow()
        message.attempts = 0
    return True
