"""The coordinators' request pages (blueprint `requests_staff`, under /sprava/zadosti): the
list, a request's detail and workflow, comments, and closed terms made from an agreed request.
Who may open them is declared on each handler (trainings/access.py)."""
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import workdays
from ..access import COORDINATOR, REQUEST, requires
from ..extensions import db
from ..forms import show_error
from ..models import RegistrationState, RequestKind, RequestState, SupportRequest
from ..registration.service import registration_counts
from ..terms.service import TermError
from ..timefmt import PRAGUE
from ..urls import absolute_url
from . import form_data, queries, service
from .forms import CommentForm, TransitionForm

staff_bp = Blueprint("requests_staff", __name__, url_prefix="/sprava/zadosti")


def _actor():
    """The logged-in user itself, not the proxy: it goes into history and audit rows."""
    return current_user._get_current_object()


def _handled_request(request_id: int) -> SupportRequest:
    """The request of the URL: `@requires(..., scope=REQUEST)` has already found it and
    checked that the signed-in user may handle it."""
    return db.session.get(SupportRequest, request_id)


@staff_bp.get("/")
@requires(COORDINATOR)
def index():
    chosen = request.args.get("stav", "otevrene")
    if chosen not in queries.LIST_FILTERS:
        chosen = "otevrene"
    kind = request.args.get("druh")
    regions = queries.handled_regions(current_user)
    region_slug = request.args.get("kraj")
    chosen_region = next((r for r in regions if r.slug == region_slug), None)
    rows = queries.request_rows(current_user, chosen, kind, chosen_region)
    return render_template(
        "requests/staff/list.html", rows=rows, filters=queries.LIST_FILTERS, chosen=chosen, kinds=RequestKind,
        kind=kind, overdue=sum(1 for row in rows if row[1]), regions=regions, chosen_region=chosen_region,
    )


def _render_detail(req, status=200, **forms):
    forms.setdefault("transition_form", TransitionForm())
    forms.setdefault("comment_form", CommentForm())
    item_forms = forms.pop("item_forms", {})
    for item in req.items:
        item_forms.setdefault(item.id, TransitionForm(prefix=f"item{item.id}"))
    counts = {
        term_id: (c[RegistrationState.CONFIRMED], c[RegistrationState.WAITLISTED])
        for term_id, c in registration_counts(t.id for t in req.terms).items()
    }
    now = datetime.now(PRAGUE)
    return render_template(
        "requests/staff/detail.html",
        req=req,
        next_states=service.allowed_next(req.state),
        item_forms=item_forms,
        allowed_next=service.allowed_next,
        events=service.history(req),
        counts=counts,
        overdue=workdays.is_overdue(req, now),
        answer_due=workdays.answer_due(req),
        can_make_terms=service.can_make_terms(req),
        signup_url=lambda term: absolute_url("registration.closed_term", signup_token=term.signup_token),
        **forms,
    ), status


@staff_bp.get("/<id:request_id>")
@requires(COORDINATOR, scope=REQUEST)
def detail(request_id):
    req = _handled_request(request_id)
    return _render_detail(req)


def _state_from(form) -> RequestState | None:
    try:
        return RequestState(form.to_state.data)
    except ValueError:
        return None


@staff_bp.post("/<id:request_id>/stav")
@requires(COORDINATOR, scope=REQUEST)
def transition(request_id):
    req = _handled_request(request_id)
    form = TransitionForm()
    to_state = _state_from(form) if form.validate_on_submit() else None
    if to_state is None:
        form.to_state.errors = list(form.to_state.errors) or ["Vyberte nový stav."]
        return _render_detail(req, 422, transition_form=form)
    try:
        service.transition(req.id, to_state, _actor(), form.text.data)
    except service.RequestError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, transition_form=form)
    flash(f"Žádost je ve stavu „{to_state.label}“. Na adresu žádosti jsme poslali e-mail.", "success")
    return redirect(url_for(".detail", request_id=req.id))


@staff_bp.post("/<id:request_id>/polozka/<id:item_id>/stav")
@requires(COORDINATOR, scope=REQUEST)
def transition_item(request_id, item_id):
    req = _handled_request(request_id)
    item = next((i for i in req.items if i.id == item_id), None)
    if item is None:
        abort(404)
    form = TransitionForm(prefix=f"item{item.id}")
    to_state = _state_from(form) if form.validate_on_submit() else None
    if to_state is None:
        form.to_state.errors = list(form.to_state.errors) or ["Vyberte nový stav."]
        return _render_detail(req, 422, item_forms={item.id: form})
    try:
        service.transition_item(req.id, item.id, to_state, _actor(), form.text.data)
    except service.RequestError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, item_forms={item_id: form})
    flash(f"Položka {item.offer.code} je ve stavu „{to_state.label}“.", "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor=f"polozka-{item_id}"))


@staff_bp.post("/<id:request_id>/komentar")
@requires(COORDINATOR, scope=REQUEST)
def comment(request_id):
    req = _handled_request(request_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_detail(req, 422, comment_form=form)
    try:
        service.comment(req.id, _actor(), form.text.data, bool(form.visible.data))
    except service.RequestError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, comment_form=form)
    flash("Komentář je uložený" + (" a na adresu žádosti odešel e-mail." if form.visible.data else " (interní)."), "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor="historie"))


# --- closed terms ---------------------------------------------------------------------


@staff_bp.route("/<id:request_id>/termin", methods=["GET", "POST"])
@requires(COORDINATOR, scope=REQUEST)
def new_term(request_id):
    req = _handled_request(request_id)
    if not service.can_make_terms(req):
        flash("Uzavřený termín lze vypsat jen k dohodnuté žádosti o workshop na klíč.", "error")
        return redirect(url_for(".detail", request_id=req.id))
    form = form_data.closed_term_form(req)
    if not form.validate_on_submit():
        return render_template("requests/staff/term_form.html", req=req, form=form), (
            422 if form.is_submitted() else 200)
    try:
        term = service.create_closed_term(req.id, form.to_data(req), _actor())
    except (TermError, service.RequestError) as exc:
        db.session.rollback()
        show_error(form, form_data.on_closed_term_form(exc))
        req = db.session.get(SupportRequest, request_id)
        return render_template("requests/staff/term_form.html", req=req, form=form), 422
    # Back on her request (not the organisers' term page): the message names the term and its link.
    link = absolute_url("registration.closed_term", signup_token=term.signup_token)
    flash(Markup("Uzavřený termín je vypsaný: {}. Odkaz k přihlášení odešel e-mailem na adresu žádosti "
                 'a lze ho rozeslat dál: <a href="{}">{}</a>').format(service.term_line(term), link, link), "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor=f"termin-{term.id}"))
