"""Back office: numbers for the project's reporting, as a page and as XLSX."""
from flask import Blueprint, render_template, request

from .. import reporting
from ..access import ORGANISER, requires
from ..paging import page_of, requested_page
from .downloads import XLSX, download
from .forms import ReportPeriodForm

bp = Blueprint("reports", __name__, url_prefix="/sprava/vykazy")
PEOPLE_PER_PAGE = 200


@bp.get("/")
@requires(ORGANISER)
def index():
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    report = reporting.build_report(form.period())
    # A whole period holds tens of thousands of people: the page shows them a page at a time, the XLSX all.
    people = page_of(report.by_person, requested_page(request.args), PEOPLE_PER_PAGE)
    return render_template("staff/reports.html", form=form, report=report, people=people,
                           breakdowns=reporting.BREAKDOWNS, columns=reporting.COLUMN_TITLES)


@bp.get("/vykaz.xlsx")
@requires(ORGANISER)
def workbook():
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    period = form.period()
    report = reporting.build_report(period)
    filename = f"vykaz-spod4-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.xlsx"
    return download(reporting.report_xlsx(report), XLSX, filename)
