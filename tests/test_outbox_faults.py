"""The outbox under faults, with real parts: a slow, a silent and a vanished SMTP
server (aiosmtpd, tests/tcp_proxy.py), a PostgreSQL that refuses or hangs
(tests/tcp_proxy.py in front of it), workers as separate processes that are
killed. What counts is what the SMTP server received, not what the workers
believe they sent.

The reclaim window and the SMTP time limits are shrunk through the settings
(OUTBOX_RECLAIM_AFTER, MAIL_TIMEOUT, MAIL_SEND_DEADLINE) so that every
scenario runs in seconds.
"""
import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from trainings.extensions import db
from trainings.mail import dispatch
from trainings.mail.outbox import enqueue
from trainings.models import OutboxMessage, OutboxState, utcnow
from trainings.registration import service

from .conftest import _admin, _postgres_database, build_app
from .helpers import empty_tables, make_term
from .smtp import Recorder, SmtpServer
from .staff_helpers import applicant
from .tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent

# Short limits for the scenarios: a message may take 1 s until its data has gone out
# and 2 s in all (dispatch.message_time_limit), and a claim is retaken after 4 s
# (never less than twice that; dispatch.reclaim_after).
FAST = {"MAIL_TIMEOUT": "0.5", "MAIL_SEND_DEADLINE": "1", "OUTBOX_RECLAIM_AFTER": "4"}


class SlowRecorder(Recorder):
    """A server that takes `delay` seconds to accept each message, as a loaded relay does."""

    def __init__(self, delay):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class LateAnswerRecorder(Recorder):
    """A server that stores each message as soon as its data has arrived and answers 250
    only `delay` seconds later, as a relay that queues a message and then scans it does."""

    def __init__(self, delay):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


@contextmanager
def smtp_server(delay=0.0, recorder=None):
    server = SmtpServer()
    server.recorder = recorder or SlowRecorder(delay)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def received(server):
    """Recipient → how many copies the SMTP server accepted."""
    return Counter(m["To"] for m in server.recorder.messages)


def senders(server):
    """Sender → how many messages the SMTP server accepted from it (each worker has its own)."""
    return Counter(m["From"].addresses[0].addr_spec for m in server.recorder.messages)


def worker_sender(i):
    return f"worker{i}@spod4.test"


def queue(count, prefix="ucastnik"):
    for i in range(count):
        enqueue(kind="test", recipient=f"{prefix}{i}@example.cz", subject=f"Zpráva {i}", body_text="Text")
    db.session.commit()
    return [f"{prefix}{i}@example.cz" for i in range(count)]


def count_state(state):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == state))


def tries():
    """Recipient → how many tries at sending its message the row counts."""
    db.session.rollback()
    return {m.recipient: m.attempts for m in db.session.scalars(select(OutboxMessage))}


def sign_up(term, i):
    return service.register(term.id, applicant(i)).registration


def wait_until(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# --- a silent SMTP server (both databases, in process) ---------------------------------------


@pytest.fixture
def silent_smtp():
    """A server that accepts the connection and then never says a word."""
    with smtp_server() as server, TcpProxy("127.0.0.1", server.port) as proxy:
        proxy.hang()
        yield server, proxy
        proxy.restore()


def test_a_silent_smtp_server_puts_the_batch_back_to_retry_within_the_timeout(app, database_url, silent_smtp,
                                                                             tmp_path):
    server, proxy = silent_smtp
    smtp_app = build_app(database_url, tmp_path, MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1",
                         MAIL_PORT=proxy.port, MAIL_TIMEOUT=0.5, MAIL_SEND_DEADLINE=2)
    with smtp_app.app_context():
        queue(5)
        outcome = {}

        def one_pass():
            with smtp_app.app_context():
                outcome["counts"] = dispatch.send_due()

        worker = threading.Thread(target=one_pass, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout=10)
        elapsed = time.monotonic() - started
        if worker.is_alive():
            proxy.restore()  # let the stuck pass finish before the table is emptied
            worker.join(timeout=30)
            pytest.fail(f"send_due did not return within 10 s against a silent server ({elapsed:.1f} s)")

        # One time-out is enough to know the server is silent: the rest of the batch waits with it.
        assert elapsed < 3, elapsed
        assert outcome["counts"] == {"sent": 0, "retry": 5, "failed": 0}
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert {m.state for m in rows} == {OutboxState.RETRY}
        assert all("did not answer within 0.5 s" in m.last_error for m in rows), [m.last_error for m in rows]
        # Only the message that was tried used up an attempt.
        assert sorted(m.attempts for m in rows) == [0, 0, 0, 0, 1]
        assert all(m.next_attempt_at > utcnow() for m in rows)

        # The server wakes up: the next due pass delivers each message once.
        proxy.restore()
        assert dispatch.send_due(now=utcnow() + timedelta(minutes=2)) == {"sent": 5, "retry": 0, "failed": 0}
        assert received(server) == Counter({f"ucastnik{i}@example.cz": 1 for i in range(5)})
        db.session.remove()
        db.engine.dispose()


# --- two live workers over the reclaim boundary (both databases, threads) ------------------------


def test_a_claim_taken_over_is_not_sent_or_marked_by_the_worker_that_lost_it(app, database_url, tmp_path):
    """Worker A takes a batch that outlasts the reclaim window; worker B retakes A's
    untouched rows. Each message reaches the server once: A skips what B took. Taking
    a row over is no try at sending it: every message counts the one try that sent it."""
    with smtp_server(delay=0.3) as server:
        # A message may take 0.5 s until its data is out and 1 s in all, so the window can be 2 s.
        settings = dict(MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=1,
                        MAIL_SEND_DEADLINE=0.5, OUTBOX_RECLAIM_AFTER=2)
        smtp_app = build_app(database_url, tmp_path, **settings)
        with smtp_app.app_context():
            recipients = queue(12)
            results = {}

            def worker_a():
                with smtp_app.app_context():
                    results["a"] = dispatch.send_due(limit=12)
                    db.session.remove()

            a = threading.Thread(target=worker_a)
            a.start()
            # B comes along once A's claim is older than the window (2 s) and retakes the rows A
            # has not reached; the one A is sending was renewed a moment ago and stays A's.
            time.sleep(2.3)
            results["b"] = dispatch.send_due(limit=12)
            a.join(timeout=30)

            copies = received(server)
            assert copies == Counter({address: 1 for address in recipients}), copies
            assert results["b"]["sent"] > 0, results
            assert results["a"]["sent"] + results["b"]["sent"] == 12, results
            assert count_state(OutboxState.SENT) == 12
            assert tries() == {address: 1 for address in recipients}
            db.session.remove()
            db.engine.dispose()


# --- the SMTP server away, and back (both databases, in process) ---------------------------------


def smtp_app_for(database_url, tmp_path, port, **limits):
    return build_app(database_url, tmp_path, MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                     **limits)


def test_a_message_given_up_on_a_down_server_leaves_the_rest_of_the_batch_untried(app, database_url, tmp_path):
    server = SmtpServer()  # not started yet: the server is down, connections are refused
    smtp_app = smtp_app_for(database_url, tmp_path, server.port)
    with smtp_app.app_context():
        recipients = queue(5)
        oldest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        oldest.state, oldest.attempts = OutboxState.RETRY, dispatch.MAX_ATTEMPTS - 1  # tried all day long
        db.session.commit()

        # Its last try fails: it is given up, and the others are not tried against a server known to be down.
        assert dispatch.send_due() == {"sent": 0, "retry": 4, "failed": 1}
        assert tries() == {recipients[0]: dispatch.MAX_ATTEMPTS, **{address: 0 for address in recipients[1:]}}
        db.session.rollback()
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == OutboxState.RETRY)).all()
        assert all(m.next_attempt_at <= utcnow() + timedelta(seconds=dispatch.send_deadline()) for m in waiting)

        server.start()
        try:
            assert dispatch.send_due(now=utcnow() + timedelta(minutes=1)) == {"sent": 4, "retry": 0, "failed": 0}
            assert received(server) == Counter({address: 1 for address in recipients[1:]})
        finally:
            server.stop()
        db.session.remove()
        db.engine.dispose()


def test_after_an_outage_the_backlog_goes_as_soon_as_the_server_answers(app, database_url, tmp_path):
    """The message that found the server down waits its own back-off; the rest of the
    batch only waits a short pause for the server and goes once it answers."""
    server = SmtpServer()  # down
    smtp_app = smtp_app_for(database_url, tmp_path, server.port)
    with smtp_app.app_context():
        recipients = queue(5)
        oldest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        oldest.state, oldest.attempts = OutboxState.RETRY, 2  # twice refused already: 30 minutes next
        db.session.commit()
        assert dispatch.send_due() == {"sent": 0, "retry": 5, "failed": 0}
        assert tries() == {recipients[0]: 3, **{address: 0 for address in recipients[1:]}}

        server.start()
        try:
            # Two minutes later the server answers: the backlog goes, the oldest one waits its 30 minutes.
            assert dispatch.send_due(now=utcnow() + timedelta(minutes=2)) == {"sent": 4, "retry": 0, "failed": 0}
            assert count_state(OutboxState.RETRY) == 1
            assert dispatch.send_due(now=utcnow() + timedelta(minutes=31)) == {"sent": 1, "retry": 0, "failed": 0}
            assert received(server) == Counter({address: 1 for address in recipients})
        finally:
            server.stop()
        db.session.remove()
        db.engine.dispose()


# --- a server that stores the message and answers late, or never (both databases, in process) ----


def test_a_server_that_stores_the_message_and_answers_after_the_deadline_gets_it_once(app, database_url,
                                                                                    tmp_path):
    """The server takes the data, stores the message and answers 250 a little after the
    deadline for one message: the final answer is waited for, nothing is sent again."""
    term = make_term()
    with smtp_server(recorder=LateAnswerRecorder(1.1)) as server:
        smtp_app = smtp_app_for(database_url, tmp_path, server.port, MAIL_TIMEOUT=0.5, MAIL_SEND_DEADLINE=1)
        with smtp_app.app_context():
            registration = sign_up(term, 1)
            assert dispatch.send_due() == {"sent": 1, "retry": 0, "failed": 0}
            for later in (2, 10, 60, 180):
                dispatch.send_due(now=utcnow() + timedelta(minutes=later))
            assert received(server) == Counter({registration.email: 1})
            assert count_state(OutboxState.SENT) == 1
            db.session.remove()
            db.engine.dispose()


def test_a_server_that_stores_the_message_and_never_answers_gets_it_at_most_twice(app, database_url, tmp_path):
    """No answer after the data, however long: the server may have stored the message, so
    it is sent once more only after an hour, and then given up with a word for staff."""
    term = make_term()
    with smtp_server(recorder=LateAnswerRecorder(30)) as server:
        smtp_app = smtp_app_for(database_url, tmp_path, server.port, MAIL_TIMEOUT=0.5, MAIL_SEND_DEADLINE=0.5)
        with smtp_app.app_context():
            registration = sign_up(term, 1)
            assert dispatch.send_due() == {"sent": 0, "retry": 1, "failed": 0}
            for later in (2, 10, 30):
                assert dispatch.send_due(now=utcnow() + timedelta(minutes=later)) == {"sent": 0, "retry": 0,
                                                                                      "failed": 0}
            assert received(server) == Counter({registration.email: 1})
            assert dispatch.send_due(now=utcnow() + timedelta(minutes=61)) == {"sent": 0, "retry": 0, "failed": 1}
            dispatch.send_due(now=utcnow() + timedelta(hours=7))
            assert received(server) == Counter({registration.email: 2})
            db.session.rollback()
            message = db.session.scalars(select(OutboxMessage)).one()
            assert message.state == OutboxState.FAILED and message.attempts == 2
            assert "may have arrived" in message.last_error, message.last_error
            db.session.remove()
            db.engine.dispose()


# --- processes against PostgreSQL ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """A PostgreSQL database of this module's own, migrated, and an app on it for the test's reads."""
    name = f"spod4_faults_{os.getpid()}"
    url = _postgres_database(name)
    app = build_app(url, tmp_path_factory.mktemp("mail"))
    yield app, url
    with app.app_context():
        db.engine.dispose()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_app(pg):
    app, url = pg
    with app.app_context():
        empty_tables()
        yield app, url
        db.session.remove()


def worker_env(database_url, smtp_port, **extra):
    return {
        **os.environ,
        "TRAININGS_CONFIG": "development",
        "DATABASE_URL": database_url,
        "MAIL_TRANSPORT": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        **FAST,
        **{k: str(v) for k, v in extra.items()},
    }


@contextmanager
def workers(env, log_dir, count=1, batch=50):
    """`flask outbox work` processes; yields them, then stops them with SIGTERM."""
    command = [sys.executable, "-m", "flask", "--app", "app", "outbox", "work", "--batch", str(batch),
               "--interval", "0.2"]
    processes = []
    for i in range(count):
        log = open(log_dir / f"worker-{i}.log", "w+")
        # Each worker signs its messages with its own sender, so a test can tell who sent what.
        own_env = {**env, "MAIL_DEFAULT_SENDER": f"SPOD4 <{worker_sender(i)}>"}
        processes.append((subprocess.Popen(command, cwd=ROOT, env=own_env, stdout=log, stderr=subprocess.STDOUT),
                          log))
    try:
        yield [p for p, _ in processes]
    finally:
        for proc, _ in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def output(log_dir, i=0):
    return (log_dir / f"worker-{i}.log").read_text()


def stop_cleanly(proc):
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=10)


@pytest.mark.slow
def test_two_worker_processes_with_a_slow_server_over_the_reclaim_boundary_send_each_message_once(pg_app, tmp_path):
    """The issue's case: 70 messages, batches of 50, a server slow enough that a batch
    outlasts the reclaim window. Before fencing this gave 78 deliveries."""
    app, url = pg_app
    recipients = queue(70)
    with smtp_server(delay=0.1) as server:
        with workers(worker_env(url, server.port), tmp_path, count=2, batch=50) as procs:
            assert wait_until(lambda: count_state(OutboxState.SENT) == 70, timeout=60), received(server)
            assert [stop_cleanly(p) for p in procs] == [0, 0], [output(tmp_path, i) for i in range(2)]
        copies = received(server)
        by_worker = senders(server)
    assert copies == Counter({address: 1 for address in recipients}), {a: n for a, n in copies.items() if n != 1}
    # Both took part: each sent some of the 70, so the once-only result is about two workers.
    assert set(by_worker) == {worker_sender(0), worker_sender(1)}, by_worker


def errors():
    """State and error → how many messages, for a failing assertion to show."""
    db.session.rollback()
    return Counter((m.state.value, (m.last_error or "")[:80]) for m in db.session.scalars(select(OutboxMessage)))


def back_offs_run_out():
    """Time passes: every message waiting for its next try is due now."""
    db.session.rollback()
    db.session.execute(update(OutboxMessage).where(OutboxMessage.state == OutboxState.RETRY)
                       .values(next_attempt_at=utcnow()))
    db.session.commit()


@pytest.mark.slow
def test_an_smtp_outage_under_long_batches_gives_up_nothing_and_the_backlog_goes_when_it_is_back(pg_app,
                                                                                                 tmp_path):
    """Two workers, a server slow enough that a batch of 50 outlasts the reclaim window (the
    workers keep taking over each other's untouched rows), and the server away for 7 s
    mid-way. Before, every takeover counted as a try, so one refused connection gave up the
    rest of a batch for good, and what was left waited for the back-off of the message
    that found the server down."""
    app, url = pg_app
    term = make_term(capacity=150)
    recipients = [sign_up(term, i).email for i in range(150)]
    db.session.rollback()  # not left idle in a transaction while the workers run
    with smtp_server(delay=0.3) as server, TcpProxy("127.0.0.1", server.port) as proxy:
        with workers(worker_env(url, proxy.port), tmp_path, count=2, batch=50) as procs:
            assert wait_until(lambda: len(server.recorder.messages) >= 10, timeout=60), errors()
            # Long enough for the rest of the batches to be taken over several times, with
            # at least 60 messages left.
            wait_until(lambda: len(server.recorder.messages) >= 90, timeout=30)
            proxy.refuse()
            time.sleep(7)
            assert count_state(OutboxState.FAILED) == 0
            proxy.restore()
            back = len(server.recorder.messages)
            assert wait_until(lambda: len(server.recorder.messages) >= back + 5, timeout=15), \
                (back, len(server.recorder.messages), errors(), [output(tmp_path, i)[-1500:] for i in range(2)])
            # What found the server down waits a back-off of its own; let those run out.
            assert wait_until(lambda: back_offs_run_out() or count_state(OutboxState.SENT) == 150, timeout=120,
                              step=1), received(server)
            assert [stop_cleanly(p) for p in procs] == [0, 0], [output(tmp_path, i) for i in range(2)]
        copies = received(server)
    assert set(copies) == set(recipients)
    # A message whose data had gone out when the connection was cut may have been stored:
    # it is sent once more (at most one per worker here), nothing more.
    assert sum(n - 1 for n in copies.values()) <= 2, {a: n for a, n in copies.items() if n != 1}
    assert count_state(OutboxState.FAILED) == 0
    assert max(tries().values()) <= 2, Counter(tries().values())


def db_proxy(url):
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    return proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_the_worker_rides_out_a_database_outage_and_then_sends_everything_once(pg_app, tmp_path, fault):
    app, url = pg_app
    recipients = queue(40)
    proxy, proxied_url = db_proxy(url)
    try:
        with smtp_server(delay=0.05) as server, workers(worker_env(proxied_url, server.port), tmp_path,
                                                        batch=10) as (proc,):
            assert wait_until(lambda: len(server.recorder.messages) >= 5, timeout=15)
            getattr(proxy, fault)()
            time.sleep(3)
            assert proc.poll() is None, output(tmp_path)
            proxy.restore()
            assert wait_until(lambda: count_state(OutboxState.SENT) == 40, timeout=40), output(tmp_path)
            assert proc.poll() is None, output(tmp_path)
            assert stop_cleanly(proc) == 0, output(tmp_path)
            copies = received(server)
    finally:
        proxy.stop()
    assert copies == Counter({address: 1 for address in recipients}), {a: n for a, n in copies.items() if n != 1}
    log = output(tmp_path)
    assert "Traceback" not in log, log
    if fault == "refuse":
        # One line per failed pass, with the growing pause, and one when it works again.
        assert "outbox: pass failed" in log and "next try in" in log, log
        assert "outbox: working again" in log, log


@pytest.mark.slow
def test_a_killed_worker_s_batch_is_retaken_after_the_window_and_delivered(pg_app, tmp_path):
    app, url = pg_app
    recipients = queue(30)
    with smtp_server(delay=0.1) as server:
        env = worker_env(url, server.port)
        with workers(env, tmp_path, batch=30) as (first,):
            assert wait_until(lambda: len(server.recorder.messages) >= 5, timeout=15)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=5)
        in_flight = count_state(OutboxState.SENDING)
        assert in_flight > 0
        (tmp_path / "second").mkdir()
        with workers(env, tmp_path / "second", batch=30) as (second,):
            assert wait_until(lambda: count_state(OutboxState.SENT) == 30, timeout=40)
        copies = received(server)
    assert set(copies) == set(recipients)
    # At most the message that was on the wire when the first worker died arrives twice.
    assert sum(n - 1 for n in copies.values()) <= 1, copies


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.mark.slow
def test_the_worker_loop_pauses_longer_after_each_failed_pass_and_stops_on_request(pg_app, tmp_path):
    """dispatch.work, in process: the database refuses from the start; the pauses grow
    1 s, 2 s, …; when it is back everything goes once; `stop` ends the loop at once."""
    app, url = pg_app
    recipients = queue(5)
    proxy, proxied_url = db_proxy(url)
    try:
        with smtp_server() as server:
            worker_app = build_app(proxied_url, tmp_path, MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1",
                                   MAIL_PORT=server.port)
            # Building ran the migrations, whose logging.config.fileConfig resets the root
            # logger's handlers and disables loggers that already exist.
            log = Lines()
            worker_app.logger.addHandler(log)
            worker_app.logger.disabled = False
            with worker_app.app_context():
                db.engine.dispose()  # no connection left over from building the app
            proxy.refuse()
            stop = threading.Event()

            def run():
                with worker_app.app_context():
                    dispatch.work(batch=10, interval=0.2, stop=stop)

            worker = threading.Thread(target=run)
            worker.start()
            time.sleep(3.5)
            pauses = [line.rsplit("next try in ", 1)[1] for line in log.lines if "outbox: pass failed" in line]
            assert pauses[:2] == ["1 s", "2 s"], pauses
            assert count_state(OutboxState.QUEUED) == 5

            proxy.restore()
            assert wait_until(lambda: count_state(OutboxState.SENT) == 5, timeout=10)
            started = time.monotonic()
            stop.set()
            worker.join(timeout=5)
            assert not worker.is_alive() and time.monotonic() - started < 2
            assert received(server) == Counter({address: 1 for address in recipients})
            assert any("outbox: working again" in line for line in log.lines), log.lines
            with worker_app.app_context():
                db.engine.dispose()
    finally:
        proxy.stop()
