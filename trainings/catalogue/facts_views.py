"""Back office: the project's facts and contacts edited and restored (blueprint `facts_staff`).
The rules are in facts_editing.py."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import page_cache
from ..access import ORGANISER, requires
from ..extensions import db
from ..forms import CzechForm, show_error
from ..models import ProjectFactsVersion
from ..places import MAX_ID
from . import facts_editing
from .facts_forms import CONTACT_ROWS, FactsForm

bp = Blueprint("facts_staff", __name__, url_prefix="/sprava/projekt")


def _render_form(form, status=200):
    return render_template("catalogue/staff/facts_form.html", form=form, texts=facts_editing.TEXTS,
                           rows=CONTACT_ROWS), status


@bp.route("/", methods=["GET", "POST"])
@requires(ORGANISER)
def edit():
    """Saving publishes at once; every version stays in the history and can be restored."""
    form = FactsForm()
    if not form.is_submitted():
        form = FactsForm(formdata=None, data=FactsForm.data_of(facts_editing.current_values()))
        return _render_form(form)
    if not form.validate_on_submit():
        return _render_form(form, 422)
    try:
        facts_editing.save(form.values(), current_user)
    except facts_editing.FactsRefused as exc:
        show_error(form, exc)
        return _render_form(form, 422)
    page_cache.clear()
    flash("Údaje o projektu a kontakty jsou uložené a zveřejněné.", "success")
    return redirect(url_for(".history"))


@bp.get("/historie")
@requires(ORGANISER)
def history():
    return render_template("catalogue/staff/facts_history.html", versions=facts_editing.history(),
                           actions=facts_editing.ACTIONS, trail=facts_editing.trail())


@bp.post("/verze/<int:version_id>/obnovit")
@requires(ORGANISER)
def restore(version_id):
    version = db.session.get(ProjectFactsVersion, version_id) if 0 < version_id <= MAX_ID else None
    if version is None:
        abort(404)
    if not CzechForm().validate_on_submit():
        abort(400)
    try:
        facts_editing.restore(version, current_user)
    except facts_editing.FactsRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for(".history"))
    page_cache.clear()
    flash("Verze je obnovená a zveřejněná.", "success")
    return redirect(url_for(".history"))
