"""Back office: numbers for the project's reporting, as a page and as XLSX."""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from .. import coverage as coverage_rules
from .. import reporting
from ..access import COORDINATOR, ORGANISER, may_see_region, regions_seen_by, requires
from ..collation import czech_key
from ..extensions import db
from ..models import Region
from ..report_forms import ReportPeriodForm
from ..web import XLSX, download
from . import charts

bp = Blueprint("reports", __name__, url_prefix="/sprava/vykazy")


@bp.get("/")
@requires(ORGANISER)
def index():
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    report = reporting.report_for(form.period())
    return render_template("staff/reports.html", form=form, report=report,
                           breakdowns=reporting.BREAKDOWNS, columns=reporting.COLUMN_TITLES)


@bp.get("/vykaz.xlsx")
@requires(ORGANISER)
def workbook():
    form = ReportPeriodForm.from_query(request.args)
    if not form.validate():
        return render_template("staff/reports.html", form=form, report=None), 422
    period = form.period()
    report = reporting.report_for(period)
    filename = f"vykaz-spod4-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.xlsx"
    return download(reporting.report_xlsx(report, reporting.hours_per_person(period)), XLSX, filename)


# --- Kde jsme byli / bílá místa ---------------------------------------------------------------

# Under the month chart's columns: Roman numerals, as Czech writes months where room is short.
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def _chosen_region() -> tuple[Region | None, list[Region]]:
    """The kraj asked for (?kraj=slug), or hers when she sees only one; and the kraje she may choose.
    Another kraj than hers is refused (403), one that does not exist is a 404."""
    choices = sorted(db.session.scalars(select(Region).where(regions_seen_by(current_user))),
                     key=lambda r: czech_key(r.name))
    slug = request.args.get("kraj")
    if not slug:
        return (choices[0] if len(choices) == 1 else None), choices
    region = db.session.scalars(select(Region).where(Region.slug == slug)).one_or_none()
    if region is None:
        abort(404)
    if not may_see_region(current_user, region):
        abort(403)
    return region, choices


@bp.get("/kde-jsme-byli")
@requires(ORGANISER, COORDINATOR)
def coverage():
    region, choices = _chosen_region()
    found = coverage_rules.coverage_for(region) if region is not None else None
    month_chart = workshop_chart = None
    if found is not None:
        month_chart = charts.columns([(roman, m.participants) for roman, m in zip(ROMAN_MONTHS, found.by_month)])
        workshop_chart = charts.rows([(w.label, w.participants) for w in found.by_workshop])
    return render_template("staff/coverage.html", region=region, choices=choices, coverage=found,
                           month_chart=month_chart, workshop_chart=workshop_chart)


@bp.get("/kde-jsme-byli.xlsx")
@requires(ORGANISER, COORDINATOR)
def coverage_workbook():
    region, _ = _chosen_region()
    if region is None:
        abort(404)
    found = coverage_rules.coverage_for(region)
    return download(coverage_rules.coverage_xlsx(found), XLSX, f"kde-jsme-byli-{region.slug}-{found.year}.xlsx")
