"""Access to staff pages: one decorator, checked before anything else in a view."""
from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from ..models import StaffRole
from ..registration.roster import fold


def staff_required(*roles: StaffRole):
    """Anonymous users go to the login page; staff without one of `roles` get 403.

    An administrator passes every check. With no roles given, any staff member passes.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.staff_roles = roles or tuple(StaffRole)
        return wrapped

    return decorator


def may_take_attendance(user, term) -> bool:
    """Check-in and attendance of a term: organisers (and admins) for every term,
    a lecturer for the terms whose lecturer field names her as her account does.

    Lecturers see participants' names and workplaces, so only of their own
    terms; matching ignores case and diacritics, and the organiser who types
    the lecturer's full name into the term gives her access.
    """
    if user.has_role(StaffRole.ORGANISER):
        return True
    if user.role != StaffRole.LECTURER or not user.name:
        return False
    return fold(user.name) in fold(term.lecturer)


def require_attendance_access(term) -> None:
    if not may_take_attendance(current_user, term):
        abort(403)
