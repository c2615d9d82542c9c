"""Back office: feedback results per term, workshop and lecturer (never per person), their XLSX, and the questions."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import LECTURER, ORGANISER, TERM, requires, term_filter
from ..extensions import db
from ..models import Offer
from ..places import MAX_ID
from ..report_forms import ReportPeriodForm
from ..web import XLSX, download, term_or_404
from . import service
from .forms import QuestionsForm

bp = Blueprint("feedback_staff", __name__, url_prefix="/sprava/zpetna-vazba")


def _common() -> dict:
    return {"questions": service.questions(), "min_answers": service.MIN_ANSWERS}


@bp.get("/")
@requires(ORGANISER, LECTURER)
def index():
    """Organisers see every term, workshop and lecturer; a lecturer the terms linked to her account."""
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("feedback/staff/index.html", form=form, found=None, **_common()), 422
    found = service.results(form.period(), terms=term_filter(current_user))
    return render_template("feedback/staff/index.html", form=form, found=found, **_common())


@bp.get("/vysledky.xlsx")
@requires(ORGANISER)
def workbook():
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("feedback/staff/index.html", form=form, found=None, **_common()), 422
    period = form.period()
    filename = f"zpetna-vazba-spod4-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.xlsx"
    return download(service.results_xlsx(service.results(period)), XLSX, filename)


@bp.get("/termin/<id:term_id>")
@requires(ORGANISER, LECTURER, scope=TERM)
def term(term_id):
    found = term_or_404(term_id)
    return render_template("feedback/staff/detail.html", term=found, summary=service.term_summary(found.id),
                           heading=found.offer.title, **_common())


@bp.get("/souhrn")
@requires(ORGANISER)
def group():
    """One workshop (?workshop=<offer id>) or one lecturer (?lektor=<text>) over the period."""
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return redirect(url_for(".index"))
    period = form.period()
    offer_id = request.args.get("workshop", type=int)
    lecturer = (request.args.get("lektor") or "").strip()
    if offer_id is not None:
        offer = db.session.get(Offer, offer_id) if 0 < offer_id <= MAX_ID else None
        if offer is None:
            abort(404)
        summary, heading, kind = service.workshop_summary(offer.id, period), offer.title, "workshop"
    elif lecturer and len(lecturer) <= 300:
        summary, heading, kind = service.lecturer_summary(lecturer, period), lecturer, "lecturer"
    else:
        return redirect(url_for(".index", od=period.start.isoformat(), do=period.end.isoformat()))
    return render_template("feedback/staff/detail.html", term=None, summary=summary, heading=heading, kind=kind,
                           period=period, **_common())


@bp.route("/otazky", methods=["GET", "POST"])
@requires(ORGANISER)
def questions():
    current = service.questions()
    if request.method == "GET":
        form = QuestionsForm(data={f"otazka_{i}": q.text for i, q in enumerate(current, start=1)})
    else:
        form = QuestionsForm()
    if form.validate_on_submit():
        try:
            service.save_questions(form.texts(), current_user)
        except service.QuestionsError as error:
            form.otazka_1.errors = [*form.otazka_1.errors, error.message]
        else:
            flash("Otázky dotazníku jsou uložené; platí pro každé další vyplnění.", "success")
            return redirect(url_for(".questions"))
    status = 422 if form.is_submitted() else 200
    return render_template("feedback/staff/questions.html", form=form, current=current,
                           defaults=[service.Question(**q) for q in service.DEFAULT_QUESTIONS],
                           max_questions=service.MAX_QUESTIONS), status
