"""Public pages are kept a few seconds for visitors without a session, and only for them."""
import re

import pytest

from trainings import page_cache

from .helpers import make_term


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
