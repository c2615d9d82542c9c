"""How transactions begin, and the one lock that guards seats.

SQLite: pysqlite's own transaction handling is switched off so that we emit
BEGIN ourselves; a write path that must not race asks for BEGIN IMMEDIATE,
which takes SQLite's single write lock before anything is read. A deferred
read transaction cannot be upgraded to a write safely under WAL, so the lock
is always taken at the start of a fresh transaction.

PostgreSQL: the term row is locked with SELECT … FOR UPDATE.

Rules for the lock (after pretix): lock what you are about to make less
available (the term), once per transaction, before reading availability, and
commit or roll back at once. Only one term is locked per transaction, so there
is no lock order to get wrong.
"""
from contextlib import contextmanager

from blinker import Namespace
from flask import current_app
from sqlalchemy import event, select

from .extensions import db

signals = Namespace()
# Sent inside the locked section after availability was read and before the
# result is written; the concurrency tests widen the race window through it.
availability_read = signals.signal("availability-read")


def configure_engine(engine):
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


class NotFound(LookupError):
    pass


def begin_write(immediate: bool = True) -> None:
    """Start a fresh transaction that is going to write.

    On SQLite it takes the write lock at once (BEGIN IMMEDIATE), waiting for
    it up to the busy timeout, instead of failing later when a read
    transaction tries to become a write one. Elsewhere it just begins.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unflushed changes before starting a write transaction")
    session.rollback()  # end any read transaction the caller had open
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE" if immediate else "DEFERRED"})


@contextmanager
def locked(model, object_id):
    """Yield the row of `model` locked for this transaction; commit on success.

    With REGISTRATION_LOCKING off (only the concurrency tests do that) the row
    is read without a lock, which shows the race the lock prevents.
    """
    session = db.session
    use_lock = current_app.config["REGISTRATION_LOCKING"]
    begin_write(immediate=use_lock)
    stmt = select(model).where(model.id == object_id).execution_options(populate_existing=True)
    if use_lock:
        stmt = stmt.with_for_update()
    try:
        obj = session.scalars(stmt).one_or_none()
        if obj is None:
            raise NotFound(f"{model.__name__} {object_id}")
        yield obj
        session.commit()
    except BaseException:
        session.rollback()
        raise
