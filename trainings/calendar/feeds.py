"""Calendar feeds (iCalendar): all public terms, one workshop, one kraj, a person's own
(behind a Moje vzdělávání feed link) and one registration's (behind its private link)."""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from .. import ics
from ..access import public
from ..catalogue.queries import offer_by_slug
from ..page_cache import cached_page
from ..extensions import db
from ..models import OfferKind, Region, utcnow
from ..person.service import FEED, link_for_token
from ..registration.service import registration_for_token
from ..urls import absolute_url
from . import queries

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("calendar", __name__, template_folder="templates")

# Subscribed calendars poll anyway (REFRESH-INTERVAL); a short cache only
# spares the database when many of them ask at once.
MAX_AGE = 300

# Rendered public feeds, by address and `queries.feed_version`: a feed is the same bytes while
# its version is, so polling calendars cost one aggregate query, not a rendering of every term.
# Workshop titles are not in the version (they change only when the catalogue is loaded
# again), hence the time limit, the same as the clients' own cache.
_feeds: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
_feeds_lock = threading.Lock()
KEPT_FEEDS = 64


def _public_feed(scope, name: str, filename: str) -> Response:
    now = utcnow()
    version = queries.feed_version(scope, now)
    key = (request.path, current_app.config["PUBLIC_BASE_URL"], version)
    with _feeds_lock:
        kept = _feeds.get(key)
    if kept is not None and kept[0] > time.monotonic():
        body = kept[1]
    else:
        body = ics.feed(queries.public_terms(scope, now), name)
        with _feeds_lock:
            _feeds[key] = (time.monotonic() + MAX_AGE, body)
            _feeds.move_to_end(key)
            while len(_feeds) > KEPT_FEEDS:
                _feeds.popitem(last=False)
    return _ics_response(body, filename, queries.last_change(version))


def _ics_response(body: bytes, filename: str, last_modified: datetime | None, private: bool = False) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.max_age = MAX_AGE
    if private:
        response.cache_control.private = True
        response.headers["X-Robots-Tag"] = "noindex"
    else:
        response.cache_control.public = True
    # From the content: DTSTAMPs come from the data, so the same data gives the same bytes.
    response.set_etag(hashlib.sha256(body).hexdigest())
    if last_modified is not None:
        response.last_modified = last_modified
    return response.make_conditional(request)


@bp.get("/kalendar.ics")
@public
@cached_page
def all_terms():
    return _public_feed(queries.all_public(), "SPOD4 – workshopy MPSV", "spod4-workshopy.ics")


@bp.get("/nabidka/<slug>/kalendar.ics")
@public
@cached_page
def offer_terms(slug):
    offer = offer_by_slug(slug)
    if offer is None or offer.kind != OfferKind.WORKSHOP:
        abort(404)
    return _public_feed(queries.of_offer(offer), f"SPOD4 – {offer.title}", f"spod4-{offer.slug}.ics")


@bp.get("/kraj/<slug>/kalendar.ics")
@public
@cached_page
def region_terms(slug):
    region = db.session.scalars(select(Region).where(Region.slug == slug)).one_or_none()
    if region is None:
        abort(404)
    return _public_feed(queries.of_region(region), f"SPOD4 – {region.name} a online", f"spod4-{region.slug}.ics")


@bp.get("/moje-vzdelavani/kalendar/<token>.ics")
@public
def personal(token):
    """Everything of one e-mail address: only behind a feed link, which reached her by e-mail."""
    link = link_for_token(token, FEED)
    if link is None:
        abort(404)
    registrations, changed = queries.personal_registrations(link.email_normalized, utcnow())
    body = ics.personal_feed(registrations, "SPOD4 – moje workshopy")
    return _ics_response(body, "spod4-moje-workshopy.ics", changed, private=True)


@bp.get("/prihlaska/<token>/kalendar.ics")
@public
def registration(token):
    """One registration's event. This address was once the personal feed; it now holds
    only the registration of its link, since signing up proves nothing about the address."""
    found = registration_for_token(token)
    if found is None:
        abort(404)
    registrations, changed = queries.registration_events(found, utcnow())
    body = ics.personal_feed(registrations, f"SPOD4 – {found.term.offer.title}")
    return _ics_response(body, "spod4-prihlaska.ics", changed, private=True)


# --- links for templates --------------------------------------------------------


@dataclass(frozen=True)
class FeedLinks:
    subscribe: str  # webcal://…, opens the calendar application's "subscribe"
    download: str  # http(s)://…, a one-off copy; also the address to paste into Google/Outlook web
    private: bool  # the address grants access to a person's registrations


def feed_links(endpoint: str, **values) -> FeedLinks:
    """Both links of a feed, e.g. feed_links('calendar.offer_terms', slug=offer.slug).

    Built from PUBLIC_BASE_URL like the links in e-mails: a calendar server
    fetches the feed from outside, where the request's own host may not resolve.
    """
    url = absolute_url(endpoint, **values)
    return FeedLinks(
        subscribe="webcal://" + url.split("://", 1)[1],
        download=url,
        private=endpoint in ("calendar.personal", "calendar.registration"),
    )
