"""Public catalogue pages: the offer, a workshop with its terms, A1–A7, the kraj offer."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from wtforms.fields.choices import SelectChoice

from ..access import public
from ..extensions import csrf
from ..models import OfferKind, OfferStatus, TermForm
from ..page_cache import cached_page
from ..paging import page_of, requested_page
from ..places import region_choices, regions_with_coordinators, regions_with_orps
from ..security import limit_form_posts
from ..timefmt import month_label
from . import queries
from .forms import CatalogueFilterForm, InterestForm
from .interest import add_interest
from ..project import document

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("catalogue", __name__, template_folder="templates")
TERMS_PER_WORKSHOP = 5
TERMS_PER_PAGE = 20


def _filter_from(form: CatalogueFilterForm) -> queries.TermFilter:
    form.validate()  # invalid values are dropped below, never an error page
    month = None
    if form.mesic.data and not form.mesic.errors:
        year, _, mon = form.mesic.data.partition("-")
        month = date(int(year), int(mon), 1)
    return queries.TermFilter(
        form=TermForm(form.form.data) if form.form.data and not form.form.errors else None,
        region_id=form.kraj.data if not form.kraj.errors else None,
        month=month,
        free_only=bool(form.volna.data),
        text=(form.q.data or "").strip() if not form.q.errors else "",
    )


@bp.get("/")
@public
@cached_page
def index():
    regions = regions_with_coordinators()
    form = CatalogueFilterForm(request.args)
    form.kraj.choices = region_choices(regions, empty="Všechny kraje")
    form.mesic.choices = [SelectChoice("", "Kdykoli")] + [
        SelectChoice(f"{m.year}-{m.month:02d}", month_label(m.year, m.month)) for m in queries.upcoming_months()
    ]
    flt = _filter_from(form)
    # The next few terms of each workshop; the workshop's page lists them all.
    listing = queries.first_terms(flt, TERMS_PER_WORKSHOP)
    rows_by_offer = listing.rows_by_offer
    running = queries.workshops(OfferStatus.RUNNING)
    planned = queries.workshops(OfferStatus.PLANNED)
    if flt.active:
        # A filter on terms shows only workshops with matching terms; text also finds planned ones.
        running = [o for o in running if rows_by_offer[o.id]]
        planned = [o for o in planned if rows_by_offer[o.id] or (flt.text and queries.matches_text(o, flt.text))]
    return render_template(
        "catalogue/index.html",
        form=form,
        filtering=flt.active,
        running=running,
        planned=planned,
        rows_by_offer=rows_by_offer,
        more_terms=listing.more,
        trainings=queries.offers_of_kind(OfferKind.TRAINING),
        region=next((r for r in regions if r.id == flt.region_id), None),
        doc=document(),
    )


@bp.get("/nabidka/<slug>")
@public
@cached_page
def offer(slug):
    item = queries.listed_offer_by_slug(slug)
    if item is None:
        abort(404)
    if item.kind == OfferKind.SUPPORT:
        return redirect(url_for(".support", _anchor=item.slug))
    if item.kind == OfferKind.REGION_SUPPORT:
        return redirect(url_for(".region_offer", _anchor=item.slug))
    return _render_offer(item)


def _render_offer(item, interest_form=None, template="catalogue/offer.html", **extra):
    """`template` and `extra`: the back office's preview shows a draft through this same page."""
    rows = queries.upcoming_terms(offer=item) if item.kind == OfferKind.WORKSHOP else []
    terms_page = page_of(rows, requested_page(request.args), TERMS_PER_PAGE)
    if interest_form is None and not rows and item.kind == OfferKind.WORKSHOP and not item.custom:
        # Only a workshop without terms shows the form; building it gives the
        # visitor a CSRF token, which makes the page personal (not cacheable).
        interest_form = InterestForm()
        interest_form.set_places(regions_with_orps())
    return render_template(
        template,
        offer=item,
        rows=terms_page.items,
        terms_page=terms_page,
        interest_form=interest_form,
        aliases=list(item.aliases or []),
        doc=document(),
        **extra,
    )


@bp.post("/nabidka/<slug>/zajem")
@public
@limit_form_posts
@csrf.exempt  # the form checks its own token and keeps what was typed
def interest(slug):
    item = queries.listed_offer_by_slug(slug)
    if item is None or item.kind != OfferKind.WORKSHOP:
        abort(404)
    form = InterestForm()
    form.set_places(regions_with_orps())
    if not form.validate():
        return _render_offer(item, form), 422
    created = add_interest(item, form.email.data, form.region.data, form.orp.data)
    flash(
        "Děkujeme, napíšeme vám, až bude vypsán termín."
        if created
        else "Tento e-mail už na seznamu zájemců je; údaje jsme aktualizovali.",
        "success",
    )
    return redirect(url_for(".offer", slug=item.slug))


@bp.get("/metodicka-podpora")
@public
@cached_page
def support():
    return _render_support()


def _with_draft(items, previewed):
    """The list with one offer replaced by its previewed draft (the back office's preview)."""
    return [previewed if previewed is not None and i.id == previewed.id else i for i in items]


def _render_support(previewed=None, template="catalogue/support.html", **extra):
    items = _with_draft(queries.offers_of_kind(OfferKind.SUPPORT), previewed)
    return render_template(template, items=items, doc=document(), **extra)


@bp.get("/nabidka-pro-kraje")
@public
@cached_page
def region_offer():
    return _render_region_offer()


def _render_region_offer(previewed=None, template="catalogue/region_offer.html", **extra):
    doc = document()
    items = _with_draft(queries.offers_of_kind(OfferKind.REGION_SUPPORT), previewed)
    groups = [(g, [i for i in items if i.group == g["code"]]) for g in doc["region_groups"]]
    return render_template(template, groups=groups, regions=regions_with_coordinators(), doc=doc, **extra)


def render_public_page(item, template, **extra):
    """The public page that shows `item` (its own page, or the list it is part of) through
    `template`, which extends that page's template, named to it as `public_template`: the back
    office's preview of a draft is the public page itself."""
    if item.kind == OfferKind.SUPPORT:
        return _render_support(item, template, public_template="catalogue/support.html", **extra)
    if item.kind == OfferKind.REGION_SUPPORT:
        return _render_region_offer(item, template, public_template="catalogue/region_offer.html", **extra)
    return _render_offer(item, template=template, public_template="catalogue/offer.html", **extra)


@bp.get("/favicon.ico")
@public
def favicon():
    # Browsers and feed readers ask for /favicon.ico whatever the page links; pages link the SVG.
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )
