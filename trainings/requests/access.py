"""Who may handle which request: the one rule, used by every staff view and list.

An administrator handles every request. A kraj coordinator handles the
requests of the kraje she coordinates now, and those once assigned to her.
Organisers and lecturers handle none: requests carry the requesters'
contacts and descriptions of OSPOD casework, and an organiser sees what she
needs (the closed terms made from them) in the term overview.
"""
from sqlalchemy import or_, select

from ..models import Region, StaffRole, SupportRequest, User

# For staff_required(): the roles that can reach request pages at all.
HANDLER_ROLES = (StaffRole.COORDINATOR,)


def can_handle(user: User, request: SupportRequest) -> bool:
    if user.role == StaffRole.ADMIN:
        return True
    if user.role != StaffRole.COORDINATOR:
        return False
    return request.coordinator_id == user.id or request.region.coordinator_id == user.id


def handled_by(user: User):
    """The same rule as a WHERE clause, for lists."""
    if user.role == StaffRole.ADMIN:
        return SupportRequest.id.is_not(None)
    if user.role != StaffRole.COORDINATOR:
        return SupportRequest.id.is_(None)
    return or_(
        SupportRequest.coordinator_id == user.id,
        SupportRequest.region_id.in_(select(Region.id).where(Region.coordinator_id == user.id)),
    )
