"""Staff page for one person's data: see it, download it, erase it on request."""
import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField, EmailField
from wtforms.validators import DataRequired, Length

from .. import czech
from ..access import ADMIN, requires
from ..forms import CzechForm, valid_email
from . import service

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("privacy", __name__, url_prefix="/sprava/osobni-udaje", template_folder="templates")


class PersonForm(CzechForm):
    email = EmailField("E-mail osoby", validators=[DataRequired("Vyplňte prosím e-mail."), Length(max=254), valid_email])


class EraseForm(PersonForm):
    confirm = BooleanField(
        "Potvrzuji, že osoba o výmaz požádala a údaje nejsou potřeba pro probíhající termíny.",
        validators=[DataRequired("Výmaz je třeba potvrdit.")],
    )


@bp.route("/", methods=["GET", "POST"])
@requires(ADMIN)
def person():
    form = PersonForm()
    erase_form = EraseForm(formdata=None)
    summary = None
    if form.validate_on_submit():
        data = service.export_person(form.email.data, current_user)
        summary = {key: len(value) for key, value in data.items() if isinstance(value, list)}
        erase_form.email.data = form.email.data
    return render_template("privacy/person.html", form=form, erase_form=erase_form, summary=summary)


@bp.post("/export")
@requires(ADMIN)
def export():
    form = PersonForm()
    if not form.validate_on_submit():
        flash("Zadejte platný e-mail.", "error")
        return redirect(url_for(".person"))
    data = service.export_person(form.email.data, current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = Response(body, content_type="application/json; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="osobni-udaje.json"'
    response.cache_control.no_store = True
    return response


@bp.post("/vymaz")
@requires(ADMIN)
def erase():
    form = EraseForm()
    if not form.validate_on_submit():
        return render_template("privacy/person.html", form=PersonForm(email=form.email.data), erase_form=form,
                               summary=None), 422
    outcome = service.erase_person(form.email.data, current_user)
    flash(
        f"Údaje jsou vymazány: {czech.count_noun(outcome.registrations, *czech.REGISTRATIONS)}"
        f" (z toho zrušeno: {len(outcome.cancelled)}), "
        f"{czech.count_noun(outcome.interest_entries, *czech.INTEREST_ENTRIES)}, "
        f"{czech.count_noun(outcome.requests, *czech.REQUESTS)}, "
        f"{czech.count_noun(outcome.messages, *czech.EMAILS)}.",
        "success",
    )
    return redirect(url_for(".person"))
