"""The audit trail: every staff change to a term, registration or request."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select

from .extensions import db
from .models import AuditEntry, User


def _plain(value):
    """JSON-safe values, so the trail shows what changed in readable form."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Subject:
    """What an entry is about when that is no single row: a privacy run concerns many rows or none."""

    object_type: str
    object_id: int = 0


PRIVACY = Subject("privacy")


def record(action: str, obj, actor: User | None = None, **data) -> AuditEntry:
    """Add an entry in the caller's transaction: it is kept exactly when the change is.

    `obj` is a model row or a `Subject`."""
    if isinstance(obj, Subject):
        object_type, object_id = obj.object_type, obj.object_id
    else:
        object_type, object_id = type(obj).__tablename__, obj.id
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        data={key: _plain(value) for key, value in data.items()},
    )
    db.session.add(entry)
    return entry


def changes(obj, values: dict) -> dict:
    """{field: [old, new]} for the values that differ from the object's."""
    return {
        name: [_plain(getattr(obj, name)), _plain(value)]
        for name, value in values.items()
        if getattr(obj, name) != value
    }


def trail(obj) -> list[AuditEntry]:
    """`obj` is a model row or a `Subject`."""
    if isinstance(obj, Subject):
        object_type, object_id = obj.object_type, obj.object_id
    else:
        object_type, object_id = type(obj).__tablename__, obj.id
    return db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
