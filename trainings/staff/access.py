"""Access to staff pages: one decorator, checked before anything else in a view."""
from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from ..models import StaffRole


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
