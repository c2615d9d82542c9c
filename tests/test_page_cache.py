"""Public pages are kept a few seconds for visitors without a session, and only for them."""
import re
import threading
import time

import pytest
from flask import before_render_template, url_for

from trainings import page_cache
from trainings.access import declaration
from trainings.extensions import db

from .conftest import build_app
from .helpers import make_term, region


@pytest.fixture
def caching(app):
    app.config["PAGE_CACHE_SECONDS"] = 60
    page_cache.clear()
    yield
    app.config["PAGE_CACHE_SECONDS"] = 0
    page_cache.clear()


def test_anonymous_visitors_share_a_rendering_for_a_few_seconds(client, caching):
    first = client.get("/").get_data(as_text=True)
    term = make_term()
    again = client.get("/").get_data(as_text=True)
    assert again == first  # the same rendering, although a term was added since
    assert f"/termin/{term.id}/prihlaska" not in again
    page_cache.clear()
    assert f"/termin/{term.id}/prihlaska" in client.get("/").get_data(as_text=True)


def test_a_visitor_with_a_session_gets_a_fresh_page(app, client, caching):
    client.get("/")
    term = make_term()
    # A page with a form gives the visitor a session (its CSRF token) ...
    client.get("/nabidka/syndrom-can")
    # ... and from then on the pages are rendered for her.
    assert f"/termin/{term.id}/prihlaska" in client.get("/").get_data(as_text=True)


def test_a_page_with_a_personal_form_is_never_kept(client, caching):
    tokens = set()
    for _ in range(2):
        fresh = client.application.test_client()
        page = fresh.get("/nabidka/syndrom-can").get_data(as_text=True)
        tokens.add(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
    assert len(tokens) == 2


def test_cached_feeds_still_answer_conditional_requests(client, caching):
    make_term()
    first = client.get("/kalendar.ics")
    again = client.get("/kalendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_kept_page_is_answered_with_everything_a_rendered_one_has(client, caching):
    """Kept pages are served before Flask (PageCache): they carry the final headers, and the
    metrics count them like rendered ones."""
    from prometheus_client import REGISTRY

    def answered():
        return REGISTRY.get_sample_value(
            "spod4_http_requests_total", {"endpoint": "catalogue.index", "method": "GET", "status": "200"}) or 0

    before = answered()
    rendered, kept = client.get("/"), client.get("/")
    assert kept.get_data() == rendered.get_data()
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                   "Vary", "Content-Type"):
        assert kept.headers[header] == rendered.headers[header], header
    assert answered() - before == 2


def test_a_visitor_with_a_session_cookie_never_gets_a_kept_page(app, client, caching):
    client.get("/")
    term = make_term()
    cookie = app.config["SESSION_COOKIE_NAME"]
    visitor = app.test_client()
    visitor.set_cookie("other", "1")
    visitor.set_cookie(cookie, "x")
    fresh = visitor.get("/")
    assert f"/termin/{term.id}/prihlaska" in fresh.get_data(as_text=True)
    assert f"/termin/{term.id}/prihlaska" not in app.test_client().get("/").get_data(as_text=True)


def test_visitors_arriving_while_a_page_is_first_rendered_wait_for_that_rendering(app, caching):
    """A process that has no copy of a page yet (just started, or after a quiet spell) renders it
    once when many visitors arrive at the same moment; the others get that rendering. Before, each
    of a worker's threads rendered the catalogue at once, and on two cores under load every one of
    them took close to a second."""
    make_term()
    renderings = []
    visitors = 6
    all_asking = threading.Barrier(visitors)

    def slow_first_rendering(sender, template, context, **extra):
        if template.name == "catalogue/index.html":
            renderings.append(template.name)
            time.sleep(0.5)  # the others arrive meanwhile

    def visit(answers):
        client = app.test_client()
        all_asking.wait()
        answers.append(client.get("/").get_data(as_text=True))

    answers = []
    with before_render_template.connected_to(slow_first_rendering, app):
        threads = [threading.Thread(target=visit, args=(answers,)) for _ in range(visitors)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert len(answers) == visitors and len(set(answers)) == 1
    assert renderings == ["catalogue/index.html"]


def test_when_the_first_rendering_fails_those_waiting_render_the_page_themselves(app, caching):
    make_term()
    attempts = []

    def failing_first_rendering(sender, template, context, **extra):
        if template.name == "catalogue/index.html":
            attempts.append(1)
            if len(attempts) == 1:
                time.sleep(0.3)
                raise RuntimeError("the first rendering fails")

    statuses = []

    def visit():
        try:
            statuses.append(app.test_client().get("/").status_code)
        except RuntimeError:
            statuses.append("failed")

    with before_render_template.connected_to(failing_first_rendering, app):
        first = threading.Thread(target=visit)
        first.start()
        time.sleep(0.1)
        second = threading.Thread(target=visit)
        second.start()
        first.join(10)
        second.join(10)
    assert sorted(map(str, statuses)) == ["200", "failed"]
    assert len(attempts) == 2


# --- a forged host ---------------------------------------------------------------------------

FORGED = "evil.example"


@pytest.fixture
def behind_a_proxy(app, database_url, tmp_path):
    """The application as production runs it behind nginx: X-Forwarded-* of one proxy trusted,
    the page cache on. Same database as `app`."""
    proxied = build_app(database_url, tmp_path, PROXY_COUNT=1, PAGE_CACHE_SECONDS=60)
    page_cache.clear()
    yield proxied
    page_cache.clear()
    with proxied.app_context():
        db.engine.dispose()


def public_pages(app, term):
    """Every public GET address, with the real workshop, kraj and term where it takes one."""
    values = {"slug": term.offer.slug, "term_id": term.id}
    urls = ["/api/v1/offers?per_page=1", "/api/v1/terms?per_page=1", "/api/v1", "/sprava"]
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            access = declaration(app, rule.endpoint)
            if "GET" not in rule.methods or access is None or not access.public:
                continue
            rule_values = {name: values.get(name, 1 if name.endswith("_id") else "x") for name in rule.arguments}
            if rule.endpoint == "calendar.region_terms":
                rule_values["slug"] = region("CZ053").slug
            urls.append(url_for(rule.endpoint, **rule_values))
    return urls


def test_a_forged_host_never_reaches_the_links_others_are_served(app, behind_a_proxy):
    """Issue 20, item 3: the API built its absolute links from Host / X-Forwarded-Host and the
    page cache keys on the path, so one forged request made the next clean ones link to the
    forger's site. Links and redirects name PUBLIC_BASE_URL, whatever a request says."""
    term = make_term()
    urls = public_pages(app, term)
    forged = {"Host": FORGED, "X-Forwarded-Host": FORGED, "X-Forwarded-Proto": "https"}
    answers = [(url, "forged", behind_a_proxy.test_client().get(url, headers=forged)) for url in urls]
    answers += [(url, "clean", behind_a_proxy.test_client().get(url)) for url in urls]
    carrying = [(url, kind) for url, kind, response in answers
                if FORGED.encode() in response.data or FORGED in str(response.headers)]
    assert not carrying, "\n".join(f"{kind} request: {url}" for url, kind in carrying)
    # The links are there, and absolute: on the public address.
    [item] = behind_a_proxy.test_client().get("/api/v1/terms").get_json()["items"]
    assert item["url"] == f"http://spod4.test/termin/{term.id}/prihlaska"
    redirect = behind_a_proxy.test_client().get("/api/v1", headers=forged)
    assert redirect.headers["Location"] == "http://spod4.test/api/v1/"


# --- an outsider's view: cache on against cache off -----------------------------------------

def _answer(response):
    """What a visitor sees of an answer; a session cookie's value, Date and Expires differ each time
    by design."""
    headers = sorted((name, "<cookie>" if name == "Set-Cookie" else value)
                     for name, value in response.headers.items() if name not in ("Date", "Expires"))
    return response.status_code, headers


def _apart(answer, other):
    """What `answer` has that `other` has not: its status, or its headers."""
    if answer[0] != other[0]:
        return answer[0]
    return [header for header in answer[1] if header not in other[1]]


def test_every_public_address_answers_the_same_with_the_cache_on_as_off(app, client):
    """Each public GET address, fetched twice (the second one a kept page where the cache keeps
    it), and asked conditionally and as HEAD: same status and headers as Flask gives uncached."""
    term = make_term()
    urls = public_pages(app, term)

    def answers():
        seen = {}
        for url in urls:
            first = app.test_client().get(url)
            second = app.test_client().get(url)
            seen[url, "GET"] = _answer(first)
            seen[url, "GET again"] = _answer(second)
            if "Set-Cookie" not in first.headers:  # a form's CSRF token is each visitor's own
                assert second.data == first.data, url
            if "ETag" in first.headers:
                conditional = app.test_client().get(url, headers={"If-None-Match": first.headers["ETag"]})
                seen[url, "If-None-Match"] = _answer(conditional)
            seen[url, "HEAD"] = _answer(app.test_client().head(url))
            seen[url, "Range"] = _answer(app.test_client().get(url, headers={"Range": "bytes=0-9"}))
        return seen

    page_cache.clear()
    uncached = answers()
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        cached = answers()
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        page_cache.clear()
    differing = [f"{url} {kind}: off {_apart(uncached[url, kind], cached[url, kind])}, "
                 f"on {_apart(cached[url, kind], uncached[url, kind])}"
                 for url, kind in uncached if uncached[url, kind] != cached[url, kind]]
    assert not differing, "\n".join(differing)


def test_a_session_after_a_cookie_python_cannot_parse_still_gets_a_fresh_page(app, caching):
    """Consent banners and analytics keep JSON in cookies of the same site. Python's SimpleCookie
    stops at such a cookie and missed the session after it, so a visitor with a flash message or
    an open form was served a kept page; Flask (Werkzeug's parser) sees that session."""
    app.test_client().get("/")
    term = make_term()
    cookie = app.config["SESSION_COOKIE_NAME"]
    for other in ('{"analytics":false}', '"unclosed', "two words"):
        visitor = app.test_client(use_cookies=False)  # the header as a browser sends it
        fresh = visitor.get("/", headers={"Cookie": f"consent={other}; {cookie}=x"})
        assert f"/termin/{term.id}/prihlaska" in fresh.get_data(as_text=True), other


def test_many_query_strings_keep_no_more_than_a_bounded_amount_of_memory(client, caching, monkeypatch):
    """Each query string is its own entry, and a feed can weigh megabytes: 512 of them per process
    was gigabytes an outsider could make a worker hold with as many requests. Bytes are bounded
    as well as entries."""
    make_term()
    size = len(client.get("/kalendar.ics").data)
    monkeypatch.setattr(page_cache, "MAX_BYTES", 3 * size, raising=False)
    for n in range(8):
        assert client.get(f"/kalendar.ics?n={n}").status_code == 200
    assert sum(len(entry.body) for entry in page_cache._entries.values()) <= 3 * size
    assert "/kalendar.ics?n=7" in page_cache._entries  # the latest are the ones kept


def test_visitors_of_a_page_that_is_never_kept_do_not_wait_for_each_other(app, caching):
    """A workshop without terms shows the interest form, so its page is each visitor's own (its
    CSRF token) and never kept. Once a rendering has shown that, the next visitors go straight
    to Flask for a while: before, each waited for another visitor's rendering to end only to
    render the page herself, every page of it taking two renderings' time under load."""
    address = "/nabidka/syndrom-can"
    assert "Set-Cookie" in app.test_client().get(address).headers  # personal: now known
    finished = []

    def slow_for_the_first(sender, template, context, **extra):
        if threading.current_thread().name == "first":
            time.sleep(0.4)

    def visit(name):
        app.test_client().get(address)
        finished.append(name)

    with before_render_template.connected_to(slow_for_the_first, app):
        first = threading.Thread(target=visit, args=("first",), name="first")
        first.start()
        time.sleep(0.1)
        visit("second")
        first.join(10)
    assert finished == ["second", "first"]


def test_a_change_saved_while_a_page_is_rendered_is_on_the_next_page(app, caching):
    """The back office empties the cache when the catalogue changes (page_cache.clear). A rendering
    that read the rows before the change used to be kept after it, for the full seconds; and
    visitors waiting for that rendering were forgotten by clear(), so each waited the whole
    FIRST_RENDER_WAIT (5 s) before rendering the page herself."""
    timings = {}

    def slow(sender, template, context, **extra):
        if threading.current_thread().name == "first" and template.name == "catalogue/index.html":
            time.sleep(0.4)

    def visit(name):
        started = time.monotonic()
        app.test_client().get("/")
        timings[name] = time.monotonic() - started

    with before_render_template.connected_to(slow, app):
        visitors = [threading.Thread(target=visit, args=(name,), name=name) for name in ("first", "waiting")]
        visitors[0].start()
        time.sleep(0.1)
        visitors[1].start()
        time.sleep(0.1)
        term = make_term()  # what a save in the back office does: the change, then clear()
        db.session.commit()
        page_cache.clear()
        for visitor in visitors:
            visitor.join(10)
    assert timings["waiting"] < 2
    assert f"/termin/{term.id}/prihlaska" in app.test_client().get("/").get_data(as_text=True)
