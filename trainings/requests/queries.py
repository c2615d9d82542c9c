"""What the coordinators' pages read: the filtered list of requests and the kraje to filter by.
Every query is limited to the requests the signed-in user handles (access.requests_handled_by)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import workdays
from ..access import requests_handled_by
from ..extensions import db
from ..models import Region, RequestKind, RequestState, SupportRequest, SupportRequestItem, User
from ..places import in_czech_order
from ..timefmt import PRAGUE
from .service import is_pressing

LIST_FILTERS = {
    "otevrene": ("otevřené", lambda: SupportRequest.state.not_in([RequestState.CLOSED, RequestState.REJECTED])),
    "vse": ("všechny", None),
    **{s.value: (s.label, (lambda s=s: SupportRequest.state == s)) for s in RequestState},
}


def handled_regions(user: User) -> list[Region]:
    """The kraje of the requests she handles, in Czech order: the list's kraj filter."""
    return in_czech_order(db.session.scalars(
        select(Region).where(Region.id.in_(select(SupportRequest.region_id).where(requests_handled_by(user))))
    ).all())


def request_rows(user: User, state_filter: str, kind: str | None, region: Region | None) -> list[tuple]:
    """(request, overdue, answer due, pressing) for the list, newest first and the overdue ones on top:
    they are the ones that need her today."""
    stmt = (
        select(SupportRequest)
        .options(selectinload(SupportRequest.region), selectinload(SupportRequest.orp),
                 selectinload(SupportRequest.items).selectinload(SupportRequestItem.offer),
                 selectinload(SupportRequest.topic_offer), selectinload(SupportRequest.coordinator))
        .where(requests_handled_by(user))
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )
    condition = LIST_FILTERS[state_filter][1]
    if condition is not None:
        stmt = stmt.where(condition())
    if kind in {k.value for k in RequestKind}:
        stmt = stmt.where(SupportRequest.kind == RequestKind(kind))
    if region is not None:
        stmt = stmt.where(SupportRequest.region_id == region.id)
    now = datetime.now(PRAGUE)
    rows = [(r, workdays.is_overdue(r, now), workdays.answer_due(r), is_pressing(r, now))
            for r in db.session.scalars(stmt)]
    rows.sort(key=lambda row: not row[1])
    return rows


def waiting_for_answer(user: User) -> int:
    """New requests she handles that nobody has answered yet: what her start page names first."""
    return db.session.scalar(
        select(func.count(SupportRequest.id)).where(requests_handled_by(user), SupportRequest.state == RequestState.NEW)
    )


def all_regions() -> list[Region]:
    return in_czech_order(db.session.scalars(select(Region)).all())
