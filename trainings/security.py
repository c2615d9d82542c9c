"""Security headers, rate limits and access checks, set once for the whole application."""
from flask import Flask, current_app, make_response

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


def init_security(app: Flask) -> None:
    hsts = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.after_request(lambda response: _set_headers(response, hsts))
    limiter.init_app(app)
    init_access(app)  # the declarations are enforced in trainings/access.py
    if app.config.get("PROXY_COUNT"):
        # Behind nginx (or another proxy) the client's address is in X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
