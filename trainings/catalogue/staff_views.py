"""Back office: the catalogue's offers edited, previewed, published, restored, withdrawn
(blueprint `catalogue_staff`). The rules are in editing.py."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit, page_cache
from ..access import ORGANISER, requires
from ..extensions import db
from ..forms import CzechForm, show_error
from ..models import Offer, OfferKind, OfferRevision
from . import editing
from .staff_forms import OfferForm
from .views import render_public_page

bp = Blueprint("catalogue_staff", __name__, url_prefix="/sprava/nabidka")


def _offer_or_404(offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    return offer


def _form(kind: OfferKind, data=None) -> OfferForm:
    form = OfferForm(data=data) if data is not None else OfferForm()
    return form.for_kind(kind)


def _render_form(offer, form, status=200):
    return render_template("catalogue/staff/form.html", offer=offer, form=form,
                           draft=editing.draft_of(offer) if offer is not None else None), status


def _published(offer: Offer) -> None:
    # This process's cached public pages show the change at once; others within PAGE_CACHE_SECONDS.
    page_cache.clear()


@bp.get("/")
@requires(ORGANISER)
def index():
    return render_template("catalogue/staff/index.html", groups=editing.catalogue_for_staff(),
                           headings=editing.KIND_HEADINGS, drafts=editing.offers_with_drafts())


@bp.route("/novy-workshop", methods=["GET", "POST"])
@requires(ORGANISER)
def new():
    form = _form(OfferKind.WORKSHOP)
    if request.method == "GET":
        form.status.data = "planned"
        return _render_form(None, form)
    if not form.validate_on_submit():
        return _render_form(None, form, 422)
    try:
        offer = editing.create_workshop(form.values(), current_user)
    except editing.EditRefused as exc:
        show_error(form, exc)
        return _render_form(None, form, 422)
    flash("Workshop je uložený jako koncept mimo nabídku. Zkontrolujte náhled a zveřejněte ho.", "success")
    return redirect(url_for(".preview", offer_id=offer.id))


@bp.route("/<id:offer_id>/upravit", methods=["GET", "POST"])
@requires(ORGANISER)
def edit(offer_id):
    """The form saves a draft; the public pages change only when it is published from the preview."""
    offer = _offer_or_404(offer_id)
    if request.method == "GET":
        draft = editing.draft_of(offer)
        return _render_form(offer, _form(offer.kind, draft.values if draft else editing.values_of(offer)))
    form = _form(offer.kind)
    if not form.validate_on_submit():
        return _render_form(offer, form, 422)
    try:
        editing.save_draft(offer, form.values(), current_user)
    except editing.EditRefused as exc:
        show_error(form, exc)
        return _render_form(offer, form, 422)
    return redirect(url_for(".preview", offer_id=offer.id))


@bp.get("/<id:offer_id>/nahled")
@requires(ORGANISER)
def preview(offer_id):
    offer = _offer_or_404(offer_id)
    draft = editing.draft_of(offer)
    if draft is None:
        flash("Nabídka nemá žádný koncept; upravte ji a uložte.", "info")
        return redirect(url_for(".edit", offer_id=offer.id))
    shown = editing.as_drafted(offer, draft.values)
    return render_public_page(shown, "catalogue/staff/preview.html", edited=offer, draft=draft,
                              changes=editing.change_lines(draft.changes), action_form=CzechForm())


@bp.post("/<id:offer_id>/zverejnit")
@requires(ORGANISER)
def publish(offer_id):
    offer = _offer_or_404(offer_id)
    _check_token()
    try:
        editing.publish(offer, current_user)
    except editing.EditRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".preview" if editing.draft_of(offer) else ".edit", offer_id=offer.id))
    _published(offer)
    flash("Změny jsou zveřejněné." if offer.withdrawn_at is None else
          "Verze je zveřejněná; nabídka ale zatím není v katalogu – zařaďte ji tlačítkem níže.", "success")
    return redirect(url_for(".history", offer_id=offer.id))


@bp.post("/<id:offer_id>/zahodit")
@requires(ORGANISER)
def discard(offer_id):
    offer = _offer_or_404(offer_id)
    _check_token()
    editing.discard_draft(offer)
    flash("Koncept je zahozený; veřejná stránka se nezměnila.", "success")
    return redirect(url_for(".edit", offer_id=offer.id))


@bp.get("/<id:offer_id>/historie")
@requires(ORGANISER)
def history(offer_id):
    offer = _offer_or_404(offer_id)
    return render_template("catalogue/staff/history.html", offer=offer, revisions=editing.history(offer),
                           draft=editing.draft_of(offer), change_lines=editing.change_lines,
                           actions=editing.ACTIONS, trail=audit.trail(offer), action_form=CzechForm())


@bp.post("/<id:offer_id>/verze/<id:revision_id>/obnovit")
@requires(ORGANISER)
def restore(offer_id, revision_id):
    offer = _offer_or_404(offer_id)
    revision = db.session.get(OfferRevision, revision_id)
    if revision is None or revision.offer_id != offer.id:
        abort(404)
    _check_token()
    try:
        editing.restore(revision, current_user)
    except editing.EditRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".history", offer_id=offer.id))
    _published(offer)
    flash("Verze je obnovená a zveřejněná.", "success")
    return redirect(url_for(".history", offer_id=offer.id))


@bp.post("/<id:offer_id>/stahnout")
@requires(ORGANISER)
def withdraw(offer_id):
    offer = _offer_or_404(offer_id)
    _check_token()
    editing.withdraw(offer, current_user)
    _published(offer)
    flash("Nabídka je stažená: z katalogu i přihlašování zmizela, vypsané termíny, přihlášky a osvědčení "
          "platí dál.", "success")
    return redirect(url_for(".edit", offer_id=offer.id))


@bp.post("/<id:offer_id>/zaradit")
@requires(ORGANISER)
def return_to_catalogue(offer_id):
    offer = _offer_or_404(offer_id)
    _check_token()
    try:
        editing.return_to_catalogue(offer, current_user)
    except editing.EditRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".edit", offer_id=offer.id))
    _published(offer)
    flash("Nabídka je znovu v katalogu.", "success")
    return redirect(url_for(".edit", offer_id=offer.id))


def _check_token() -> None:
    # The buttons carry only the CSRF token (CSRFProtect has checked it before the view already).
    if not CzechForm().validate_on_submit():
        abort(400)
