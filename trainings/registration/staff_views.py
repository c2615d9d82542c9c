"""Back office: the registrations of a term and what organisers do with one (blueprint
`staff_registrations`, under /sprava). The rules are in staff_actions.py and service.py."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, czech, display
from ..access import ORGANISER, loaded, requires
from ..certificates.rule import can_issue
from ..exports import roster
from ..exports.download import certificate_download
from ..extensions import db
from ..forms import CzechForm, show_error
from ..models import Registration, RegistrationState, Term
from ..places import regions_with_orps
from ..web import term_or_404
from . import service, staff_actions
from .staff_forms import ConfirmRegistrationForm, NoteForm, RegistrationAddForm, StaffCancelForm

bp = Blueprint("staff_registrations", __name__, url_prefix="/sprava")

STATE_FILTERS = {
    "": ("aktivní", [RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]),
    "potvrzene": ("potvrzené", [RegistrationState.CONFIRMED]),
    "cekaci": ("čekací listina", [RegistrationState.WAITLISTED]),
    "zrusene": ("zrušené", [RegistrationState.CANCELLED]),
    "vse": ("všechny", None),
}


def registration_or_404(registration_id: int) -> Registration:
    registration = loaded(Registration, registration_id) or db.session.scalars(
        select(Registration)
        .options(joinedload(Registration.term).joinedload(Term.offer), joinedload(Registration.region),
                 joinedload(Registration.orp))
        .where(Registration.id == registration_id)
    ).one_or_none()
    if registration is None:
        abort(404)
    return registration


@bp.get("/terminy/<id:term_id>/prihlasky")
@requires(ORGANISER)
def index(term_id):
    term = term_or_404(term_id)
    q = request.args.get("q", "")[:100]
    state = request.args.get("stav", "")
    if state not in STATE_FILTERS:
        state = ""
    registrations = roster.term_registrations(term.id, STATE_FILTERS[state][1], q)
    return render_template(
        "registration/staff/registrations.html", term=term, registrations=registrations, q=q, state=state,
        filters=STATE_FILTERS, trails=display.trails_of_registrations(registrations),
        usage=service.seat_usage(term), organisation=roster.organisation,
    )


@bp.route("/terminy/<id:term_id>/prihlasky/nova", methods=["GET", "POST"])
@requires(ORGANISER)
def add(term_id):
    term = term_or_404(term_id)
    form = RegistrationAddForm()
    form.set_places(regions_with_orps())
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("registration/staff/registration_add.html", term=term, form=form,
                               usage=service.seat_usage(term)), status
    try:
        outcome = staff_actions.add_by_hand(term.id, form.applicant(), current_user,
                                            over_capacity=form.over_capacity.data, note=form.note.data)
    except service.AlreadyRegistered as exc:
        existing = url_for(".detail", registration_id=exc.registration_id)
        form.email.errors.append("S touto e-mailovou adresou už na termínu přihláška je.")
        flash(Markup('Existující přihlášku najdete <a href="{}">zde</a>.').format(existing), "info")
    except service.RegistrationError as exc:
        show_error(form, exc)
    else:
        registration = outcome.registration
        if outcome.waitlist_position is None:
            flash(f"{registration.name}: přihláška je potvrzená; posíláme e-mail s odkazem.", "success")
        else:
            flash(f"Termín je plný: {registration.name} je na čekací listině ({outcome.waitlist_position}. místo).",
                  "info")
        return redirect(url_for(".index", term_id=term.id))
    return render_template("registration/staff/registration_add.html", term=term, form=form,
                           usage=service.seat_usage(term)), 409


@bp.get("/prihlasky/<id:registration_id>")
@requires(ORGANISER)
def detail(registration_id):
    registration = registration_or_404(registration_id)
    return render_template(
        "registration/staff/registration.html", registration=registration, term=registration.term,
        trail=audit.trail(registration), position=registration.waitlist_position(),
        note_form=NoteForm(note=registration.internal_note), confirm_form=ConfirmRegistrationForm(),
        cancel_form=StaffCancelForm(), can_cancel=service.can_cancel(registration),
        certificate=can_issue(registration), organisation=roster.organisation(registration),
    )


def _return(default: str):
    """Back to the staff page the form came from (`zpet`), else to `default`."""
    target = request.form.get("zpet")
    return redirect(target if _safe(target) else default)


def _back(registration_id):
    return _return(url_for(".detail", registration_id=registration_id))


def _refused(form, registration_id):
    """An invalid form of the detail page: its messages in one line, back where it came from."""
    flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
    return _back(registration_id)


def _safe(target) -> bool:
    return bool(target) and target.startswith("/sprava/") and "//" not in target


def _run(registration_id, action, success: str):
    try:
        action()
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "success")
    return _back(registration_id)


@bp.post("/prihlasky/<id:registration_id>/potvrdit")
@requires(ORGANISER)
def confirm(registration_id):
    registration = registration_or_404(registration_id)
    form = ConfirmRegistrationForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(registration.id,
                lambda: staff_actions.confirm(registration.id, current_user, over_capacity=form.over_capacity.data),
                f"{registration.name}: přihláška je potvrzená; posíláme e-mail.")


@bp.post("/prihlasky/<id:registration_id>/na-cekaci-listinu")
@requires(ORGANISER)
def to_waitlist(registration_id):
    registration = registration_or_404(registration_id)
    if not CzechForm().validate_on_submit():
        abort(400)
    return _run(registration.id, lambda: staff_actions.move_to_waitlist(registration.id, current_user),
                f"{registration.name} je na konci čekací listiny. Uvolněné místo zůstává volné, "
                "dokud někoho nepotvrdíte nebo nedoplníte z čekací listiny.")


@bp.post("/prihlasky/<id:registration_id>/zrusit")
@requires(ORGANISER)
def cancel(registration_id):
    registration = registration_or_404(registration_id)
    form = StaffCancelForm()
    if not form.validate_on_submit():
        return _refused(form, registration.id)

    def run():
        promoted = staff_actions.cancel_on_behalf(registration.id, current_user, form.reason.data)
        if promoted:
            flash(f"Potvrzeno z čekací listiny: {', '.join(r.name for r in promoted)}.", "info")

    try:
        run()
    except service.NotCancellable:
        flash("Přihlášku už nelze zrušit (je zrušená, nebo termín začal či byl zrušen).", "error")
    else:
        flash(f"{registration.name}: přihláška je zrušená; posíláme e-mail.", "success")
    return _back(registration.id)


@bp.post("/prihlasky/<id:registration_id>/poznamka")
@requires(ORGANISER)
def note(registration_id):
    registration = registration_or_404(registration_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _refused(form, registration.id)
    return _run(registration.id, lambda: staff_actions.set_note(registration.id, form.note.data, current_user),
                "Poznámka je uložená.")


@bp.post("/terminy/<id:term_id>/doplnit")
@requires(ORGANISER)
def fill(term_id):
    term = term_or_404(term_id)
    if not CzechForm().validate_on_submit():
        abort(400)
    try:
        promoted = staff_actions.fill_from_waitlist(term.id, current_user)
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Potvrzeno z čekací listiny: {czech.count_noun(len(promoted), *czech.REGISTRATIONS)}."
              if promoted
              else "Nikdo z čekací listiny se nevejde (plno nebo limit ORP).", "info")
    return _return(url_for(".index", term_id=term.id))


@bp.get("/prihlasky/<id:registration_id>/osvedceni.pdf")
@requires(ORGANISER)
def certificate(registration_id):
    return certificate_download(registration_or_404(registration_id))
