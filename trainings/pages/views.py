"""Static pages a public body must have, and the error pages."""
from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from flask_wtf.csrf import CSRFError

from ..extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/ochrana-osobnich-udaju")
def privacy():
    return render_template("pages/privacy.html", consent_version=current_app.config["CONSENT_VERSION"])


@bp.get("/prohlaseni-o-pristupnosti")
def accessibility():
    from ..catalogue.seed import catalogue_document

    return render_template("pages/accessibility.html", contacts=catalogue_document()["contacts"])


@bp.get("/health")
def health():
    """For the load balancer and monitoring: is the database answering?"""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


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
