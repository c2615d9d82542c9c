"""Read-only JSON API under /api/v1/ for the ministry's websites.

Same data and filters as the catalogue pages; responses are cacheable
(Cache-Control, ETag → 304) and open to other origins (CORS), since they only
ever show what the public catalogue shows. Their links are built from
PUBLIC_BASE_URL (trainings/urls.py), so an answer kept by a cache is the same
whatever Host the request that filled it named.
"""
import hashlib
import json
from datetime import date
from pathlib import Path

import yaml
from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from ..access import public
from ..catalogue import queries
from ..catalogue.periods import shown_period
from ..extensions import db
from ..models import OfferKind, OfferStatus, Region, TermForm
from ..page_cache import cached_page
from ..places import regions_with_coordinators
from ..timefmt import PRAGUE
from ..urls import absolute_url
from ..web import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_AGE = 60
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
SPEC_FILE = Path(__file__).with_name("openapi.yaml")


class BadParameter(Exception):
    def __init__(self, name, message):
        super().__init__(message)
        self.name, self.message = name, message


@bp.errorhandler(BadParameter)
def bad_parameter(exc):
    # Other errors (404, 405, a database outage) get their problem+json in trainings/pages/views.py and web.py.
    return error_response(400, "Neplatný parametr", exc.message, parameter=exc.name)


@bp.after_request
def allow_other_origins(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json(payload, status=200, cache=True) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = Response(body, status=status, content_type="application/json; charset=utf-8")
    if cache:
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        return response.make_conditional(request)
    response.cache_control.no_store = True
    return response


def _int_arg(name, default, low, high):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(name, f"Parametr {name} musí být celé číslo od {low} do {high}.")
    return int(raw)


def _enum_arg(name, enum):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise BadParameter(name, f"Parametr {name} musí být jedna z hodnot: {allowed}.")


def _page_args() -> tuple[int, int]:
    return _int_arg("page", 1, 1, 100000), _int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)


def _paginate(items, endpoint, **filters):
    page, per_page = _page_args()
    start = (page - 1) * per_page
    return _page_body(items[start:start + per_page], page, per_page, len(items), endpoint, **filters)


def _page_body(items, page, per_page, total, endpoint, **filters):
    has_next = page * per_page < total
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": absolute_url(endpoint, page=page + 1, per_page=per_page, **filters) if has_next else None,
    }


def _offer(offer):
    return {
        "slug": offer.slug,
        "kind": offer.kind.value,
        "status": offer.status.value if offer.status else None,
        "code": offer.code,
        "group": offer.group,
        "title": offer.title,
        "forms": list(offer.forms or []),
        # What the catalogue shows (a passed period reads "Termín bude upřesněn"), and the document's text.
        "period": shown_period(offer.period),
        "planned_period": offer.period,
        "summary": offer.summary,
        "url": absolute_url("catalogue.offer", slug=offer.slug),
    }


def _term(row):
    term = row.term
    return {
        "id": term.id,
        "offer": term.offer.slug,
        "title": term.offer.title,
        "starts_at": term.starts_at.astimezone(PRAGUE).isoformat(),
        "ends_at": term.ends_at.astimezone(PRAGUE).isoformat(),
        "form": term.form.value,
        "region": term.region.code if term.region else None,
        "venue": term.venue,
        "capacity": term.capacity,
        "free_seats": row.free,
        "registration_open": row.is_open,
        "registration_closes_at": term.closes_at.astimezone(PRAGUE).isoformat(),
        "url": absolute_url("registration.register", term_id=term.id),
    }


@bp.get("/")
@public
def index():
    """Where to go from the API's root: the document and the collections."""
    return _json({
        "name": "SPOD4 registrace – veřejné API",
        "openapi": absolute_url("api.openapi"),
        "endpoints": {name: absolute_url(f"api.{name}") for name in ("offers", "terms", "regions")},
    })


@bp.get("/offers")
@public
@cached_page
def offers():
    kind = _enum_arg("kind", OfferKind)
    status = _enum_arg("status", OfferStatus)
    items = [
        _offer(o) for kind_ in ([kind] if kind else list(OfferKind)) for o in queries.offers_of_kind(kind_)
        if status is None or o.status == status
    ]
    filters = {k: v for k, v in (("kind", kind and kind.value), ("status", status and status.value)) if v}
    return _json(_paginate(items, "api.offers", **filters))


@bp.get("/offers/<slug>")
@public
def offer(slug):
    item = queries.listed_offer_by_slug(slug)
    if item is None:
        abort(404)
    return _json(_offer(item))


@bp.get("/terms")
@public
@cached_page
def terms():
    flt = queries.TermFilter(
        form=_enum_arg("form", TermForm),
        free_only=request.args.get("free") in ("1", "true"),
        text=(request.args.get("q") or "")[:100],
    )
    filters = {}
    if request.args.get("region"):
        code = request.args["region"]
        region = db.session.scalars(select(Region).where(Region.code == code)).one_or_none()
        if region is None:
            raise BadParameter("region", "Neznámý kód kraje (NUTS3, např. CZ053).")
        flt.region_id = region.id
        filters["region"] = code
    if request.args.get("month"):
        raw = request.args["month"]
        try:
            year, month = (int(x) for x in raw.split("-"))
            flt.month = date(year, month, 1)
        except ValueError:
            raise BadParameter("month", "Parametr month má tvar RRRR-MM, např. 2026-12.")
        filters["month"] = raw
    offer_slug = request.args.get("offer")
    offer = None
    if offer_slug:
        offer = queries.listed_offer_by_slug(offer_slug)
        if offer is None:
            raise BadParameter("offer", "Neznámý workshop.")
        filters["offer"] = offer_slug
    for name in ("form", "free", "q"):
        if request.args.get(name):
            filters[name] = request.args[name]
    page, per_page = _page_args()
    # Counted and cut by the database: only the page's terms are loaded and built.
    found = queries.upcoming_page(flt, offer, page, per_page)
    return _json(_page_body([_term(r) for r in found.items], page, per_page, found.total, "api.terms", **filters))


@bp.get("/regions")
@public
@cached_page
def regions():
    items = [
        {
            "code": r.code,
            "slug": r.slug,
            "name": r.name,
            "coordinator": {"name": r.coordinator.name, "email": r.coordinator.email} if r.coordinator else None,
            "calendar": absolute_url("calendar.region_terms", slug=r.slug),
        }
        for r in regions_with_coordinators()
    ]
    return _json({"items": items, "total": len(items)})


@bp.get("/openapi.json")
@public
def openapi():
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": absolute_url("api.offers").rsplit("/offers", 1)[0]}]
    # The values a client may filter by come from the data, so the document
    # names exactly the workshops and kraje that exist.
    parameters = {p["name"]: p for p in spec["paths"]["/terms"]["get"]["parameters"] if "name" in p}
    parameters["offer"]["schema"]["enum"] = [o.slug for o in queries.offers_of_kind(OfferKind.WORKSHOP)]
    parameters["region"]["schema"]["enum"] = [r.code for r in regions_with_coordinators()]
    return _json(spec)
