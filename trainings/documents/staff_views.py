"""Back office: a term's osvědčení prepared by the documents worker, their progress and the file."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import LECTURER, ORGANISER, TERM, requires
from ..exports.rows import export_filename
from ..forms import CzechForm
from ..models import DocumentState
from ..web import PDF, download, term_or_404
from . import service

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("staff_documents", __name__, url_prefix="/sprava/terminy", template_folder="templates")

REFRESH_SECONDS = 3


class PrepareForm(CzechForm):
    pass


@bp.get("/<id:term_id>/osvedceni")
@requires(ORGANISER, LECTURER, scope=TERM)
def certificates(term_id):
    """Where the term's osvědčení stand; the page reloads itself (no script) while they are being made."""
    term = term_or_404(term_id)
    job, current = service.shown_job(term)
    if job is None and not service.anyone(term):  # the term's download says why there are none
        return redirect(url_for("staff_exports.certificates", term_id=term.id))
    working = job is not None and current and job.state in (DocumentState.QUEUED, DocumentState.RUNNING)
    return render_template("documents/staff/documents.html", term=term, job=job, current=current, working=working,
                           refresh=REFRESH_SECONDS if working else None, form=PrepareForm())


@bp.post("/<id:term_id>/osvedceni")
@requires(ORGANISER, LECTURER, scope=TERM)
def prepare_certificates(term_id):
    term = term_or_404(term_id)
    if not service.anyone(term):
        return redirect(url_for("staff_exports.certificates", term_id=term.id))
    if PrepareForm().validate_on_submit():
        service.request_certificates(term, current_user)
    # An expired form just shows the page again, with the button.
    return redirect(url_for(".certificates", term_id=term.id))


@bp.get("/<id:term_id>/osvedceni/<id:job_id>.pdf")
@requires(ORGANISER, LECTURER, scope=TERM)
def certificates_file(term_id, job_id):
    term = term_or_404(term_id)
    job = service.finished_file(term, job_id)
    if job is None:  # an old link: the page says what there is now
        flash("Tento soubor už není k dispozici: vypršel, nebo se od jeho přípravy změnila docházka či údaje.",
              "info")
        return redirect(url_for(".certificates", term_id=term.id))
    return download(job.data, PDF, export_filename(term, "pdf", prefix="osvedceni"))
