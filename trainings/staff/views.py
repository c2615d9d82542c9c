"""The back-office home and the e-mail outbox page."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from ..access import ORGANISER, requires
from ..catalogue import queries
from ..forms import CzechForm
from ..mail import admin as outbox_admin
from ..models import OutboxState, StaffRole
from ..places import MAX_ID

bp = Blueprint("staff", __name__, url_prefix="/sprava")


@bp.get("/")
@requires(*StaffRole)
def dashboard():
    return render_template(
        "staff/dashboard.html",
        rows=queries.upcoming_terms(include_closed=True),
    )


@bp.get("/emaily")
@requires(ORGANISER)
def outbox():
    return render_template(
        "staff/outbox.html", messages=outbox_admin.problem_messages(), counts=outbox_admin.counts_by_state(),
        states=OutboxState, form=CzechForm(),
    )


@bp.post("/emaily/<int:message_id>/znovu")
@requires(ORGANISER)
def outbox_retry(message_id):
    if not CzechForm().validate_on_submit():
        abort(400)
    if 0 < message_id <= MAX_ID and outbox_admin.retry_now(message_id):
        flash("Zpráva je znovu ve frontě k odeslání.", "success")
    else:
        flash("Tuto zprávu nelze znovu odeslat.", "error")
    return redirect(url_for(".outbox"))
