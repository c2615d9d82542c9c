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

import psycopg
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from trainings import create_app
from trainings.catalogue.seed import seed_all
from trainings.extensions import db

from .helpers import empty_tables, make_term
# Re-exported only for tests/test_access.py (another engineer's file, which still imports them from here).
from .helpers import offer, orp, region  # noqa: F401

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


@pytest.fixture
def term(app):
    return make_term()
