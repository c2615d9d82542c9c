"""How transactions begin, and the one lock that guards seats.

SQLite: pysqlite's own transaction handling is switched off so that we emit
BEGIN ourselves; a write path that must not race asks for BEGIN IMMEDIATE,
which takes SQLite's single write lock before anything is read. A deferred
read transaction cannot be upgraded to a write safely under WAL, so the lock
is always taken at the start of a fresh transaction.

PostgreSQL: the term row is locked with SELECT … FOR UPDATE.

Rules for the lock (after pretix): a use case opens its one transaction at
its entry (`transaction()`), and a lock outside one is refused
(OutsideTransaction); lock what you are about to make less available (the
term), at the start of the transaction, before reading availability, and
commit or roll back at once. Most operations lock one term.
A switch of term (and a promotion that completes one) touches two or more
terms of one workshop; those are locked together, in ascending id order
(`locked_many`). A promotion may find out only under the lock that it needs
another term (`lock_also`): a term with a higher id than any held is locked
in order; a lower one is taken only if free at once (NOWAIT), else the
transaction is rolled back and run again with every term it needs locked in
order from the start (`run_locked`). Every wait is thus for a row above all
rows the waiter holds, so no cycle of waits (deadlock) can form.

Time limits (PostgreSQL): nothing that talks to the database may wait without
end. The server limits statements, lock waits and idle transactions
(statement_timeout, lock_timeout, idle_in_transaction_session_timeout); the
client limits connecting (connect_timeout), waiting for a pooled connection
(pool_timeout) and, since a hung server still acknowledges TCP and so never
lets a server-side limit fire (nor keepalives or tcp_user_timeout: the kernel
answers for it), checks a pooled connection with its own deadline before
handing it out (`_ping_on_checkout`) and watches every wait for an answer
(`WatchedConnection`). A wait longer than the ping timeout makes the process
ask the server itself, with a fresh connection and SELECT 1 (`Liveness`); when
that gets no answer in time either, the waiting connection's socket is shut
down, so libpq fails the statement at once and the pool drops the connection,
and until a probe is answered again new connections fail at once instead of
each waiting out connect_timeout. A statement still unanswered a ping timeout
after statement_timeout is cut even if the server answers others: the server
would have ended it, so its answer is lost.
"""
import logging
import os
import select as _select
import socket
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app
import psycopg
from psycopg import pq
from sqlalchemy import event, exc, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .extensions import db

logger = logging.getLogger(__name__)
signals = Namespace()
# Sent inside the locked section after availability was read and before the
# result is written; the concurrency tests widen the race window through it.
availability_read = signals.signal("availability-read")


def engine_options(config) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS with the time limits for PostgreSQL added.

    Values already given (in the settings or by a caller) win. Other databases
    get nothing: SQLite waits for its lock through busy_timeout instead, and an
    in-memory SQLite pool would refuse pool_timeout.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return options
    options.setdefault("pool_timeout", config["DATABASE_POOL_TIMEOUT"])
    # Replaced by the ping with a deadline: SQLAlchemy's own pre-ping waits without end.
    options["pool_pre_ping"] = False
    connect_args = dict(options.get("connect_args") or {})
    # libpq and psycopg count whole seconds, at least 2.
    connect_args.setdefault("connect_timeout", max(2, round(config["DATABASE_CONNECT_TIMEOUT"])))
    server_limits = {
        "statement_timeout": config["DATABASE_STATEMENT_TIMEOUT"],
        "lock_timeout": config["DATABASE_LOCK_TIMEOUT"],
        "idle_in_transaction_session_timeout": config["DATABASE_IDLE_TRANSACTION_TIMEOUT"],
    }
    connect_args.setdefault("options", " ".join(
        f"-c {name}={_milliseconds(seconds)}" for name, seconds in server_limits.items()))
    # A peer that vanished from the network (no RST ever comes) is found by
    # keepalives on an idle connection and by tcp_user_timeout when sent data
    # stays unacknowledged.
    connect_args.setdefault("keepalives", 1)
    connect_args.setdefault("keepalives_idle", 30)
    connect_args.setdefault("keepalives_interval", 10)
    connect_args.setdefault("keepalives_count", 3)
    connect_args.setdefault("tcp_user_timeout", _milliseconds(config["DATABASE_TCP_USER_TIMEOUT"]))
    options["connect_args"] = connect_args
    return options


def _milliseconds(seconds) -> int:
    return max(0, int(float(seconds) * 1000))


def configure_engine(engine):
    if engine.dialect.name == "postgresql":
        config = current_app.config
        liveness = _liveness[engine] = Liveness(engine.url, config["DATABASE_PING_TIMEOUT"])
        statement_timeout = config["DATABASE_STATEMENT_TIMEOUT"]
        _watch_waits(engine, liveness, statement_timeout + liveness.timeout if statement_timeout > 0 else None)
        _ping_on_checkout(engine, liveness)
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class DatabaseTimeout(Exception):
    pass


class DatabaseSilent(psycopg.OperationalError):
    """New work refused at once: the server did not answer this process's last probe.
    A DBAPI error, so SQLAlchemy hands it on as OperationalError (a 503)."""

    def __init__(self):
        super().__init__("the database gave no answer to a probe just now")


def _ping_on_checkout(engine, liveness: "Liveness") -> None:
    """Check a pooled connection with SELECT 1 before use, waiting at most the ping timeout.

    A connection that fails or does not answer in time is thrown away and the
    pool connects anew (bounded by connect_timeout), so a request behind a
    dead or hung server fails within ping + connect timeout; when the server
    itself does not answer a probe either, the new connection fails at once.
    """

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):
        record.info["needs_ping"] = False

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        if not record.info.get("needs_ping", True):
            record.info["needs_ping"] = True  # a new connection has just answered
            return
        if liveness.known_silent():
            raise DatabaseSilent()
        started = time.monotonic()
        try:
            _select_one(dbapi_connection.pgconn, started + liveness.timeout)
        except DatabaseTimeout as error:
            if liveness.silent(since=started):  # the server, not just this connection: no reconnecting
                raise DatabaseSilent() from error
            raise exc.DisconnectionError(f"ping failed: {error}") from error
        except (OSError, RuntimeError) as error:
            raise exc.DisconnectionError(f"ping failed: {error}") from error


# Each engine's Liveness, for /health (`database_silent`).
_liveness: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Verdict:
    started: float
    finished: float
    silent: bool


class Liveness:
    """Does the server answer? What this process last found out, one probe at a time.

    A probe is a fresh connection and SELECT 1 within `timeout`
    (`ping_new_connection`); a new connection that got nothing within
    connect_timeout counts as one too. Only no answer in time makes the server
    silent: an error (refused, too many clients) is an answer, and a refused
    server cuts its connections itself. While it is silent, new work fails at
    once (`known_silent`, `silent_before_connecting`) and one thread at a time
    asks again, so after an outage work resumes within about two timeouts of
    the server's return.
    """

    def __init__(self, url, timeout: float):
        self.url = url
        self.timeout = timeout
        self._changed = threading.Condition()
        self._probing = False
        self._last: _Verdict | None = None

    def silent(self, since: float) -> bool:
        """The verdict of a probe started at or after `since`: another thread's
        (waited for) or, when there is none, one run here."""
        with self._changed:
            while not (self._last and self._last.started >= since):
                if not self._probing:
                    self._probing = True
                    break
                self._changed.wait(self.timeout + 1)
            else:
                return self._last.silent
        started = time.monotonic()
        silent = None
        try:
            silent = self._unanswered_probe()
            return silent
        finally:
            with self._changed:
                self._probing = False
                if silent is not None:
                    self._record(started, silent)
                self._changed.notify_all()

    def connection_unanswered(self, started: float) -> None:
        """A new connection got no answer within connect_timeout: a probe that got none."""
        with self._changed:
            self._record(started, True)
            self._changed.notify_all()

    def _record(self, started: float, silent: bool) -> None:
        if self._last and self._last.started > started:
            return  # a later probe has spoken
        if silent != bool(self._last and self._last.silent):
            logger.warning("database gives no answer: new work fails at once until a probe is answered"
                           if silent else "database answers again")
        self._last = _Verdict(started, time.monotonic(), silent)

    def known_silent(self) -> bool:
        """Before using a pooled connection: True at once while the last probe found the
        server silent (or while one is asking again); a verdict older than the timeout
        is renewed first, so the first probe that is answered lets work through."""
        with self._changed:
            last = self._last
            if last is None or not last.silent:
                return False
            if self._probing or self._recent(last):
                return True
        return self.silent(since=last.finished)

    def silent_before_connecting(self) -> bool:
        """Before a new connection: the verdict of a probe at most a timeout old, asked for
        when there is none. A connection attempt to a silent server would hold its thread
        for connect_timeout, which is longer than a probe's; while a probe asks again
        after silence, new connections fail at once."""
        with self._changed:
            last = self._last
            if last is not None and self._recent(last):
                return last.silent
            if last is not None and last.silent and self._probing:
                return True
        return self.silent(since=last.finished if last else float("-inf"))

    def _recent(self, verdict: _Verdict) -> bool:
        return time.monotonic() - verdict.finished < self.timeout

    def recently_silent(self) -> bool:
        """Did the server go unanswered at the last probe, at most two timeouts ago? Never
        waits. Work arriving renews a verdict once it is a timeout old, so while
        requests come in this is the latest word; later, whoever asks must probe."""
        with self._changed:
            last = self._last
            return bool(last and last.silent and (self._probing or time.monotonic() - last.finished < 2 * self.timeout))

    def _unanswered_probe(self) -> bool:
        try:
            ping_new_connection(self.url, self.timeout)
        except DatabaseTimeout:
            return True
        except (OSError, psycopg.Error):
            return False
        return False


def ask_whether_the_database_answers(app) -> None:
    """A process about to serve asks once (gunicorn's post_worker_init): a worker started
    during an outage (workers are recycled) then fails its first requests at once and
    answers /health from what it found, instead of each finding out in a timeout."""
    with app.app_context():
        liveness = _liveness.get(db.engine)
        if liveness is not None:
            liveness.silent(since=float("-inf"))


def database_silent(engine) -> bool:
    """Has this process just found the database silent (for /health, which must not wait)?"""
    liveness = _liveness.get(engine)
    return liveness is not None and liveness.recently_silent()


class WatchedConnection(psycopg.Connection):
    """A psycopg connection whose waits for the server are watched (`_Watch`).

    psycopg waits for every answer (execute, fetch, commit, rollback) in
    `wait`, waking each 0.1 s when nothing came; the watch looks at the clock
    then. Waits with their own timeout (notifications) are left alone.
    """

    watch: "_Watch | None" = None

    def rollback(self) -> None:
        try:
            super().rollback()
        except psycopg.OperationalError:
            # The connection is gone (cut by the watch, or by the network): the server
            # ends its transaction by itself, and the request that is closing its
            # session has its answer already, which a failed clean-up must not turn into a 500.
            if not self.broken:
                raise

    def wait(self, gen, *args, **kwargs):
        timeout = kwargs.get("timeout", args[1] if len(args) > 1 else None)
        if self.watch is not None and timeout is None:
            gen = self.watch.watched(gen, self.pgconn.socket)
        return super().wait(gen, *args, **kwargs)


@dataclass(frozen=True)
class _Watch:
    liveness: Liveness
    hard_limit: float | None  # statement_timeout + ping timeout; None: no statement_timeout

    def watched(self, gen, fileno: int):
        """`gen` (a psycopg generator), cut off when its answer is not coming."""
        started = time.monotonic()
        cut = False
        try:
            state = next(gen)
            while True:
                ready = yield state
                if not ready and not cut:  # nothing came within psycopg's wake-up interval
                    cut = self._should_cut(started)
                    if cut:
                        _shut_down(fileno)
                state = gen.send(ready)
        except StopIteration as stop:
            return stop.value

    def _should_cut(self, started: float) -> bool:
        now = time.monotonic()
        waited = now - started
        if self.hard_limit is not None and waited > self.hard_limit:
            logger.warning("database gave no answer in %.1f s, past the statement timeout: cutting the connection",
                           waited)
            return True
        timeout = self.liveness.timeout
        # Asked again every ping timeout, so a server that stops answering during a
        # long statement is noticed as soon as during a short one.
        if waited > timeout and self.liveness.silent(since=now - timeout):
            logger.warning("database gave no answer in %.1f s nor to a probe: cutting the connection", waited)
            return True
        return False


def _shut_down(fileno: int) -> None:
    """Shut the socket down under libpq: its next read fails, so the statement
    fails at once (OperationalError) and psycopg marks the connection broken."""
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: libpq sees that by itself


def _watch_waits(engine, liveness: Liveness, hard_limit: float | None) -> None:
    watch = _Watch(liveness, hard_limit)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        if liveness.silent_before_connecting():
            raise DatabaseSilent()
        started = time.monotonic()
        try:
            connection = WatchedConnection.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            liveness.connection_unanswered(started)
            raise
        connection.watch = watch
        return connection


def ping_new_connection(url, timeout: float) -> None:
    """Connect afresh and run SELECT 1, all within `timeout` seconds.

    For the health check: no thread is left behind when the server hangs, since
    everything here waits on the socket with the deadline (libpq's
    asynchronous connect). Raises DatabaseTimeout or OSError.
    """
    deadline = time.monotonic() + timeout
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pgconn = pq.PGconn.connect_start(conninfo.encode())
    try:
        status = pq.PollingStatus.WRITING  # libpq: wait for writing before the first poll
        while status != pq.PollingStatus.OK:
            if status == pq.PollingStatus.FAILED or pgconn.status == pq.ConnStatus.BAD:
                raise OSError(_message(pgconn))
            _wait(pgconn.socket, status == pq.PollingStatus.WRITING, deadline)
            status = pgconn.connect_poll()
        pgconn.nonblocking = 1
        _select_one(pgconn, deadline)
    finally:
        pgconn.finish()


def _select_one(pgconn, deadline: float) -> None:
    """SELECT 1 on an idle libpq connection in nonblocking mode, by `deadline`."""
    if pgconn.status != pq.ConnStatus.OK:
        raise OSError(_message(pgconn) or "connection is closed")
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise RuntimeError(f"connection not idle ({pgconn.transaction_status.name})")
    try:
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():
            _wait(pgconn.socket, True, deadline)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            _wait(pgconn.socket, False, deadline)
        ok = True
        while (result := pgconn.get_result()) is not None:
            ok = ok and result.status == pq.ExecStatus.TUPLES_OK
    except psycopg.Error as error:  # libpq says the connection broke
        raise OSError(str(error)) from error
    if not ok:
        raise OSError(_message(pgconn) or "SELECT 1 failed")


def _wait(fileno: int, write: bool, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DatabaseTimeout("no answer from the database in time")
    poller = _select.poll()
    poller.register(fileno, _select.POLLOUT if write else _select.POLLIN)
    if not poller.poll(remaining * 1000):
        raise DatabaseTimeout("no answer from the database in time")


def _message(pgconn) -> str:
    return pgconn.error_message.decode("utf-8", "replace").strip()


class NotFound(LookupError):
    pass


# Whether the session's transaction has written (begin_write continues only one that has not).
@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:
        session.info.pop("wrote", None)


def begin_write(immediate: bool = True) -> None:
    """Start a fresh transaction that is going to write.

    On SQLite it takes the write lock at once (BEGIN IMMEDIATE), waiting for
    it up to the busy timeout, instead of failing later when a read
    transaction tries to become a write one; a read transaction the caller
    had open is ended first. PostgreSQL's READ COMMITTED has no such trap:
    every statement sees the newest committed rows and the lock reads the
    newest version of its row, so a transaction that only read (the request
    loading the row it checks access to) goes on, and what it loaded stays
    loaded.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unflushed changes before starting a write transaction")
    if session().in_transaction() and session.get_bind().dialect.name == "postgresql" \
            and not session.info.get("wrote"):
        return
    session.rollback()  # end any read transaction the caller had open
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE" if immediate else "DEFERRED"})


class OutsideTransaction(RuntimeError):
    """A row lock asked for outside a use case's transaction: it would be released by whatever
    commit came next, in the middle of the use case, and guard nothing."""


def in_use_case() -> bool:
    return bool(db.session.info.get("use_case"))


@contextmanager
def transaction():
    """A use case's one transaction: begun at its entry, committed when the block ends, rolled
    back on any error, the row locks released with it.

    A use case called inside another one joins the outer transaction, so use cases combine (the
    erasure of a person cancels her seats in its own transaction): nothing of the inner one is
    committed before the outer one is, and a failure anywhere leaves nothing done.
    """
    session = db.session
    if in_use_case():
        yield
        return
    begin_write(immediate=current_app.config["REGISTRATION_LOCKING"])
    session.info["use_case"] = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info["use_case"] = False
        session.info.pop("locked_rows", None)


@contextmanager
def locked(model, object_id):
    """Yield the row of `model` locked for the use case's transaction (`transaction()`).

    With REGISTRATION_LOCKING off (only the concurrency tests do that) the row
    is read without a lock, which shows the race the lock prevents.
    """
    with locked_many(model, [object_id]) as rows:
        yield rows[object_id]


class MoreLocksNeeded(Exception):
    """Raised under the lock when another row is needed that cannot be taken in order now."""

    def __init__(self, model, ids):
        super().__init__(f"{model.__name__} {sorted(ids)}")
        self.model = model
        self.ids = set(ids)


def _held(model) -> dict:
    return db.session.info.setdefault("locked_rows", {}).setdefault(model.__name__, {})


def _lock_stmt(model, object_id, nowait=False):
    stmt = select(model).where(model.id == object_id).execution_options(populate_existing=True)
    if current_app.config["REGISTRATION_LOCKING"]:
        stmt = stmt.with_for_update(nowait=nowait)
    return stmt


@contextmanager
def locked_many(model, object_ids):
    """Yield {id: row} of `model`, every row locked for the use case's transaction in ascending
    id order (the fixed order that keeps two transactions from waiting on each other). Rows
    the transaction holds already are not read again. Raises OutsideTransaction outside one:
    the use case's entry opens it (`transaction()`), and its end releases the locks."""
    if not in_use_case():
        raise OutsideTransaction(f"{model.__name__} {sorted(set(object_ids))} locked outside a transaction")
    yield {object_id: lock_also(model, object_id) for object_id in sorted(set(object_ids))}


def lock_also(model, object_id):
    """One more row locked inside a use case's transaction (see the module's rules).

    Above every held id it is locked in order; below, only if free at once,
    else MoreLocksNeeded (the transaction is then rolled back and
    `run_locked` runs it again with all of them locked in order). SQLite's
    BEGIN IMMEDIATE already holds the whole database, so it just reads the row.
    """
    if not in_use_case():
        raise OutsideTransaction(f"{model.__name__} {object_id} locked outside a transaction")
    held = _held(model)
    if object_id in held:
        return held[object_id]
    session = db.session
    in_order = not held or object_id > max(held)
    # A caller that cannot be run again waits instead; should that close a cycle,
    # PostgreSQL's deadlock detection ends one side.
    nowait = not in_order and session.info.get("can_retry", False) and \
        session.get_bind().dialect.name == "postgresql"
    try:
        obj = session.scalars(_lock_stmt(model, object_id, nowait=nowait)).one_or_none()
    except exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available: NOWAIT found it taken
            raise MoreLocksNeeded(model, set(held) | {object_id}) from error
        raise
    if obj is None:
        raise NotFound(f"{model.__name__} {object_id}")
    held[object_id] = obj
    return obj


def run_locked(model, object_ids, operation, attempts: int = 20):
    """A use case: `operation(rows)` in its transaction with the rows locked, run again with
    more rows locked whenever it finds (MoreLocksNeeded) that it needs rows it could not take
    in order. The set only grows, so this ends; `attempts` is a guard. Called inside another
    use case it joins that transaction and runs once: it cannot be rolled back alone, so a
    lock it needs out of order is waited for instead."""
    if in_use_case():
        with locked_many(model, object_ids) as rows:
            return operation(rows)
    needed = set(object_ids)
    session = db.session
    for _ in range(attempts):
        session.info["can_retry"] = True
        try:
            with transaction(), locked_many(model, needed) as rows:
                return operation(rows)
        except MoreLocksNeeded as more:
            needed |= more.ids
        finally:
            session.info["can_retry"] = False
    raise RuntimeError(f"could not lock {model.__name__} {sorted(needed)}")
