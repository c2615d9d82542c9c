"""Back office: check-in at the door and attendance after the term (blueprint `attendance`).

Built for a phone in one hand at the door: a search that works without
JavaScript (GET), one POST per tap with its CSRF token, and an undo on every
marked row. Each tap redirects back to the same search with the row in view.
Organisers may check in at every term, lecturers at their own
(`trainings.access.may_take_attendance`).
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import czech
from ..access import CHECK_IN_CODE_TERM, LECTURER, ORGANISER, REGISTRATION_TERM, TERM, requires
from ..exports import roster
from ..forms import CzechForm
from ..models import RegistrationState, registration_for_code, utcnow
from ..web import term_or_404
from . import staff_actions
from .staff_forms import AttendanceForm
from .staff_views import registration_or_404

bp = Blueprint("attendance", __name__, url_prefix="/sprava")

VIEWS = {"": "všichni", "nezapsani": "nezapsaní", "pritomni": "přítomní", "nepritomni": "nepřítomní"}


@bp.get("/terminy/<id:term_id>/prichody")
@requires(ORGANISER, LECTURER, scope=TERM)
def check_in(term_id):
    term = term_or_404(term_id)
    q = request.args.get("q", "")[:100].strip()
    view = request.args.get("zobrazit", "")
    if view not in VIEWS:
        view = ""
    everyone = roster.term_registrations(term.id, [RegistrationState.CONFIRMED, RegistrationState.WAITLISTED])
    confirmed = [r for r in everyone if r.state == RegistrationState.CONFIRMED]
    present = sum(1 for r in confirmed if r.attended is True)
    absent = sum(1 for r in confirmed if r.attended is False)
    shown = [r for r in roster.search(confirmed, q) if _in_view(r, view)]
    # The waiting list appears only when searched for: someone at the door who is not confirmed.
    waiting = roster.search([r for r in everyone if r.state == RegistrationState.WAITLISTED], q) if q else []
    return render_template(
        "registration/staff/check_in.html", term=term, q=q, view=view, views=VIEWS, shown=shown, waiting=waiting,
        total=len(confirmed), present=present, absent=absent,
        open=staff_actions.attendance_open(term), ended=utcnow() >= term.ends_at,
        organisation=roster.organisation, highlight=request.args.get("r", type=int),
    )


def _in_view(registration, view: str) -> bool:
    return {
        "": True,
        "nezapsani": registration.attended is None,
        "pritomni": registration.attended is True,
        "nepritomni": registration.attended is False,
    }[view]


def _back_to_list(term_id: int, registration_id: int | None = None):
    q = request.form.get("q", "")[:100]
    view = request.form.get("zobrazit", "")
    params = {"q": q or None, "zobrazit": view if view in VIEWS and view else None, "r": registration_id}
    anchor = f"r{registration_id}" if registration_id else None
    return redirect(url_for(".check_in", term_id=term_id, _anchor=anchor, **params))


@bp.post("/prihlasky/<id:registration_id>/dochazka")
@requires(ORGANISER, LECTURER, scope=REGISTRATION_TERM)
def mark(registration_id):
    registration = registration_or_404(registration_id)
    # Read before the tap's transaction ends, which expires the row: the answer needs no reload.
    term_id, name = registration.term_id, registration.name
    form = AttendanceForm()
    if not form.validate_on_submit():
        flash("Zápis se nepodařil (stránka mohla vypršet), klepněte prosím znovu.", "error")
        return _back_to_list(term_id, registration_id)
    try:
        staff_actions.mark_attendance(registration_id, form.value, current_user)
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
    else:
        label = {True: "přítomnost zapsána", False: "neúčast zapsána", None: "zápis zrušen"}[form.value]
        flash(f"{name}: {label}.", "success")
    return _back_to_list(term_id, registration_id)


@bp.post("/prihlasky/<id:registration_id>/vpustit")
@requires(ORGANISER, LECTURER, scope=REGISTRATION_TERM)
def admit(registration_id):
    registration = registration_or_404(registration_id)
    term_id, name = registration.term_id, registration.name
    if not CzechForm().validate_on_submit():
        abort(400)
    try:
        staff_actions.admit_from_waitlist(registration_id, current_user)
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"{name}: přihláška potvrzena z čekací listiny, přítomnost zapsána.", "success")
    return _back_to_list(term_id, registration_id)


@bp.post("/terminy/<id:term_id>/neucast")
@requires(ORGANISER, LECTURER, scope=TERM)
def no_shows(term_id):
    term = term_or_404(term_id)
    if not CzechForm().validate_on_submit():
        abort(400)
    try:
        count = staff_actions.mark_no_shows(term.id, current_user)
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Neúčast zapsána: {czech.count_noun(count, *czech.REGISTRATIONS)}.", "success")
    return _back_to_list(term.id)


@bp.get("/prichod/<code>")
@requires(ORGANISER, LECTURER, scope=CHECK_IN_CODE_TERM)
def by_code(code):
    """Where the QR code on a confirmation e-mail leads: that person's row on the check-in page."""
    registration = registration_for_code(code)
    if registration is None:
        abort(404)
    return redirect(url_for(".check_in", term_id=registration.term_id, q=registration.check_in_code,
                            r=registration.id, _anchor=f"r{registration.id}"))
