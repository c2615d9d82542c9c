"""The application factory."""
from flask import Flask
from werkzeug.routing import IntegerConverter
from flask_login import current_user

import config as settings

from . import templating
from .cli import register_commands
from .db_session import configure_engine, engine_options
from .logs import configure_logging
from .page_cache import PageCache
from .places import MAX_ID
from .security import init_security
from .extensions import csrf, db, login_manager, mail, migrate
from .urls import for_public_base, public_base


class Application(Flask):
    def create_url_adapter(self, request):
        # Links and redirects built during a request name PUBLIC_BASE_URL, not the request's Host.
        adapter = super().create_url_adapter(request)
        return for_public_base(adapter, self.config) if request is not None else adapter


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Application(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(settings.load(config_name))
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment for this configuration.")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise RuntimeError("DATABASE_URL must be set in the environment for this configuration.")
    public_base(app.config.get("PUBLIC_BASE_URL"))  # refuses to start without a usable one
    app.config["WTF_I18N_ENABLED"] = False  # Czech comes from WTForms' own catalogues (CzechForm)
    configure_logging(app)

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)  # time limits on PostgreSQL
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    _init_login(app)
    init_security(app)
    with app.app_context():
        configure_engine(db.engine)

    app.url_map.converters["id"] = IdConverter
    _register_blueprints(app)
    _register_composers()
    templating.register(app)
    register_commands(app)
    # Outermost: a kept public page is answered before anything else runs (page_cache.py).
    app.wsgi_app = PageCache(app, app.wsgi_app)
    return app


def compile_templates(app: Flask) -> int:
    """Compile every page and e-mail template now rather than at its first request; returns how
    many. gunicorn loads the app once and forks its workers from it (config/gunicorn.conf.py), so
    a worker, also one started to replace another, has them all: a first request there would
    otherwise spend up to a second compiling while the worker's other threads wait for the GIL."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt")))
    for name in names:
        env.get_template(name)
    return len(names)


class IdConverter(IntegerConverter):
    """`<id:term_id>`: a row's id as the database can hold it. 0, a sign and anything above
    MAX_ID are no page (404) before a view or an access check runs, so no handler guards it."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def _register_blueprints(app: Flask) -> None:
    """Each capability's public and staff handlers live in its own folder; staff/ holds the
    back-office shell (login, dashboard, outbox, reports, a term's files). Imported here, not at
    the top: a worker or script that imports one service does not load every view."""
    from .api.views import bp as api_bp
    from .calendar.feeds import bp as calendar_bp
    from .catalogue.staff_views import bp as catalogue_staff_bp
    from .catalogue.facts_views import bp as facts_staff_bp
    from .catalogue.views import bp as catalogue_bp
    from .certificates.views import bp as certificates_bp
    from .documents.staff_views import bp as staff_documents_bp
    from .feedback import staff_views as feedback_staff
    from .feedback import views as feedback
    from .pages.views import bp as pages_bp
    from .people.views import bp as people_bp
    from .person.views import bp as person_bp
    from .privacy.views import bp as privacy_bp
    from .registration.attendance_views import bp as attendance_bp
    from .registration.staff_views import bp as staff_registrations_bp
    from .registration.views import bp as registration_bp
    from .requests.public_views import bp as requests_bp
    from .requests.staff_views import staff_bp as requests_staff_bp
    from .staff.auth import bp as auth_bp
    from .staff.downloads import bp as staff_exports_bp
    from .staff.reports import bp as reports_bp
    from .staff.views import bp as staff_bp
    from .terms.staff_views import bp as staff_terms_bp
    from .metrics import init_metrics
    from .pages.views import register_error_handlers

    for blueprint in (
        catalogue_bp, registration_bp, person_bp, certificates_bp, feedback.bp, feedback_staff.bp, pages_bp,
        privacy_bp, calendar_bp, api_bp, auth_bp, staff_bp, staff_terms_bp, staff_registrations_bp,
        attendance_bp, staff_exports_bp, reports_bp, requests_bp, requests_staff_bp,
        catalogue_staff_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(people_bp)  # Lidé: staff accounts, for administrators
    app.register_blueprint(staff_documents_bp)  # a term's osvědčení made by the documents worker
    app.register_blueprint(facts_staff_bp)  # the project's facts and contacts, for organisers
    init_metrics(app)  # /metrics for operators
    register_error_handlers(app)


def _register_composers() -> None:
    """The outbox worker writes a planned e-mail with the composer its capability registered for
    its kind (mail/composers.py); imported here so that every kind has one, whatever else was loaded."""
    from .person import compose as person_compose  # noqa: F401
    from .registration import compose as registration_compose  # noqa: F401
    from .terms import notifications as term_notifications  # noqa: F401


def _init_login(app: Flask) -> None:
    from .people.sessions import load_user, login_message

    # Flask-Login's own context processor loads the user for every template, error pages
    # included, and so queries the database while it is down; the proxy loads her only
    # where a template reads current_user (the staff pages).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Pro vstup do správy se přihlaste."
    login_manager.login_message_category = "info"
    login_manager.localize_callback = login_message
    # Flask-Login's own session protection would log staff out on a changed IP
    # (mobile networks); the server-side session rows (people/sessions.py) do the real work.
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
