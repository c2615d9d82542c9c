"""Fixtures: the application on SQLite and on PostgreSQL, built by migrations.

Every test that uses `app` runs once per database backend. PostgreSQL is found
at TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432); where it is
not reachable its tests are skipped with the reason, unless
REQUIRE_POSTGRES=1 (CI sets it), which turns the skip into a failure.
"""
import contextvars
import os
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, select

from trainings import create_app
from trainings.catalogue.seed import seed_all
from trainings.extensions import db
from trainings.mail.messages import compose_pending
from trainings.models import (
    AuditEntry,
    FeedbackAnswer,
    FeedbackInvitation,
    InterestEntry,
    Offer,
    Orp,
    OutboxMessage,
    PersonLink,
    RecoveryCode,
    Region,
    Registration,
    RegistrationLink,
    SeatHandover,
    SiteSetting,
    StaffSession,
    Term,
    TermForm,
)

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


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
    """The application with an app context; mutable tables are emptied afterwards."""
    with _app.app_context():
        yield _app
        db.session.rollback()
        for model in (AuditEntry, RegistrationLink, PersonLink, StaffSession, RecoveryCode, OutboxMessage,
                      SeatHandover, FeedbackInvitation, FeedbackAnswer, SiteSetting,
                      Registration, InterestEntry, Term):
            db.session.execute(delete(model))
        db.session.commit()
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


def outbox(kind=None, to=None):
    """Queued e-mails, oldest first, written as the outbox worker writes them before sending
    (registration messages are queued as plans: mail.messages.compose)."""
    db.session.rollback()  # see what requests committed; also clears a transaction a server error broke
    pending = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.body_text.is_(None))).all()
    if pending:
        compose_pending(pending)
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if to:
        stmt = stmt.where(OutboxMessage.recipient == to)
    return db.session.scalars(stmt).all()


def only_message(kind, to):
    found = outbox(kind, to)
    assert len(found) == 1, [(m.kind, m.recipient) for m in outbox()]
    return found[0]


# --- builders -----------------------------------------------------------------


def region(code="CZ053"):
    return db.session.scalars(select(Region).where(Region.code == code)).one()


def orp(name):
    return db.session.scalars(select(Orp).where(Orp.name == name)).one()


def offer(slug="od-analyzy-k-tvorbe-ipod"):
    return db.session.scalars(select(Offer).where(Offer.slug == slug)).one()


def make_term(*, slug="od-analyzy-k-tvorbe-ipod", starts_in=timedelta(days=14), hours=3.5, capacity=10,
              form=TermForm.ONLINE, **values):
    starts = datetime.now(timezone.utc).replace(microsecond=0) + starts_in
    term = Term(
        offer=offer(slug),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        form=form,
        capacity=capacity,
        online_url="https://meet.example.cz/ipod" if form == TermForm.ONLINE else None,
        **values,
    )
    db.session.add(term)
    db.session.commit()
    return term


@pytest.fixture
def term(app):
    return make_term()
