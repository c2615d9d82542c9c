"""Hostile addresses: every public page, feed and API address (walked from the URL map, every
GET rule open without a login) with its path values and its query values replaced by what
scanners and broken links send: NUL and other control characters, percent-escapes that are
not UTF-8, huge values, bidi and zero-width characters. PostgreSQL refuses NUL in text, so a
NUL that reached a query was a server error.

None of them is a server error. An address that cannot name anything here (a control
character or broken UTF-8 in the path) is a 404, such a query value a 400, an absurdly long
address a 414, answered before any view touches the database; each in the format of whoever
asked: problem+json from the API, plain text from the feeds, the Czech page elsewhere.
"""
import re
from pathlib import Path

import pytest
from flask import url_for

from trainings.access import declaration

from .conftest import FULL_TESTS
from .helpers import make_term, region

# Raw URL text (percent-escaped as a client would send it) -> refused as unfit for any address.
UNFIT = [
    "%00",  # NUL: PostgreSQL "text fields cannot contain NUL (0x00) bytes"
    "abc%00def",
    "%C3%28",  # broken UTF-8: Werkzeug decodes it into U+FFFD
    "%FF",
    "%ED%A0%80",  # an encoded surrogate, not UTF-8 either
    "%1B%5B31m",  # terminal escape
    "a%0D%0ALocation:%20x",  # CR LF
    "%7F",
    "%C2%85",  # C1 control (NEL)
]
# Odd but well-formed text: found or not found like any other value, never a server error.
ODD = [
    "%E2%80%AEgpj.exe",  # right-to-left override
    "a%E2%80%8Bb",  # zero-width space
    "%EF%BB%BF",  # byte order mark
    "%F0%9F%98%80",  # emoji
    "..%2F..%2Fetc%2Fpasswd",
    "%25",
    "x" * 300,
]
HUGE = "x" * 3000  # over MAX_URL_LENGTH (2048), under gunicorn's request line limit (4094)

# Every name a view reads from the query string, and the API's documented parameters.
SOURCE = Path(__file__).resolve().parent.parent / "trainings"
QUERY_NAMES = sorted(
    {name for path in SOURCE.rglob("*.py")
     for name in re.findall(r"request\.args(?:\.get|\.getlist)?[(\[]\s*[\"'](\w+)", path.read_text("utf-8"))}
    | {"q", "region", "month", "offer", "form", "free", "page", "per_page", "kind", "status", "next"}
)


def public_get_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and (access := declaration(app, rule.endpoint)) is not None
                   and access.public), key=lambda rule: rule.rule)


def address(app, rule, raw: str | None, real: dict) -> str:
    """The rule's address with every text value replaced by `raw` (ids stay real: a text in
    place of an id only misses the rule)."""
    real = {**real, "slug": real["region_slug"]} if rule.endpoint == "calendar.region_terms" else real
    values = {name: (real[name] if raw is None or name.endswith("_id") else "RAW")
              for name in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values).replace("RAW", raw or "")


def audience(url: str) -> str:
    """The format an error is expected in, from the address's path."""
    path = url.split("?")[0]
    if path.startswith("/api/v1/"):
        return "application/problem+json"
    if path.endswith(".ics"):
        return "text/plain"
    return "text/html"


def assert_refused(response, status, url):
    expected = audience(url)
    url = url if len(url) < 200 else f"{url[:150]}…({len(url)} characters)"
    assert (response.status_code, response.mimetype) == (status, expected), url
    body = response.get_data(as_text=True)
    if expected == "text/html":
        assert '<html lang="cs">' in body, url
    elif expected == "application/problem+json":
        assert response.get_json()["status"] == status, url
    assert "\x00" not in body and "Traceback" not in body, url


@pytest.fixture
def real(app):
    term = make_term()
    return {"slug": term.offer.slug, "term_id": term.id, "registration_id": 1, "token": "x", "code": "x",
            "signup_token": "x", "filename": "css/app.css", "region_slug": region("CZ053").slug}


def text_arguments(rule):
    return [name for name in rule.arguments if not name.endswith("_id")]


def test_unfit_values_in_any_public_path_are_a_czech_404(app, client, real, server_errors_as_pages):
    for rule in public_get_rules(app):
        if not text_arguments(rule):
            continue
        for raw in UNFIT:
            url = address(app, rule, raw, real)
            assert_refused(client.get(url), 404, url)


def test_unfit_query_values_are_a_czech_400(app, client, real, server_errors_as_pages):
    for rule in public_get_rules(app):
        base = address(app, rule, None, real)
        for raw in UNFIT:
            url = base + "?" + "&".join(f"{name}={raw}" for name in QUERY_NAMES)
            assert_refused(client.get(url), 400, url)
        # A name is a value of the query too.
        assert_refused(client.get(base + "?q%00=1"), 400, base + "?q%00=1")


def test_absurdly_long_addresses_are_a_czech_414(app, client, real, server_errors_as_pages):
    for rule in public_get_rules(app):
        for url in [address(app, rule, None, real) + f"?q={HUGE}"] + (
                [address(app, rule, HUGE, real)] if text_arguments(rule) else []):
            assert_refused(client.get(url), 414, url)


def test_odd_but_wellformed_values_are_never_a_server_error(app, client, real, server_errors_as_pages):
    """Each odd value in each path and (under every name at once) in each query; a default run
    takes two of them per address, turning through the list, so every value is sent."""
    for n, rule in enumerate(public_get_rules(app)):
        values = ODD if FULL_TESTS else [ODD[(2 * n) % len(ODD)], ODD[(2 * n + 1) % len(ODD)]]
        base = address(app, rule, None, real)
        urls = [base + "?" + "&".join(f"{name}={raw}" for name in QUERY_NAMES) for raw in values]
        if text_arguments(rule):
            urls += [address(app, rule, raw, real) for raw in values]
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, url
            if response.status_code >= 400:
                assert response.mimetype == audience(url), url


def test_the_addresses_of_the_report_are_answered_in_the_callers_format(client, server_errors_as_pages):
    """Issue 20, item 11: each of these was a 500 on PostgreSQL."""
    cases = [
        ("/api/v1/terms?region=%00", 400, "application/problem+json"),
        ("/api/v1/offers/a%00", 404, "application/problem+json"),
        ("/nabidka/a%00b", 404, "text/html"),
        ("/nabidka/a%00b/kalendar.ics", 404, "text/plain"),
        ("/kraj/a%00b/kalendar.ics", 404, "text/plain"),
        ("/prihlaska-na-termin/abc%00def", 404, "text/html"),
    ]
    for url, status, mimetype in cases:
        response = client.get(url)
        assert (response.status_code, response.mimetype) == (status, mimetype), url
    problem = client.get("/api/v1/terms?region=%00").get_json()
    assert problem["title"] == "Neplatný požadavek" and problem["detail"]
    feed = client.get("/kraj/a%00b/kalendar.ics").get_data(as_text=True)
    assert feed.startswith("Kalendář nenalezen.")
    page = client.get("/nabidka/a%00b").get_data(as_text=True)
    assert "<h1>Stránka nenalezena</h1>" in page
