"""Static pages a public body must have, the health check, and every error answer.

Errors are answered in one place, in the format of whoever asked: the JSON API
with application/problem+json (RFC 9457), calendar feeds with plain text (a
calendar client shows no HTML), everything else with the Czech error page in
the site's layout. A database that is down or does not answer in time is a 503
with Retry-After for all three, not a server error: nothing is wrong with the
request, it can be repeated.
"""
from html import escape

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from ..access import public
from ..db_session import DatabaseTimeout, database_silent, ping_new_connection
from ..extensions import db
from ..web import audience_of_request, error_response

bp = Blueprint("pages", __name__)

# How long clients are asked to wait after a database outage.
RETRY_AFTER_SECONDS = 30


@bp.get("/ochrana-osobnich-udaju")
@public
def privacy():
    from ..project import contacts, ministry

    config = current_app.config
    return render_template("pages/privacy.html", consent_version=config["CONSENT_VERSION"],
                           retention_days=config["RETENTION_DAYS"], dpo_contact=config["DPO_CONTACT"],
                           ministry=ministry(), contacts=contacts())


@bp.get("/prohlaseni-o-pristupnosti")
@public
def accessibility():
    from ..project import contacts

    return render_template("pages/accessibility.html", contacts=contacts())


@bp.get("/health")
@public
def health():
    """For the load balancer and monitoring: does the database answer, within HEALTH_TIMEOUT?

    On PostgreSQL a fresh connection runs SELECT 1 against a deadline, so a
    server that accepts connections and never answers is reported in time too,
    and no request or thread is left waiting on it. When this process has just
    found the server silent, that is the answer at once: the check may have
    queued behind requests for up to a ping timeout already.
    """
    engine = db.engine
    try:
        if database_silent(engine):
            raise DatabaseTimeout("the database gave no answer to this process's last probe")
        if engine.dialect.name == "postgresql":
            ping_new_connection(engine.url, current_app.config["HEALTH_TIMEOUT"])
        else:
            db.session.execute(text("SELECT 1"))
    except (sa_exc.SQLAlchemyError, DatabaseTimeout, OSError) as error:
        db.session.rollback()
        current_app.logger.error("health check: database unreachable: %s", _first_line(error))
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


# --- errors -----------------------------------------------------------------

# Title and explanation for each status; the API and the feeds use the same words.
MESSAGES = {
    400: ("Neplatný požadavek", "Požadavek se nepodařilo zpracovat. Zkontrolujte prosím adresu a zkuste to znovu."),
    403: ("Přístup odepřen", "K této stránce nemáte oprávnění. Pokud je potřebujete, obraťte se na správce "
                             "registrací."),
    404: ("Stránka nenalezena", "Tato stránka neexistuje nebo odkaz už neplatí."),
    405: ("Nepovolená akce", "Tuto akci nelze na této adrese provést."),
    413: ("Příliš velký požadavek", "Odeslaná data jsou příliš velká. Zkraťte prosím text a odešlete jej znovu."),
    414: ("Příliš dlouhá adresa", "Adresa je příliš dlouhá. Zkontrolujte ji prosím a zkuste to znovu."),
    429: ("Příliš mnoho pokusů", "Z vaší adresy přišlo v krátké době příliš mnoho odeslání. "
                                "Počkejte prosím chvíli a zkuste to znovu."),
    431: ("Příliš velké hlavičky požadavku", "Prohlížeč s požadavkem poslal příliš mnoho údajů, nejčastěji "
                                              "soubory cookie. Smažte prosím soubory cookie tohoto webu "
                                              "a zkuste to znovu."),
    500: ("Chyba na naší straně", "Omlouváme se, něco se pokazilo. Zkuste to prosím za chvíli znovu."),
    503: ("Služba je dočasně nedostupná", "Omlouváme se, databáze teď neodpovídá. "
                                         "Zkuste to prosím za chvíli znovu."),
}
# Where a page's words would not fit what was asked for.
FOR_AUDIENCE = {
    "api": {404: ("Nenalezeno", "Požadovaný záznam neexistuje.")},
    "feed": {404: ("Kalendář nenalezen", "Tento kalendář neexistuje nebo odkaz už neplatí.")},
}
OTHER = ("Požadavek nelze vyřídit", "Tento požadavek nelze vyřídit (chyba {code}). "
                                    "Vraťte se prosím zpět a zkuste to znovu.")
CSRF_EXPIRED = ("Platnost formuláře vypršela", "Platnost formuláře vypršela. Vraťte se prosím zpět, "
                                               "obnovte stránku a odešlete formulář znovu.")

# A database that is down, refuses, does not answer in time (connect, pool,
# ping, statement or lock timeout) or dropped the connection mid-request.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def register_error_handlers(app):
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, csrf_failed)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)
    app.before_request(_limit_form_fields)


def _words(status, audience="page"):
    words = FOR_AUDIENCE.get(audience, {}).get(status) or MESSAGES.get(status)
    return words or (OTHER[0], OTHER[1].format(code=status))


def http_error(error: HTTPException):
    title, message = _words(error.code, audience_of_request())
    # Werkzeug's own headers: Allow of a 405, Retry-After of a 429 or 503.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if isinstance(error, RateLimitExceeded) and not any(k.lower() == "retry-after" for k, _ in headers):
        # The longest the limit that was hit can take to let her in again (its window).
        headers.append(("Retry-After", str(error.limit.limit.get_expiry())))
    return error_response(error.code, title, message, headers)


def csrf_failed(_error):
    return error_response(400, *CSRF_EXPIRED)


def database_unavailable(error):
    current_app.logger.error("database unavailable at %s: %s", request.path, _first_line(error))
    return error_response(503, *MESSAGES[503], [("Retry-After", str(RETRY_AFTER_SECONDS))])


# For answers sent without the application (templates need it), so only what needs no request:
# the words of the error page, the site's stylesheet, a way back.
STANDALONE_PAGE = """<!doctype html>
<html lang="cs">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} – SPOD4 registrace</title>
  <link rel="stylesheet" href="/static/css/app.css">
</head>
<body>
  <main id="obsah" class="container">
    <h1>{title}</h1>
    <p>{message}</p>
    <p><a href="/">Zpět na nabídku workshopů</a></p>
  </main>
</body>
</html>
"""


def standalone_error_page(status: int) -> str:
    """The error page for what gunicorn answers itself, before a request reaches the
    application (config/gunicorn.conf.py): a request line or headers over its limits."""
    title, message = _words(status)
    return STANDALONE_PAGE.format(title=escape(title), message=escape(message))


def _limit_form_fields():
    """Werkzeug limits each field only in multipart bodies (MAX_FORM_MEMORY_SIZE);
    hold url-encoded forms, what browsers send here, to the same limit, so that a
    huge field is refused instead of being parsed into a form and shown back."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    config = current_app.config
    fields = list(request.form.items(multi=True))  # the body is already within MAX_CONTENT_LENGTH
    if len(fields) > config["MAX_FORM_PARTS"] or any(
            len(value) > config["MAX_FORM_MEMORY_SIZE"] for _name, value in fields):
        abort(413)


def _first_line(error) -> str:
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
