"""Lidé: the staff accounts, for administrators only. The rules are in people/service.py."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import ADMIN, requires
from ..audit import trail
from ..forms import CzechForm, show_error
from ..models import StaffRole
from ..terms.service import account_label
from ..timefmt import term_span
from . import second_factor, service
from .forms import InviteForm, RegionForm, RoleForm, TermForm, UnlinkTermForm

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("people", __name__, url_prefix="/sprava/lide", template_folder="templates")


def _region_choices(empty: str):
    return [SelectChoice("", empty)] + [
        SelectChoice(str(region.id),
                     region.name + (f" (nyní: {region.coordinator.name})" if region.coordinator else ""))
        for region in service.all_regions()]


def _term_choices(user):
    return [SelectChoice("", "Vyberte termín")] + [
        SelectChoice(str(term.id), f"{term.offer.title}, {term_span(term.starts_at, term.ends_at)}")
        for term in service.terms_to_link(user)]


@bp.get("/")
@requires(ADMIN)
def index():
    people = service.staff()
    return render_template("people/index.html", people=people, state_of=service.state_of,
                           roles=service.ROLE_LABELS, enrolled=second_factor.enrolled,
                           regions_in_order=service.regions_in_order)


@bp.route("/pozvat", methods=["GET", "POST"])
@requires(ADMIN)
def invite():
    form = InviteForm()
    form.region_id.choices = _region_choices("Vyberte kraj")
    if form.validate_on_submit():
        try:
            user = service.invite(form.email.data, form.name.data, StaffRole(form.role.data),
                                  form.region_id.data, current_user)
        except service.PeopleError as error:
            show_error(form, error)
        else:
            flash(f"Účet {user.email} je založený a odkaz k nastavení hesla je na cestě e-mailem "
                  "(platí 3 dny).", "success")
            return redirect(url_for(".detail", user_id=user.id))
    status = 422 if form.errors else 200
    return render_template("people/invite.html", form=form), status


def _person_or_404(user_id):
    user = service.person(user_id)
    if user is None:
        abort(404)
    return user


def _detail(user, status=200, **forms):
    role_form = forms.get("role_form") or RoleForm(formdata=None, role=user.role.value)
    region_form = forms.get("region_form") or RegionForm(formdata=None)
    region_form.region_id.choices = _region_choices("Vyberte kraj")
    term_form = forms.get("term_form") or TermForm(formdata=None)
    term_form.term_id.choices = _term_choices(user)
    return render_template(
        "people/detail.html", person=user, state=service.state_of(user), roles=service.ROLE_LABELS,
        enrolled=second_factor.enrolled(user), regions=service.regions_in_order(user.regions),
        taught=service.taught_terms(user), role_form=role_form, region_form=region_form, term_form=term_form,
        action_form=forms.get("action_form") or CzechForm(formdata=None), trail=trail(user),
        is_self=user.id == current_user.id, account_label=account_label,
    ), status


@bp.get("/<id:user_id>")
@requires(ADMIN)
def detail(user_id):
    return _detail(_person_or_404(user_id))


@bp.post("/<id:user_id>/role")
@requires(ADMIN)
def change_role(user_id):
    user = _person_or_404(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            if service.change_role(user, StaffRole(form.role.data), current_user):
                flash(f"Role je změněná na: {service.ROLE_LABELS[user.role]}. Platí od příštího přihlášení; "
                      "stávající přihlášení tohoto účtu jsou ukončená.", "success")
            return redirect(url_for(".detail", user_id=user.id))
        except service.PeopleError as error:
            show_error(form, error)
    return _detail(user, 422, role_form=form)


@bp.post("/<id:user_id>/kraj")
@requires(ADMIN)
def assign_region(user_id):
    user = _person_or_404(user_id)
    form = RegionForm()
    if form.validate_on_submit():
        try:
            handover = service.assign_region(user, form.region_id.data, current_user)
        except service.PeopleError as error:
            show_error(form, error)
        else:
            message = f"{handover.region.name}: koordinace je přidělená účtu {user.name}."
            if handover.previous is not None:
                message += f" Dosavadní koordinace ({handover.previous.name}) kraj už nemá."
            message += " Nové žádosti z kraje teď dostává tento účet"
            if handover.requests_moved:
                message += f" a převzal i dosavadní žádosti kraje (počet: {handover.requests_moved})"
            message += "; veřejný seznam koordinátorů ho už uvádí."
            flash(message, "success")
            return redirect(url_for(".detail", user_id=user.id))
    return _detail(user, 422, region_form=form)


@bp.post("/<id:user_id>/terminy")
@requires(ADMIN)
def link_term(user_id):
    user = _person_or_404(user_id)
    form = TermForm()
    form.term_id.choices = _term_choices(user)
    if form.validate_on_submit():
        try:
            term = service.link_term(user, form.term_id.data, True, current_user)
        except service.PeopleError as error:
            show_error(form, error)
        else:
            flash(f"Termín {term_span(term.starts_at, term.ends_at)} je přidělený: účet k němu má přístup "
                  "k příchodům a docházce.", "success")
            return redirect(url_for(".detail", user_id=user.id, _anchor="terminy"))
    return _detail(user, 422, term_form=form)


@bp.post("/<id:user_id>/terminy/odebrat")
@requires(ADMIN)
def unlink_term(user_id):
    user = _person_or_404(user_id)
    form = UnlinkTermForm()
    if form.validate_on_submit():
        try:
            term = service.link_term(user, form.term_id.data, False, current_user)
        except service.PeopleError as error:
            flash(error.message, "error")
        else:
            flash(f"Termín {term_span(term.starts_at, term.ends_at)} je odebraný.", "success")
    return redirect(url_for(".detail", user_id=user.id, _anchor="terminy"))


def _action(user_id, act, done: str):
    user = _person_or_404(user_id)
    form = CzechForm()
    if not form.validate_on_submit():
        flash("Platnost formuláře vypršela. Zkuste to prosím znovu.", "error")
    else:
        try:
            act(user, current_user)
        except service.PeopleError as error:
            flash(error.message, "error")
        else:
            flash(done, "success")
    return redirect(url_for(".detail", user_id=user.id))


@bp.post("/<id:user_id>/deaktivovat")
@requires(ADMIN)
def deactivate(user_id):
    return _action(user_id, service.deactivate,
                   "Účet je deaktivovaný: všechna jeho přihlášení jsou ukončená a přihlásit se už nelze.")


@bp.post("/<id:user_id>/aktivovat")
@requires(ADMIN)
def reactivate(user_id):
    return _action(user_id, service.reactivate, "Účet je znovu aktivní.")


@bp.post("/<id:user_id>/dvoufazove-overeni")
@requires(ADMIN)
def reset_second_factor(user_id):
    return _action(user_id, service.reset_second_factor,
                   "Ověřovací aplikace a záložní kódy účtu jsou zrušené a jeho přihlášení ukončená. "
                   "Při příštím přihlášení se aplikace nastaví znovu.")


@bp.post("/<id:user_id>/odkaz")
@requires(ADMIN)
def send_link(user_id):
    return _action(user_id, service.send_new_link, "Odkaz k nastavení hesla je na cestě e-mailem (platí 3 dny).")
