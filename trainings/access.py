"""Who may open which page: each handler declares it once, and this module enforces it.

Every view is declared either `@public` (the public site, its secret-link pages,
the way into the back office) or `@requires(*roles, scope=...)`: signed-in staff
of those roles and, where the page acts on one term or one request, only staff
whom that object's scope admits. An administrator passes every check.

One `before_request` hook (`enforce`) applies the declarations, before a view
loads anything: an anonymous visitor goes to the login, a wrong role or object
gets 403, an object that does not exist 404. A back-office URL whose handler
declares nothing is closed to everyone but administrators rather than left open.
Templates ask the same declarations through `may(endpoint, obj)`, and lists use
`term_filter` / `requests_handled_by`, the scopes' rules for many rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .extensions import db, login_manager
from .models import (
    Region,
    Registration,
    StaffRole,
    SupportRequest,
    Term,
    User,
    registration_for_code,
    term_lecturers,
    term_with_facts,
)

ADMIN, ORGANISER, COORDINATOR, LECTURER = (
    StaffRole.ADMIN, StaffRole.ORGANISER, StaffRole.COORDINATOR, StaffRole.LECTURER)
STAFF_PREFIX = "/sprava"


# --- the rules on single objects ------------------------------------------------------


def may_take_attendance(user: User, term: Term) -> bool:
    """Check-in, attendance and the printed lists of a term: organisers for every term,
    a lecturer for the terms the organiser linked her account to.

    Lecturers see participants' names and workplaces, so only of their own terms. The
    term's lecturer text grants nothing: "Eva Nová" is part of "Mgr. Eva Nováková".
    Her linked terms are loaded once per request, however many terms a page asks about.
    """
    if user.role in (ADMIN, ORGANISER):
        return True
    if user.role != LECTURER:
        return False
    return term.id in {taught.id for taught in user.taught_terms}


def can_handle(user: User, support_request: SupportRequest) -> bool:
    """A kraj coordinator handles the requests of the kraje she coordinates now and those
    once assigned to her. Organisers and lecturers handle none: requests carry the
    requesters' contacts and descriptions of OSPOD casework."""
    if user.role == ADMIN:
        return True
    if user.role != COORDINATOR:
        return False
    return support_request.coordinator_id == user.id or support_request.region.coordinator_id == user.id


def may_see_region(user: User, region: Region) -> bool:
    """A kraj's participation (Kde jsme byli): organisers every kraj, a coordinator the kraje
    she coordinates. Lecturers none."""
    if user.role in (ADMIN, ORGANISER):
        return True
    return user.role == COORDINATOR and region.coordinator_id == user.id


# --- the same rules for lists -----------------------------------------------------------


def term_filter(user: User):
    """`may_take_attendance` as a WHERE clause on Term; None when she may see every term."""
    if user.role in (ADMIN, ORGANISER):
        return None
    if user.role != LECTURER:
        return Term.id.is_(None)
    return Term.id.in_(select(term_lecturers.c.term_id).where(term_lecturers.c.user_id == user.id))


def regions_seen_by(user: User):
    """`may_see_region` as a WHERE clause on Region."""
    if user.role in (ADMIN, ORGANISER):
        return Region.id.is_not(None)
    if user.role != COORDINATOR:
        return Region.id.is_(None)
    return Region.coordinator_id == user.id


def requests_handled_by(user: User):
    """`can_handle` as a WHERE clause on SupportRequest."""
    if user.role == ADMIN:
        return SupportRequest.id.is_not(None)
    if user.role != COORDINATOR:
        return SupportRequest.id.is_(None)
    return or_(
        SupportRequest.coordinator_id == user.id,
        SupportRequest.region_id.in_(select(Region.id).where(Region.coordinator_id == user.id)),
    )


# --- scopes: which object a URL is about, and the rule for it --------------------------------


def _row(model, value):
    return db.session.get(model, value)


# The row a scope loaded is the one the handler works on: kept for the request (`loaded`),
# so the page or the tap reads it once. Loaded with what those handlers show of it.
def _remember(row):
    if row is not None:
        g.setdefault("access_rows", {})[(type(row), row.id)] = row
    return row


def loaded(model, object_id):
    """The row of `model` this request's access check loaded, or None when it loaded none."""
    return g.get("access_rows", {}).get((model, object_id))


def _term(term_id: int):
    return _remember(term_with_facts(term_id))


def _term_of_registration(registration_id: int):
    registration = _remember(db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.term).joinedload(Term.offer), joinedload(Registration.region),
                 joinedload(Registration.orp))
        .where(Registration.id == registration_id)
    ).one_or_none())
    return registration.term if registration is not None else None


def _term_of_check_in_code(code: str):
    registration = registration_for_code(code)
    return registration.term if registration is not None else None


@dataclass(frozen=True)
class Scope:
    """The object a handler acts on, found from its URL values, and who may act on it.

    `admits(user, obj)` is the rule; `find(**url_values)` returns the object the rule
    judges (a term also for a registration's URL), None when there is none (404)."""

    name: str
    admits: Callable[[User, object], bool]
    find: Callable[..., object | None]


TERM = Scope("term", may_take_attendance, lambda term_id, **_: _term(term_id))
REGISTRATION_TERM = Scope("term", may_take_attendance,
                          lambda registration_id, **_: _term_of_registration(registration_id))
CHECK_IN_CODE_TERM = Scope("term", may_take_attendance, lambda code, **_: _term_of_check_in_code(code))
REQUEST = Scope("request", can_handle, lambda request_id, **_: _row(SupportRequest, request_id))


# --- declarations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """What a handler declares: public, or the roles (administrators included) and a scope."""

    public: bool
    roles: frozenset[StaffRole] = frozenset()
    scope: Scope | None = None


PUBLIC = Access(public=True)
# Where a back-office handler declares nothing: closed rather than open.
UNDECLARED_STAFF_PAGE = Access(public=False, roles=frozenset({ADMIN}))


def public(view):
    """Anyone may open it: the public site, pages behind a secret link, the way in."""
    view.access = PUBLIC
    return view


def requires(*roles: StaffRole | str, scope: Scope | None = None):
    """Signed-in staff of one of `roles` (an administrator always), and where `scope` is
    given, only for the objects it admits her to. `requires(*StaffRole)`: every staff member."""
    if not roles:
        raise TypeError("requires() needs at least one role; a page for anyone is @public")
    declared = Access(public=False, roles=frozenset({ADMIN, *(StaffRole(r) for r in roles)}), scope=scope)

    def decorator(view):
        view.access = declared
        return view

    return decorator


def declaration(app: Flask, endpoint: str) -> Access | None:
    return getattr(app.view_functions.get(endpoint), "access", None)


def _signed_in_role_allows(access: Access) -> bool:
    return current_user.is_authenticated and current_user.role in access.roles


def enforce():
    """The one check, before every view."""
    rule = request.url_rule
    if rule is None:  # no such page: the 404 / 405 comes from routing
        return None
    access = declaration(current_app, request.endpoint)
    if access is None and rule.rule.startswith(STAFF_PREFIX):
        access = UNDECLARED_STAFF_PAGE
    if access is None or access.public:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not _signed_in_role_allows(access):
        abort(403)
    if access.scope is not None:
        obj = access.scope.find(**request.view_args)
        if obj is None:
            abort(404)
        if not access.scope.admits(current_user, obj):
            abort(403)
    return None


def may(endpoint: str, obj=None) -> bool:
    """For templates: may the signed-in user open this page (about `obj`, for a scoped one)?
    Shows a link or button only where following it would not end in a 403."""
    access = declaration(current_app, endpoint)
    if access is None:
        raise LookupError(f"{endpoint} declares no access")
    if access.public:
        return True
    if not _signed_in_role_allows(access):
        return False
    if access.scope is None:
        return True
    if obj is None:
        raise TypeError(f"{endpoint} is about one {access.scope.name}: pass it to may()")
    return access.scope.admits(current_user, obj)


def init_access(app: Flask) -> None:
    app.before_request(enforce)
    static = app.view_functions.get("static")
    if static is not None:
        # Flask's own view of static/: the stylesheets, scripts and fonts every page links.
        app.view_functions["static"] = public(lambda **values: static(**values))
