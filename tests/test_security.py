"""Headers that keep the pages safe, and limits that slow down abuse."""
import re
import time

import pytest

from trainings import create_app
from trainings.extensions import limiter

from .helpers import make_term, template_files



def test_every_page_sends_a_strict_content_security_policy(client):
    for url in ("/", "/nabidka/od-analyzy-k-tvorbe-ipod", "/sprava/prihlaseni", "/neexistuje"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in template_files(".html"):
        if path.parts[-2] == "mail":  # e-mails are not served under the CSP
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        for match in re.finditer(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: event handler {match.group().strip()}")
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{path.name}: inline style")
    assert offenders == []


@pytest.fixture
def limited_app(app):
    """The app with low limits switched on (the limits are read per request)."""
    saved = {key: app.config[key] for key in ("RATELIMIT_FORMS", "RATELIMIT_LOGIN")}
    app.config.update(RATELIMIT_FORMS="3 per minute", RATELIMIT_LOGIN="2 per minute")
    limiter.reset()
    yield app
    limiter.reset()
    app.config.update(saved)


def test_registration_posts_are_limited_with_a_czech_answer(limited_app):
    term = make_term()
    client = limited_app.test_client()
    codes = [client.post(f"/termin/{term.id}/prihlaska", data={}).status_code for _ in range(4)]
    assert codes[:3] == [422, 422, 422]
    assert codes[3] == 429
    response = client.post(f"/termin/{term.id}/prihlaska", data={})
    page = response.get_data(as_text=True)
    assert "<h1>Příliš mnoho pokusů</h1>" in page and '<html lang="cs">' in page
    # When to try again, from the window of the limit she hit; no X-RateLimit-* bookkeeping otherwise.
    assert int(response.headers["Retry-After"]) > 0
    assert not any(name.startswith("X-RateLimit") for name in response.headers.keys())
    # Reading the form is not limited.
    assert client.get(f"/termin/{term.id}/prihlaska").status_code == 200


def test_login_attempts_are_limited(limited_app):
    client = limited_app.test_client()
    page = client.get("/sprava/prihlaseni").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "email": "x@example.cz", "password": "spatne"}
    codes = [client.post("/sprava/prihlaseni", data=data).status_code for _ in range(3)]
    assert codes == [422, 422, 429]


# --- request size ---------------------------------------------------------------------------


def _assert_refused_as_too_large(response, marker):
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert '<html lang="cs">' in page and "<h1>Příliš velký požadavek</h1>" in page
    assert marker not in page  # nothing of what was sent comes back


def test_a_huge_body_is_refused_unread_with_a_czech_page(client, term):
    body = b"name=" + b"x" * (30 * 1024 * 1024)
    started = time.monotonic()
    response = client.post(f"/termin/{term.id}/prihlaska", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert time.monotonic() - started < 2
    _assert_refused_as_too_large(response, "xxxxxxxxxx")


def test_a_huge_field_is_refused_not_shown_back(client, term):
    """The sign-up form shows what was typed next to its errors: a field of 20 MB, and one of
    200 kB in a body under the size limit, must not make it into the page."""
    url = f"/termin/{term.id}/prihlaska"
    _assert_refused_as_too_large(client.post(url, data={"name": "Jana " + "y" * 20_000_000}), "yyyyyyyyyy")
    _assert_refused_as_too_large(client.post(url, data={"name": "Jana " + "z" * 200_000}), "zzzzzzzzzz")
    _assert_refused_as_too_large(client.post(url, data={"name": "Jana " + "w" * 200_000},
                                             content_type="multipart/form-data"), "wwwwwwwwww")
    # A form of ordinary size still gets its field errors, with what was typed kept.
    response = client.post(url, data={"name": "Jana Nováková"})
    assert response.status_code == 422 and "Jana Nováková" in response.get_data(as_text=True)


def test_too_many_fields_are_refused(client, term):
    fields = "&".join(f"f{i}=1" for i in range(1000))
    response = client.post(f"/termin/{term.id}/prihlaska", data=fields,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


# --- the public address --------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "registrace.example.cz", "ftp://registrace.example.cz",
                                   "https://", "https://registrace.example.cz/?x=1"])
def test_production_does_not_start_without_a_usable_public_address(value):
    """Absolute links (e-mails, feeds, the API, QR codes) come from PUBLIC_BASE_URL alone, never
    from the Host a request names; without it production would have nothing to build them from."""
    settings = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_FORMAT": "text",
                "PUBLIC_BASE_URL": value}
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app("production", settings)
    assert create_app("production", {**settings, "PUBLIC_BASE_URL": "https://registrace.example.cz"})
