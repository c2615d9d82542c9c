"""Static pages a public body must have, and the error pages."""
from flask import Blueprint, current_app, render_template
from flask_wtf.csrf import CSRFError

bp = Blueprint("pages", __name__)


@bp.get("/ochrana-osobnich-udaju")
def privacy():
    return render_template("pages/privacy.html", consent_version=current_app.config["CONSENT_VERSION"])


def not_found(_error):
    return render_template("pages/error.html", title="Stránka nenalezena",
                           message="Tato stránka neexistuje nebo odkaz už neplatí."), 404


def method_not_allowed(_error):
    return render_template("pages/error.html", title="Nepovolená akce",
                           message="Tuto akci nelze na této adrese provést."), 405


def csrf_failed(_error):
    return render_template("pages/error.html", title="Platnost formuláře vypršela",
                           message="Platnost formuláře vypršela. Vraťte se prosím zpět, obnovte stránku "
                                   "a odešlete formulář znovu."), 400


def too_many_requests(_error):
    return render_template("pages/error.html", title="Příliš mnoho pokusů",
                           message="Z vaší adresy přišlo v krátké době příliš mnoho odeslání. "
                                   "Počkejte prosím chvíli a zkuste to znovu."), 429


def server_error(_error):
    return render_template("pages/error.html", title="Chyba na naší straně",
                           message="Omlouváme se, něco se pokazilo. Zkuste to prosím za chvíli znovu."), 500


def register_error_handlers(app):
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, method_not_allowed)
    app.register_error_handler(429, too_many_requests)
    app.register_error_handler(500, server_error)
    app.register_error_handler(CSRFError, csrf_failed)
