"""The back-office home and the e-mail outbox page."""
from datetime import datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import ORGANISER, may, requires, term_filter
from ..forms import CzechForm
from ..mail import admin as outbox_admin
from ..models import OutboxState, StaffRole, utcnow
from ..requests import queries as request_queries
from ..terms import queries as term_queries
from ..timefmt import PRAGUE

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("staff", __name__, url_prefix="/sprava", template_folder="templates")
DASHBOARD_TERMS = 20


@bp.get("/")
@requires(*StaffRole)
def dashboard():
    """Today's and the next terms (a term running now is today's work); a lecturer sees hers."""
    today = datetime.combine(utcnow().astimezone(PRAGUE).date(), time(0), PRAGUE)
    mine = term_filter(current_user) if current_user.role == StaffRole.LECTURER else None
    rows = term_queries.term_rows(starts_from=today, lecturer_filter=mine, per_page=DASHBOARD_TERMS)
    # A coordinator's (and an administrator's) work starts with the requests waiting for an answer.
    waiting = request_queries.waiting_for_answer(current_user) if may("requests_staff.index") else 0
    return render_template("staff/dashboard.html", rows=rows.items, more=rows.total - len(rows.items),
                           waiting_requests=waiting)


@bp.get("/emaily")
@requires(ORGANISER)
def outbox():
    return render_template(
        "staff/outbox.html", messages=outbox_admin.problem_messages(), counts=outbox_admin.counts_by_state(),
        states=OutboxState, form=CzechForm(),
    )


@bp.post("/emaily/<id:message_id>/znovu")
@requires(ORGANISER)
def outbox_retry(message_id):
    if not CzechForm().validate_on_submit():
        abort(400)
    if outbox_admin.retry_now(message_id):
        flash("Zpráva je znovu ve frontě k odeslání.", "success")
    else:
        flash("Tuto zprávu nelze znovu odeslat.", "error")
    return redirect(url_for(".outbox"))
