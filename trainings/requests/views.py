"""Request pages: the three public forms and the requester's follow page
(`requests`), and the coordinators' pages under /sprava/zadosti (`requests_staff`)."""
from datetime import datetime

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import COORDINATOR, REQUEST, public, requests_handled_by, requires
from ..catalogue import queries as catalogue
from ..project import region_groups
from ..extensions import csrf, db
from ..models import (
    OfferKind,
    Region,
    RegistrationState,
    RequestKind,
    RequestState,
    SupportRequest,
    SupportRequestItem,
    TermForm,
    Urgency,
)
from ..places import in_czech_order, regions_with_orps
from ..registration.service import registration_counts
from ..security import limit_form_posts
from ..terms.service import TermError
from ..timefmt import PRAGUE
from ..urls import absolute_url
from .. import workdays
from . import service
from .forms import (
    RESTRICT_ORP,
    RESTRICT_REGION,
    ClosedTermForm,
    CommentForm,
    CustomWorkshopForm,
    RequesterMessageForm,
    SupportForm,
    TransitionForm,
    package_form,
)

bp = Blueprint("requests", __name__, url_prefix="/zadost")
staff_bp = Blueprint("requests_staff", __name__, url_prefix="/sprava/zadosti")


def _requester(form) -> service.Requester:
    return service.Requester(
        name=form.name.data, email=form.email.data, phone=form.phone.data, organisation=form.organisation.data
    )


def _preselected(offers) -> list[int]:
    """?polozka=<slug> from the catalogue's "Požádat" links ticks that item."""
    slugs = set(request.args.getlist("polozka"))
    return [o.id for o in offers if o.slug in slugs]


def _submit(form, template, submit, data, **context):
    """Hand the form to the service: to the follow page, or back to the form with its refusal."""
    try:
        outcome = submit(_requester(form), data)
    except service.RequestError as exc:
        target = getattr(form, exc.field, None) if exc.field else None
        (target.errors if target is not None else form.form_errors).append(exc.message)
        return render_template(template, form=form, **context), 422
    flash("Žádost jsme přijali. Potvrzení s odkazem na tuto stránku jsme poslali na váš e-mail.", "success")
    return redirect(url_for(".follow", token=outcome.token))


def _workshops():
    """Topics to choose from: the catalogue's workshops, running and planned."""
    return [o for o in catalogue.offers_of_kind(OfferKind.WORKSHOP) if not o.custom]


# --- public forms -------------------------------------------------------------------


@bp.route("/workshop-na-klic", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # the form checks its own token, so an expired one re-shows what was typed with a Czech message
def custom_workshop():
    template = "requests/custom_workshop_form.html"
    workshops = _workshops()
    form = CustomWorkshopForm()
    form.set_places(regions_with_orps())
    form.set_topics(workshops)
    if not form.is_submitted():
        chosen = request.args.get("tema")
        form.topic_offer.data = next((o.id for o in workshops if o.slug == chosen), None)
    if not form.validate_on_submit():
        return render_template(template, form=form), 422 if form.is_submitted() else 200
    data = service.CustomWorkshop(
        region_id=form.region.data,
        orp_id=form.orp.data,
        topic_offer_id=form.topic_offer.data,
        topic_text=form.topic_text.data,
        participant_needs=form.participant_needs.data,
        expected_participants=form.expected_participants.data,
        preferred_dates=form.preferred_dates.data,
        preferred_form=TermForm(form.form.data),
        place=form.place.data,
    )
    return _submit(form, template, service.submit_custom_workshop, data)


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
        form.items.data = _preselected(offers)
    if not form.validate_on_submit():
        return render_template(template, form=form), 422 if form.is_submitted() else 200
    data = service.Support(
        region_id=form.region.data,
        orp_id=form.orp.data,
        offer_ids=tuple(form.items.data),
        situation=form.situation.data,
        preferred_form=TermForm(form.form.data),
        urgency=Urgency(form.urgency.data),
    )
    return _submit(form, template, service.submit_support, data)


@bp.route("/balicek-pro-kraj", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # see custom_workshop
def region_package():
    template = "requests/region_package_form.html"
    offers = catalogue.offers_of_kind(OfferKind.REGION_SUPPORT)
    groups = catalogue_groups(offers)
    form = package_form(offers)
    form.set_places(regions_with_orps())
    if not form.is_submitted():
        form.items.data = _preselected(offers)
    if not form.validate_on_submit():
        return render_template(template, form=form, groups=groups), 422 if form.is_submitted() else 200
    data = service.RegionPackage(region_id=form.region.data, items=form.item_notes(), note=form.note.data)
    return _submit(form, template, service.submit_region_package, data, groups=groups)


def catalogue_groups(offers):
    """Items 1–12 under their A/B/C headings, as seed 004 groups them."""
    return [(g, [o for o in offers if o.group == g["code"]]) for g in region_groups()]


# --- the requester's private page ------------------------------------------------------


def _private(response):
    # The page is reached by a secret link: keep it out of caches, indexes and Referer headers.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


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
    return _private(make_response(page, status))


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
        form.text.errors.append(exc.message)
        return _render_follow(req, token, form, 409)
    flash("Zprávu jsme předali koordinaci MPSV pro váš kraj.", "success")
    return redirect(url_for(".follow", token=token))


# --- staff ---------------------------------------------------------------------------


def _actor():
    """The logged-in user itself, not the proxy: it goes into history and audit rows."""
    return current_user._get_current_object()


def _handled_request(request_id: int) -> SupportRequest:
    """The request of the URL: `@requires(..., scope=REQUEST)` has already found it and
    checked that the signed-in user may handle it."""
    return db.session.get(SupportRequest, request_id)


LIST_FILTERS = {
    "otevrene": ("otevřené", lambda: SupportRequest.state.not_in([RequestState.CLOSED, RequestState.REJECTED])),
    "vse": ("všechny", None),
    **{s.value: (s.label, (lambda s=s: SupportRequest.state == s)) for s in RequestState},
}


@staff_bp.get("/")
@requires(COORDINATOR)
def index():
    chosen = request.args.get("stav", "otevrene")
    if chosen not in LIST_FILTERS:
        chosen = "otevrene"
    kind = request.args.get("druh")
    stmt = (
        select(SupportRequest)
        .options(selectinload(SupportRequest.region), selectinload(SupportRequest.orp),
                 selectinload(SupportRequest.items).selectinload(SupportRequestItem.offer),
                 selectinload(SupportRequest.topic_offer), selectinload(SupportRequest.coordinator))
        .where(requests_handled_by(current_user))
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )
    condition = LIST_FILTERS[chosen][1]
    if condition is not None:
        stmt = stmt.where(condition())
    if kind in {k.value for k in RequestKind}:
        stmt = stmt.where(SupportRequest.kind == RequestKind(kind))
    regions = in_czech_order(db.session.scalars(
        select(Region).where(Region.id.in_(select(SupportRequest.region_id).where(requests_handled_by(current_user))))
    ).all())
    region_slug = request.args.get("kraj")
    chosen_region = next((r for r in regions if r.slug == region_slug), None)
    if chosen_region is not None:
        stmt = stmt.where(SupportRequest.region_id == chosen_region.id)
    now = datetime.now(PRAGUE)
    rows = [(r, workdays.is_overdue(r, now), workdays.answer_due(r)) for r in db.session.scalars(stmt)]
    # Overdue first: they are the ones that need her today.
    rows.sort(key=lambda row: not row[1])
    return render_template(
        "requests/staff/list.html", rows=rows, filters=LIST_FILTERS, chosen=chosen, kinds=RequestKind,
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


@staff_bp.get("/<int:request_id>")
@requires(COORDINATOR, scope=REQUEST)
def detail(request_id):
    req = _handled_request(request_id)
    return _render_detail(req)


def _state_from(form) -> RequestState | None:
    try:
        return RequestState(form.to_state.data)
    except ValueError:
        return None


@staff_bp.post("/<int:request_id>/stav")
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
        getattr(form, exc.field or "to_state", form.to_state).errors.append(exc.message)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, transition_form=form)
    flash(f"Žádost je ve stavu „{to_state.label}“. Zadavateli jsme poslali e-mail.", "success")
    return redirect(url_for(".detail", request_id=req.id))


@staff_bp.post("/<int:request_id>/polozka/<int:item_id>/stav")
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
        getattr(form, exc.field or "to_state", form.to_state).errors.append(exc.message)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, item_forms={item_id: form})
    flash(f"Položka {item.offer.code} je ve stavu „{to_state.label}“.", "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor=f"polozka-{item_id}"))


@staff_bp.post("/<int:request_id>/komentar")
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
        form.text.errors.append(exc.message)
        return _render_detail(db.session.get(SupportRequest, request_id), 422, comment_form=form)
    flash("Komentář je uložený" + (" a zadavatel dostal e-mail." if form.visible.data else " (interní)."), "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor="historie"))


# --- closed terms ---------------------------------------------------------------------

_TERM_ERROR_FIELDS = {
    "offer_id": "offer", "ends_at": "end", "capacity": "capacity", "per_orp_limit": "per_orp_limit",
    "venue": "venue", "registration_deadline": "deadline", "restricted_orp_id": "restriction",
    "restricted_region_id": "restriction", "region_id": "region",
}


def _term_form(req) -> ClosedTermForm:
    form = ClosedTermForm()
    workshops = catalogue.offers_of_kind(OfferKind.WORKSHOP)
    regions = in_czech_order(db.session.scalars(select(Region)).all())
    form.set_choices(workshops, regions, req)
    if not form.is_submitted():
        custom = next((o for o in workshops if o.custom), None)
        form.offer.data = req.topic_offer_id or (custom.id if custom else None)
        form.form.data = (req.preferred_form or TermForm.IN_PERSON).value
        form.region.data = req.region_id
        form.venue.data = req.place
        form.capacity.data = req.expected_participants
        form.restriction.data = RESTRICT_ORP if req.orp_id else RESTRICT_REGION
    return form


@staff_bp.route("/<int:request_id>/termin", methods=["GET", "POST"])
@requires(COORDINATOR, scope=REQUEST)
def new_term(request_id):
    req = _handled_request(request_id)
    if not service.can_make_terms(req):
        flash("Uzavřený termín lze vypsat jen k dohodnuté žádosti o workshop na klíč.", "error")
        return redirect(url_for(".detail", request_id=req.id))
    form = _term_form(req)
    if not form.validate_on_submit():
        return render_template("requests/staff/term_form.html", req=req, form=form), (
            422 if form.is_submitted() else 200)
    try:
        term = service.create_closed_term(req.id, form.to_data(req), _actor())
    except (TermError, service.RequestError) as exc:
        db.session.rollback()
        target = getattr(form, _TERM_ERROR_FIELDS.get(exc.field, exc.field or ""), None)
        (target.errors if target is not None else form.form_errors).append(exc.message)
        req = db.session.get(SupportRequest, request_id)
        return render_template("requests/staff/term_form.html", req=req, form=form), 422
    # Back on her request (not the organisers' term page): the message names the term and its link.
    link = absolute_url("registration.closed_term", signup_token=term.signup_token)
    flash(Markup("Uzavřený termín {} je vypsaný. Zadavatel dostal e-mailem odkaz k přihlášení, který může "
                 'rozeslat: <a href="{}">{}</a>').format(service.term_line(term), link, link), "success")
    return redirect(url_for(".detail", request_id=req.id, _anchor=f"termin-{term.id}"))
