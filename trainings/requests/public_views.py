"""The public request pages (blueprint `requests`, under /zadost): the three forms and the
requester's follow page, reached by the secret link the confirmation e-mail gives."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ..access import public
from ..catalogue import queries as catalogue
from ..extensions import csrf
from ..forms import show_error
from ..models import OfferKind
from ..places import regions_with_orps
from ..security import limit_form_posts, private_page
from ..urls import absolute_url
from . import form_data, service
from .forms import CustomWorkshopForm, RequesterMessageForm, SupportForm, package_form

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("requests", __name__, url_prefix="/zadost", template_folder="templates")


def _request_form(form, template, submit, data, **context):
    """The form until it is valid; then to the service (`data` makes the service's data of the
    form): to the follow page, or back to the form with its refusal."""
    if not form.validate_on_submit():
        return render_template(template, form=form, **context), 422 if form.is_submitted() else 200
    try:
        outcome = submit(form_data.requester(form), data(form))
    except service.RequestError as exc:
        show_error(form, exc)
        return render_template(template, form=form, **context), 422
    flash("Žádost jsme přijali. Potvrzení s odkazem na tuto stránku jsme poslali na váš e-mail.", "success")
    return redirect(url_for(".follow", token=outcome.token))


@bp.route("/workshop-na-klic", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # the form checks its own token, so an expired one re-shows what was typed with a Czech message
def custom_workshop():
    template = "requests/custom_workshop_form.html"
    workshops = form_data.workshops()
    form = CustomWorkshopForm()
    form.set_places(regions_with_orps())
    form.set_topics(workshops)
    if not form.is_submitted():
        chosen = request.args.get("tema")
        form.topic_offer.data = next((o.id for o in workshops if o.slug == chosen), None)
    return _request_form(form, template, service.submit_custom_workshop, form_data.custom_workshop)


@bp.route("/metodicka-podpora", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # see custom_workshop
def support():
    template = "requests/support_form.html"
    offers = catalogue.offers_of_kind(OfferKind.SUPPORT)
    form = SupportForm()
    form.set_places(regions_with_orps())
    form.set_items(offers)
    if not form.is_submitted():
        form.items.data = form_data.preselected(offers)
    return _request_form(form, template, service.submit_support, form_data.support)


@bp.route("/balicek-pro-kraj", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # see custom_workshop
def region_package():
    template = "requests/region_package_form.html"
    offers = catalogue.offers_of_kind(OfferKind.REGION_SUPPORT)
    groups = form_data.catalogue_groups(offers)
    form = package_form(offers)
    form.set_places(regions_with_orps())
    if not form.is_submitted():
        form.items.data = form_data.preselected(offers)
    return _request_form(form, template, service.submit_region_package, form_data.region_package, groups=groups)


# --- the requester's private page ------------------------------------------------------


def _request_for_token(token):
    found = service.request_for_token(token)
    if found is None:
        abort(404)
    return found


def _render_follow(req, token, form, status=200):
    page = render_template(
        "requests/follow.html",
        req=req,
        token=token,
        events=service.history(req, for_requester=True),
        terms=req.terms,
        form=form,
        signup_url=lambda term: absolute_url("registration.closed_term", signup_token=term.signup_token),
    )
    return private_page(page, status)


@bp.get("/<token>")
@public
def follow(token):
    req = _request_for_token(token)
    return _render_follow(req, token, RequesterMessageForm())


@bp.post("/<token>/zprava")
@public
@limit_form_posts
@csrf.exempt  # the form checks its own token and keeps the message on failure
def message(token):
    req = _request_for_token(token)
    form = RequesterMessageForm()
    if not form.validate_on_submit():
        return _render_follow(req, token, form, 422)
    try:
        service.requester_message(req.id, form.text.data)
    except service.RequestError as exc:
        show_error(form, exc)
        return _render_follow(req, token, form, 409)
    flash("Zprávu jsme předali koordinaci MPSV pro váš kraj.", "success")
    return redirect(url_for(".follow", token=token))
