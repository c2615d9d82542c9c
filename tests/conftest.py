"""Fixtures: the application on SQLite and on PostgreSQL, built by migrations.

Every test that uses `app` runs once per database backend. PostgreSQL is found
at TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432); where it is
not reachable its tests are skipped with the reason, unless
REQUIRE_POSTGRES=1 (CI sets it), which turns the skip into a failure.

Tests marked `slow` (the browser, bursts of concurrent sign-ups, worker processes)
are skipped unless SPOD4_FULL_TESTS=1, and the fuzz runs a small budget
(tests/test_fuzz.py); CI (.ci/run) sets it and runs everything.
"""
import contextvars
import os
from datetime import timedelta

import psycopg
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, update

from trainings import create_app
from trainings.catalogue.seed import seed_all
from trainings.extensions import db
from trainings.models import EmployerType, RequestState, StaffRole, TermForm, User, utcnow
from trainings.registration import service as registration
from trainings.requests import service as requests
from trainings.terms.service import TermData

from .helpers import empty_tables, make_term, offer, orp, region
from .smtp import SmtpServer
from .staff_helpers import CREATED, NAMES, OTHER_LECTURER, remove_user, staff_user

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
FULL_TESTS = os.environ.get("SPOD4_FULL_TESTS") == "1"
SLOW_SKIP = ("slow (browser, concurrent bursts or worker processes): "
             "runs with SPOD4_FULL_TESTS=1, as CI's .ci/run does")


def pytest_collection_modifyitems(config, items):
    if FULL_TESTS:
        return
    skip = pytest.mark.skip(reason=SLOW_SKIP)
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def _postgres_database(name: str) -> str:
    """Create a fresh database next to TEST_DATABASE_URL's and return its URL."""
    try:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}".strip()
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


class RequestIsolatingClient(FlaskClient):
    """Each request gets its own app context, session and `g`, as in production.

    Without this, requests would reuse the test's app context: one shared
    database session and a `g` that remembers the last logged-in user. The
    test's own pending changes are committed first, so the request sees them,
    and the test's next read starts a fresh transaction that sees the request's.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(url, mail_dir, **overrides):
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": url, "MAIL_FILE_DIR": str(mail_dir), **overrides},
    )
    app.test_client_class = RequestIsolatingClient
    with app.app_context():
        upgrade()
        seed_all()
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    # One database per test run, so two runs on one machine never share or drop each other's.
    name = f"spod4_test_{os.getpid()}"
    yield _postgres_database(name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    return build_app(database_url, tmp_path_factory.mktemp("mail"))


@pytest.fixture
def app(_app):
    """The application with an app context; every table but the reference ones is emptied afterwards."""
    with _app.app_context():
        yield _app
        empty_tables()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def server_errors_as_pages(app):
    """Let a server error come back as the 500 page instead of raising in the test,
    so tests that send bad input can assert "never a 5xx" on the status."""
    previous = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = previous


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server (aiosmtpd) for the tests of one module; it records what arrived."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_app(app, database_url, smtp, tmp_path):
    """The app on the same database, sending through the test SMTP server."""
    smtp_app = build_app(database_url, tmp_path, MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    smtp.recorder.messages.clear()
    smtp.recorder.refuse.clear()
    with smtp_app.app_context():
        yield smtp_app
        db.session.remove()
        db.engine.dispose()
    if smtp.controller is None:  # a test stopped it to play an outage
        smtp.start()


@pytest.fixture
def term(app):
    return make_term()


@pytest.fixture
def objects(app):
    """One object of each kind (tests/test_access.py, tests/test_fuzz.py): two requests of
    Pardubický kraj (an agreed workshop with a closed term taught by Petra Lektorová, her
    account linked to it, a package with items), a registration, e-mails."""
    requester = requests.Requester("Marie Dvořáková", "marie@pardubickykraj.cz", "KÚ Pardubického kraje")
    # The first request is the one `request_id` gets: a workshop, so that every page of it opens.
    workshop = requests.submit_custom_workshop(
        requester, requests.CustomWorkshop(region("CZ053").id, "IPOD", 20, "jaro", topic_text="IPOD")
    ).request
    items = tuple((o.id, "poznámka") for o in [offer("posileni-metodicke-role-krajskych-ospod")])
    requests.submit_region_package(requester, requests.RegionPackage(region("CZ053").id, items))
    coordinator = workshop.coordinator
    requests.transition(workshop.id, RequestState.IN_PROGRESS, coordinator)
    requests.transition(workshop.id, RequestState.AGREED, coordinator)
    starts = utcnow() + timedelta(days=20)
    term = requests.create_closed_term(workshop.id, TermData(
        offer_id=offer().id, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
        capacity=10, restricted_region_id=region("CZ053").id, lecturer="Mgr. Petra Lektorová"), coordinator)
    # The coordinator's form links no accounts; the organiser does it later on the term form.
    # Without a password: the browser that logs her in sets one (tests/staff_helpers.py).
    lecturer = staff_user(CREATED[StaffRole.LECTURER], NAMES[CREATED[StaffRole.LECTURER]], StaffRole.LECTURER,
                          password=None)
    term.lecturers.append(lecturer)
    db.session.commit()
    registration.register(term.id, registration.Applicant(
        "Jana Nováková", "jana@litomysl.cz", EmployerType.OSPOD, "sociální pracovnice",
        region("CZ053").id, orp("Litomyšl").id), signup_token=term.signup_token)
    yield
    # The rows first (what `app` empties anyway), as they point at the staff the test logged in as:
    # those go, and the seeded coordinators lose the password their login gave them.
    empty_tables()
    db.session.execute(delete(User).where(User.email.in_([*CREATED.values(), OTHER_LECTURER])))
    db.session.execute(update(User).where(User.role == StaffRole.COORDINATOR).values(password_hash=None))
    db.session.commit()


@pytest.fixture
def petra_lecturer(app):
    """Petra Lektorová, a lecturer with a staff account, removed again afterwards."""
    user = staff_user("petra.lektorova@example.cz", "Petra Lektorová", StaffRole.LECTURER)
    yield user
    remove_user(user.id)
