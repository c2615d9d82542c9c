"""A database that is down or hangs never keeps a request waiting long.

The application talks to the real PostgreSQL through tests/tcp_proxy.py, which
can refuse connections (a server that is down) or accept them and forward
nothing (a server that hangs: TCP is acknowledged, no answer ever comes, so no
server-side timeout can fire). /health must say 503 within 2 seconds either
way; pages, the API and the calendar feeds answer 503 in their own format
within the configured bound. A statement already sent when the database
freezes fails within two ping timeouts too (tests/test_database_freeze.py runs
that under load in gunicorn).
"""
import os
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from trainings.extensions import db

from .conftest import PG_ADMIN_URL, _admin, _postgres_database, build_app
from .tcp_proxy import TcpProxy

# Shorter than the production defaults (config/__init__.py) so that the tests are quick.
LIMITS = {
    "DATABASE_CONNECT_TIMEOUT": 2,  # libpq's minimum
    "DATABASE_PING_TIMEOUT": 0.5,
    "DATABASE_POOL_TIMEOUT": 1,
    "DATABASE_STATEMENT_TIMEOUT": 1,
    "HEALTH_TIMEOUT": 1.5,
}
PING = LIMITS["DATABASE_PING_TIMEOUT"]
# A request behind a hung database: the ping of its pooled connection, then a new connection.
HUNG_BOUND = PING + LIMITS["DATABASE_CONNECT_TIMEOUT"] + 1
# A statement sent before the database froze: a ping timeout without an answer, then a probe
# that gets none either (trainings/db_session.py Liveness), and psycopg's 0.1 s wake-ups.
FROZEN_BOUND = 2 * PING + 0.5


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """An app whose PostgreSQL is reached through the proxy (migrated and seeded through it)."""
    name = f"spod4_timeouts_{os.getpid()}"
    direct = make_url(_postgres_database(name))
    target = urlsplit(PG_ADMIN_URL)
    proxy = TcpProxy(target.hostname, target.port or 5432).start()
    url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = build_app(url, tmp_path_factory.mktemp("mail"), **LIMITS)
    yield app, proxy
    proxy.stop()
    with app.app_context():
        db.engine.dispose()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database(proxied):
    """The proxy in front of the database; it flows again after each test, and the
    application has found that out before the next."""
    app, proxy = proxied
    proxy.restore()
    yield proxy
    proxy.restore()
    back_again(lambda: answers(app))


@pytest.fixture
def client(proxied, database):
    return proxied[0].test_client()


def back_again(works):
    """Seconds until `works()` is true once the database answers again: the process finds
    out at its next probe, which new work starts once the last verdict is a ping timeout old."""
    started = time.monotonic()
    while True:
        try:
            if works():
                return time.monotonic() - started
        except OperationalError:
            pass
        if time.monotonic() - started > 10:
            raise AssertionError("the application did not find the database again")
        time.sleep(0.05)


def answers(app):
    with app.app_context():
        try:
            return db.session.execute(text("SELECT 1")).scalar() == 1
        finally:
            db.session.rollback()


def timed(client, url):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


def our_threads():
    return [t for t in threading.enumerate() if not t.name.startswith("tcp-proxy")]


def test_health_says_503_in_time_when_the_database_refuses_and_200_when_it_is_back(client, database):
    assert client.get("/health").status_code == 200
    database.refuse()
    response, took = timed(client, "/health")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
    assert took < 2
    database.restore()
    assert client.get("/health").status_code == 200


def test_health_says_503_in_time_when_the_database_hangs_and_leaves_nothing_waiting(client, database):
    assert client.get("/health").status_code == 200
    threads_before = len(our_threads())
    database.hang()
    for _ in range(2):  # a monitor polling during the outage
        response, took = timed(client, "/health")
        assert response.status_code == 503
        assert took < 2
    assert len(our_threads()) == threads_before
    database.restore()
    assert client.get("/health").status_code == 200


def test_pages_api_and_feeds_say_503_in_their_own_format_when_the_database_refuses(client, database):
    assert client.get("/").status_code == 200  # the pool now holds a connection the outage will cut
    database.refuse()

    page, took = timed(client, "/")
    assert page.status_code == 503 and took < 2
    assert page.headers["Retry-After"].isdigit()
    html = page.get_data(as_text=True)
    # The Czech page in the full layout, footer included: rendering it needs no database.
    assert '<html lang="cs">' in html and "<h1>Služba je dočasně nedostupná</h1>" in html
    assert "reg. č." in html

    api, took = timed(client, "/api/v1/terms")
    assert api.status_code == 503 and took < 2
    assert api.mimetype == "application/problem+json"
    problem = api.get_json()
    assert (problem["status"], problem["title"]) == (503, "Služba je dočasně nedostupná")
    assert api.headers["Retry-After"].isdigit()

    feed, took = timed(client, "/kalendar.ics")
    assert feed.status_code == 503 and took < 2
    assert feed.mimetype == "text/plain" and feed.headers["Retry-After"].isdigit()
    assert feed.get_data(as_text=True).startswith("Služba je dočasně nedostupná.")

    database.restore()
    assert client.get("/").status_code == 200


def test_a_logged_in_staff_member_gets_the_czech_503_page_too(proxied, client, database):
    """Her session is looked up in the database on every staff page: that fails, and the
    error page must not need her (or the database) to render."""
    from trainings.models import StaffRole

    from .staff_helpers import log_in, remove_user, staff_user

    with proxied[0].app_context():
        lecturer = staff_user("lektorka-vypadek@example.cz", "Lektorka Výpadková", StaffRole.LECTURER)
        try:
            assert log_in(client, lecturer.email, "dlouhe-heslo-pro-test").status_code == 302
            assert client.get("/sprava/").status_code == 200
            database.refuse()
            response, took = timed(client, "/sprava/")
            assert response.status_code == 503 and took < 2
            assert "<h1>Služba je dočasně nedostupná</h1>" in response.get_data(as_text=True)
            database.restore()
            assert client.get("/sprava/").status_code == 200  # still logged in
        finally:
            database.restore()
            remove_user(lecturer.id)


@pytest.mark.slow
def test_a_page_and_the_api_behind_a_hung_database_say_503_within_the_bound(client, database):
    assert client.get("/").status_code == 200
    database.hang()
    for url, mimetype in (("/", "text/html"), ("/api/v1/offers", "application/problem+json")):
        response, took = timed(client, url)
        assert response.status_code == 503, url
        assert response.mimetype == mimetype
        assert took < HUNG_BOUND, (url, took)
    database.restore()
    assert back_again(lambda: client.get("/").status_code == 200) < FROZEN_BOUND


def test_a_statement_that_runs_too_long_is_cut_by_the_server(proxied, database):
    app, _proxy = proxied
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            db.session.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 3
        db.session.rollback()


def test_a_statement_whose_answer_stops_coming_fails_fast_and_so_does_new_work_until_the_database_answers(
        proxied, database):
    """The database freezes mid-query: the bytes already sent are acknowledged, no answer
    comes, no server or TCP limit can fire. The statement fails within two ping timeouts
    (not when the freeze ends), new statements fail at once, and once the database
    answers again work resumes within about two ping timeouts."""
    app, _proxy = proxied
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # a pooled connection, checked and in use
        threading.Timer(0.2, database.hang).start()
        ends = threading.Timer(6, database.restore)  # the freeze's end, should the statement wait for it
        ends.start()
        try:
            started = time.monotonic()
            with pytest.raises(OperationalError):
                db.session.execute(text("SELECT pg_sleep(0.4)"))
            assert time.monotonic() - started < FROZEN_BOUND
            db.session.rollback()

            started = time.monotonic()
            with pytest.raises(OperationalError, match="no answer to a probe"):
                db.session.execute(text("SELECT 1"))
            assert time.monotonic() - started < 0.2
            db.session.rollback()
        finally:
            ends.cancel()
        database.restore()
        assert back_again(lambda: answers(app)) < FROZEN_BOUND


def test_a_session_closed_while_the_database_is_frozen_closes_quietly_and_in_time(proxied, database):
    """Flask-SQLAlchemy closes each request's session once the answer is ready. When its
    ROLLBACK gets no answer, it is cut like any wait, and that must not turn the finished
    answer into a server error: the server ends the transaction of a connection that is gone."""
    app, _proxy = proxied
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the request's transaction, open
        database.hang()
        ends = threading.Timer(6, database.restore)
        ends.start()
        try:
            started = time.monotonic()
            db.session.remove()
            assert time.monotonic() - started < FROZEN_BOUND
        finally:
            ends.cancel()


def test_a_slow_statement_on_a_database_that_answers_is_not_cut(proxied, database):
    app, _proxy = proxied
    with app.app_context():
        slow = LIMITS["DATABASE_STATEMENT_TIMEOUT"] - 0.2  # longer than a ping timeout, within the server's limit
        assert slow > PING
        assert db.session.execute(text(f"SELECT pg_sleep({slow}), 'done'")).one()[1] == "done"
        db.session.rollback()


def test_an_answer_lost_on_one_connection_is_given_up_after_the_statement_timeout(proxied, database):
    """The server answers everyone else (its probes too) but this connection's answer never
    comes: the server would have cut the statement by its statement_timeout, so a ping
    timeout later the wait ends; nothing else is held up."""
    app, _proxy = proxied
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        threading.Timer(0.2, database.freeze_open).start()
        ends = threading.Timer(6, database.restore)
        ends.start()
        try:
            started = time.monotonic()
            with pytest.raises(OperationalError):
                db.session.execute(text("SELECT pg_sleep(0.4)"))
            took = time.monotonic() - started
        finally:
            ends.cancel()
        assert LIMITS["DATABASE_STATEMENT_TIMEOUT"] + PING <= took < LIMITS["DATABASE_STATEMENT_TIMEOUT"] + 2 * PING
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # at once: the server answers
        db.session.rollback()


def test_every_connection_carries_the_time_limits(app):
    """The production defaults, on the database the tests use (both backends)."""
    if db.engine.dialect.name == "postgresql":
        show = {name: db.session.execute(text(f"SHOW {name}")).scalar()
                for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
        assert show == {"statement_timeout": "15s", "lock_timeout": "10s",
                        "idle_in_transaction_session_timeout": "1min"}
        assert db.engine.pool.timeout() == 5
    else:
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_the_error_page_shows_the_edited_project_facts_it_last_read_while_the_database_refuses(proxied, client,
                                                                                                 database):
    """The footer's period is edited in the back office; during an outage the process asks the
    database for a newer version, fails, and still renders with what it last read, in time."""
    from sqlalchemy import delete

    from trainings import project
    from trainings.catalogue import facts_editing
    from trainings.models import AuditEntry, ProjectFactsVersion

    from .staff_helpers import organiser

    app = proxied[0]
    with app.app_context():
        values = facts_editing.current_values()
        values["project"]["period"] = "1. 1. 2026 – 31. 12. 2028"
        facts_editing.save(values, organiser())
    try:
        assert "doba realizace 1. 1. 2026 – 31. 12. 2028" in client.get("/").get_data(as_text=True)
        database.refuse()
        with app.app_context():
            project.forget_edited()  # as when CHECK_SECONDS have passed
        page, took = timed(client, "/")
        assert page.status_code == 503 and took < 2
        assert "doba realizace 1. 1. 2026 – 31. 12. 2028" in page.get_data(as_text=True)
        with app.app_context():
            project.forget_edited()
            assert project.facts()["period"] == "1. 1. 2026 – 31. 12. 2028"  # no exception either
    finally:
        database.restore()
        back_again(lambda: answers(app))
        with app.app_context():
            db.session.execute(delete(ProjectFactsVersion))
            db.session.execute(delete(AuditEntry).where(AuditEntry.object_type == "project_facts"))
            db.session.commit()
            project.forget_edited()


def test_a_process_that_never_read_the_edited_facts_shows_the_catalogue_files_during_an_outage(proxied, client,
                                                                                              database):
    from trainings import project

    app = proxied[0]
    assert client.get("/").status_code == 200
    database.refuse()
    with app.app_context():
        app.extensions.pop("project_facts", None)  # a process just started
        assert project.facts()["period"] == project.catalogue_document()["project"]["period"]
    page, took = timed(client, "/")
    assert page.status_code == 503 and took < 2 and "reg. č." in page.get_data(as_text=True)
