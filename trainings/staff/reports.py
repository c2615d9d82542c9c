"""Back office: numbers for the project's reporting, as a page and as XLSX."""
from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from .. import reporting
from ..access import ORGANISER, requires
from .downloads import XLSX, download
from .forms import ReportPeriodForm

bp = Blueprint("reports", __name__, url_prefix="/sprava/vykazy")


def _period_form() -> ReportPeriodForm:
    """The period from the query string; this year when none is given."""
    if "od" in request.args or "do" in request.args:
        return ReportPeriodForm(formdata=request.args)
    return ReportPeriodForm(formdata=MultiDict({k: v.isoformat() for k, v in ReportPeriodForm.this_year().items()}))


@bp.get("/")
@requires(ORGANISER)
def index():
    form = _period_form()
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    report = reporting.build_report(reporting.Period(form.od.data, form.do.data))
    return render_template("staff/reports.html", form=form, report=report, breakdowns=reporting.BREAKDOWNS,
                           columns=reporting.COLUMN_TITLES)


@bp.get("/vykaz.xlsx")
@requires(ORGANISER)
def workbook():
    form = _period_form()
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    period = reporting.Period(form.od.data, form.do.data)
    report = reporting.build_report(period)
    filename = f"vykaz-spod4-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.xlsx"
    return download(reporting.report_xlsx(report), XLSX, filename)
