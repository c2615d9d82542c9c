"""Back office: the files of a term (participant list as CSV and XLSX, the
prezenční listina and the osvědčení as PDF); files are handed out by `web.download`."""
from flask import Blueprint, flash, redirect, url_for

from ..access import LECTURER, ORGANISER, TERM, requires
from ..documents import service as documents
from ..exports import csv_export, pdf, xlsx
from ..exports.rows import export_filename
from ..models import TermState, utcnow
from ..web import CSV, PDF, XLSX, download, term_or_404

bp = Blueprint("staff_exports", __name__, url_prefix="/sprava/terminy")

@bp.get("/<id:term_id>/export.csv")
@requires(ORGANISER)
def participants_csv(term_id):
    term = term_or_404(term_id)
    return download(csv_export.participants_csv(term), CSV, export_filename(term, "csv"))


@bp.get("/<id:term_id>/export.xlsx")
@requires(ORGANISER)
def participants_xlsx(term_id):
    term = term_or_404(term_id)
    return download(xlsx.participants_xlsx(term), XLSX, export_filename(term, "xlsx"))


@bp.get("/<id:term_id>/prezencni-listina.pdf")
@requires(ORGANISER, LECTURER, scope=TERM)
def attendance_sheet(term_id):
    """Lecturers print it too, for their own terms."""
    term = term_or_404(term_id)
    return download(pdf.attendance_sheet_pdf(term), PDF, export_filename(term, "pdf", prefix="prezencni-listina"))


@bp.get("/<id:term_id>/osvedceni.pdf")
@requires(ORGANISER, LECTURER, scope=TERM)
def certificates(term_id):
    """Every osvědčení of the term, a page each, for whoever prints the prezenční listina; more than
    documents.service.IN_REQUEST_UP_TO are made by the documents worker (its page says how far it got)."""
    term = term_or_404(term_id)
    people = pdf.term_certificates(term)
    if not documents.in_request(people):
        return redirect(url_for("staff_documents.certificates", term_id=term.id))
    data = pdf.term_certificates_pdf(term, people=people)
    if data is None:
        if term.state == TermState.CANCELLED:
            message = "Termín je zrušený, osvědčení k němu nejsou."
        elif term.ends_at > utcnow():
            message = "Osvědčení lze stáhnout až po skončení termínu."
        else:
            message = "Nikdo není zapsaný jako přítomný, osvědčení proto nejsou."
        flash(message, "info")
        return redirect(url_for("attendance.check_in", term_id=term.id))
    return download(data, PDF, export_filename(term, "pdf", prefix="osvedceni"))
