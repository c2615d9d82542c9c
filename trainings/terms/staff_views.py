"""Back office: the terms of workshops (list, create, edit, duplicate, cancel),
a message to a term's participants, and where interest lies (blueprint `staff_terms`)."""
from collections import Counter
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from .. import audit, czech
from ..access import LECTURER, ORGANISER, requires, term_filter
from ..extensions import db
from ..feedback import service as feedback
from ..forms import show_error
from ..models import Offer, OfferKind, TermState, utcnow
from ..paging import requested_page
from ..places import optional_int, regions_with_orps
from ..registration import staff_actions
from ..registration.service import registration_counts, seat_usage
from ..urls import absolute_url
from ..web import term_or_404
from . import queries
from . import service as terms
from .staff_forms import MessageForm, TermCancelForm, TermEditForm

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("staff_terms", __name__, url_prefix="/sprava/terminy", template_folder="templates")
TERMS_PER_PAGE = 50


def _workshops(keep: int | None = None):
    """Workshops a term can be for: none withdrawn from the catalogue, except the one a term being
    edited already has (`keep`)."""
    return db.session.scalars(
        select(Offer).where(Offer.kind == OfferKind.WORKSHOP, or_(Offer.withdrawn_at.is_(None), Offer.id == keep))
        # "running" sorts after "planned": descending puts the running workshops first.
        .order_by(Offer.status.desc(), Offer.position)
    ).all()


def _term_form(data=None, term=None) -> TermEditForm:
    """`term`: the one being edited, whose lecturer accounts stay offered even when deactivated."""
    form = TermEditForm.for_data(data) if data is not None else TermEditForm()
    form.set_choices(_workshops(term.offer_id if term is not None else None), regions_with_orps(),
                     terms.lecturer_accounts(),
                     term.lecturers if term is not None else ())
    return form


def _render_form(form, term=None, source=None, status=200):
    return render_template("terms/staff/term_form.html", form=form, term=term, source=source), status


@bp.get("/")
@requires(ORGANISER, LECTURER)
def index():
    """Terms that have not ended (a term running now is found at the door) or those that have, the
    moment they end (no-shows are marked and certificates printed from there)."""
    past = request.args.get("obdobi") == "probehle"
    now = utcnow()
    mine = term_filter(current_user)
    number = requested_page(request.args)
    if past:
        rows = queries.term_rows(ends_from=now - timedelta(days=366), ends_before=now,
                                 newest_first=True, lecturer_filter=mine, page=number, per_page=TERMS_PER_PAGE)
    else:
        rows = queries.term_rows(ends_from=now, lecturer_filter=mine, page=number, per_page=TERMS_PER_PAGE)
    return render_template("terms/staff/terms.html", rows=rows.items, terms_page=rows, past=past)


@bp.route("/novy", methods=["GET", "POST"])
@requires(ORGANISER)
def new():
    """A new term; with ?z=<id> the form starts as a copy of that term."""
    source = None
    if request.args.get("z"):
        source = term_or_404(optional_int(request.args["z"]))
    if request.method == "GET":
        if source is not None:
            form = _term_form(terms.duplicate_data(source))
        else:
            form = _term_form()
            form.public.data = True
        return _render_form(form, source=source)
    form = _term_form()
    if not form.validate_on_submit():
        return _render_form(form, source=source, status=422)
    try:
        term = terms.create_term(form.to_data(), current_user, copied_from=source.id if source else None)
    except terms.TermError as exc:
        show_error(form, exc)
        return _render_form(form, source=source, status=422)
    flash("Termín je vytvořený." + ("" if term.public else " Je uzavřený: sdílejte jeho odkaz pro přihlášení."),
          "success")
    return redirect(url_for(".detail", term_id=term.id))


@bp.get("/<id:term_id>")
@requires(ORGANISER)
def detail(term_id):
    term = term_or_404(term_id)
    # The same address the e-mails give (PUBLIC_BASE_URL), not the one this request came in on.
    signup_url = (absolute_url("registration.closed_term", signup_token=term.signup_token)
                  if not term.public and term.signup_token else None)
    return render_template(
        "terms/staff/term.html", term=term, usage=seat_usage(term), signup_url=signup_url,
        lecturers=[terms.account_label(user) for user in terms.in_czech_order(term.lecturers)],
        counts={state.value: n for state, n in registration_counts([term.id]).get(term.id, Counter()).items()},
        trail=audit.trail(term),
        feedback=feedback.term_sending(term),
    )


@bp.route("/<id:term_id>/upravit", methods=["GET", "POST"])
@requires(ORGANISER)
def edit(term_id):
    term = term_or_404(term_id)
    if term.state == TermState.CANCELLED:
        flash("Zrušený termín nelze upravovat.", "error")
        return redirect(url_for(".detail", term_id=term.id))
    if request.method == "GET":
        return _render_form(_term_form(terms.TermData.of(term), term), term=term)
    form = _term_form(term=term)
    if not form.validate_on_submit():
        return _render_form(form, term=term, status=422)
    try:
        promoted = terms.update_term(term.id, form.to_data(), current_user)
    except terms.TermError as exc:
        show_error(form, exc)
        return _render_form(form, term=term, status=422)
    message = "Změny jsou uložené."
    if promoted:
        message += (f" Potvrzeno z čekací listiny: {czech.count_noun(len(promoted), *czech.REGISTRATIONS)};"
                    " zprávu posíláme e-mailem.")
    flash(message, "success")
    return redirect(url_for(".detail", term_id=term.id))


@bp.route("/<id:term_id>/zrusit", methods=["GET", "POST"])
@requires(ORGANISER)
def cancel(term_id):
    term = term_or_404(term_id)
    form = TermCancelForm()
    if term.state == TermState.CANCELLED:
        flash("Termín už je zrušený.", "info")
        return redirect(url_for(".detail", term_id=term.id))
    refusal = terms.cancel_refusal(term)
    if refusal:
        flash(refusal.message, "info")
        return redirect(url_for(".detail", term_id=term.id))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("terms/staff/term_cancel.html", term=term, form=form), status
    try:
        told = terms.cancel_term(term.id, current_user, form.reason.data or None)
    except terms.TermTookPlace as exc:  # it started while the form was open
        flash(exc.message, "info")
        return redirect(url_for(".detail", term_id=term.id))
    flash(f"Termín je zrušený. E-mail o zrušení posíláme na {czech.count_noun(told, *czech.ADDRESSES)}.",
          "success")
    return redirect(url_for(".detail", term_id=term.id))


@bp.post("/<id:term_id>/osvedceni-a-dotaznik")
@requires(ORGANISER)
def send_feedback(term_id):
    term = term_or_404(term_id)
    try:
        queued = feedback.send_for_term(term.id, current_user)
    except feedback.NotDue as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", term_id=term.id))
    if queued:
        flash(f"Osvědčení a dotazník jsou ve frontě k odeslání na {czech.count_noun(queued, *czech.ADDRESSES)}.",
              "success")
    else:
        flash("Osvědčení a dotazník už odešly všem, kdo mají zapsanou účast; nic dalšího se neposílá.", "info")
    return redirect(url_for(".detail", term_id=term.id))


@bp.route("/<id:term_id>/zprava", methods=["GET", "POST"])
@requires(ORGANISER)
def message(term_id):
    term = term_or_404(term_id)
    form = MessageForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("terms/staff/term_message.html", term=term, form=form,
                               confirmed=seat_usage(term).confirmed), status
    try:
        sent = staff_actions.message_participants(term.id, form.subject.data, form.body.data, current_user)
    except staff_actions.RegistrationError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", term_id=term.id))
    flash(f"Zpráva je ve frontě k odeslání na {czech.count_noun(sent, *czech.ADDRESSES)}.", "success")
    return redirect(url_for(".detail", term_id=term.id))


@bp.get("/zajem")
@requires(ORGANISER)
def interest():
    return render_template("terms/staff/interest.html", summaries=queries.interest_by_region())
