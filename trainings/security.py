"""Security headers, rate limits, access checks and unfit addresses, set once for the whole application."""
import re
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, current_app, make_response, request

from .access import init_access
from .extensions import limiter

# No inline scripts or styles anywhere (a test checks the templates), so the
# policy needs no 'unsafe-inline'. frame-ancestors keeps the pages out of
# other sites' frames (click-jacking of the sign-up and staff forms).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def _set_headers(response, hsts: bool):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if hsts:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def unlisted(body, status=None):
    """A page about one person or reached by a secret link: kept out of search engines, and its
    address (which may be the secret) not passed on to other sites through Referer. `body` is
    anything a view may return; `status`, when given, replaces its status."""
    response = make_response(body) if status is None else make_response(body, status)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def private_page(body, status=None):
    """As `unlisted`, for a page of personal data: no cache keeps it either."""
    response = unlisted(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def form_limit():
    return current_app.config["RATELIMIT_FORMS"]


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


# Only submissions count: reading a form again and again is harmless.
limit_form_posts = limiter.limit(form_limit, methods=["POST"])
limit_login_posts = limiter.limit(login_limit, methods=["POST"])


# No address of this site contains a C0 or C1 control character (PostgreSQL refuses NUL in
# text; the rest only ever come from attacks and broken copies) or U+FFFD, which is what
# Werkzeug makes of a percent-escape in the path that is not UTF-8.
UNFIT_IN_ADDRESSES = re.compile("[\x00-\x1f\x7f-\x9f\ufffd]")


def refuse_unfit_addresses():
    """An address that cannot name anything here is refused before any view, access check or
    database query sees it: too long 414, such a path 404, such a query 400, each in the
    caller's format (the error handlers in trainings/pages/views.py)."""
    if len(request.path) + len(request.query_string) > current_app.config["MAX_URL_LENGTH"]:
        abort(414)
    if UNFIT_IN_ADDRESSES.search(request.path):
        abort(404)
    try:
        # Werkzeug keeps a query's broken escapes as they are (%C3( stays "%C3("), so the
        # query is checked whole, escapes decoded; names and values alike.
        query = unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        abort(400)
    if UNFIT_IN_ADDRESSES.search(query):
        abort(400)


def init_security(app: Flask) -> None:
    # First of the request hooks: the rate limiter and the access checks read the address too.
    app.before_request(refuse_unfit_addresses)
    hsts = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.after_request(lambda response: _set_headers(response, hsts))
    limiter.init_app(app)
    init_access(app)  # the declarations are enforced in trainings/access.py
    if app.config.get("PROXY_COUNT"):
        # Behind nginx (or another proxy) the client's address is in X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
