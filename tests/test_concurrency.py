"""A seat is never given twice: 100 people register for 10 seats at once.

Each registration runs in its own thread with its own database connection.
A short sleep between reading availability and writing the result (through
the `availability_read` signal) widens the window a race needs; with the lock
the sleeps are serialised, without it the control shows the race is real.
"""
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from trainings.db_session import availability_read
from trainings.extensions import db
from trainings.models import EmployerType, OutboxMessage, Registration, RegistrationState
from trainings.registration import service

from .conftest import build_app
from .helpers import make_term, orp, region

PEOPLE = 100
SEATS = 10


@pytest.fixture
def burst_app(app, database_url, tmp_path):
    """A second app on the same database with a pool large enough for every thread."""
    # PostgreSQL allows 100 connections by default: 60 at once, the rest wait for one.
    options = {"pool_size": 60, "max_overflow": 0, "pool_timeout": 60}
    burst = build_app(database_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS=options)
    yield burst
    with burst.app_context():
        db.engine.dispose()


@contextmanager
def widened_race_window(seconds=0.005):
    """Yields the threads that read availability (and paused there) before writing."""
    readers = set()

    def pause(_sender, **_kw):
        readers.add(threading.get_ident())
        time.sleep(seconds)

    availability_read.connect(pause)
    try:
        yield readers
    finally:
        availability_read.disconnect(pause)


def burst(app, term_id, people=PEOPLE):
    """Register `people` applicants at once; return (outcomes, errors as (thread id, exception))."""
    start = threading.Barrier(people)
    outcomes, errors = [], []
    pardubice = region("CZ053").id
    litomysl = orp("Litomyšl").id

    def one(i):
        applicant = service.Applicant(
            name=f"Účastnice {i}", email=f"ucastnice{i}@example.cz", employer_type=EmployerType.OSPOD,
            job_title="sociální pracovnice", region_id=pardubice, orp_id=litomysl,
        )
        with app.app_context():
            start.wait()
            try:
                outcome = service.register(term_id, applicant)
                outcomes.append((outcome.registration.id, outcome.waitlist_position))
            except Exception as exc:  # noqa: BLE001 - the control run tells them apart
                errors.append((threading.get_ident(), exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes, errors


def _registrations(term_id):
    db.session.rollback()  # end this thread's read transaction: SQLite keeps its snapshot until then
    return db.session.scalars(
        select(Registration).where(Registration.term_id == term_id).order_by(Registration.queued_at, Registration.id)
    ).all()


@pytest.mark.slow
def test_hundred_simultaneous_registrations_fill_ten_seats_and_queue_the_rest_in_order(app, burst_app):
    term = make_term(capacity=SEATS)
    with widened_race_window():
        outcomes, errors = burst(burst_app, term.id)

    assert errors == []
    registrations = _registrations(term.id)
    assert len(registrations) == PEOPLE
    states = [r.state for r in registrations]
    # In arrival order (the order the lock was granted): the first ten got the seats.
    assert states == [RegistrationState.CONFIRMED] * SEATS + [RegistrationState.WAITLISTED] * (PEOPLE - SEATS)
    positions = [r.waitlist_position() for r in registrations[SEATS:]]
    assert positions == list(range(1, PEOPLE - SEATS + 1))
    # What each person was told matches where they stand.
    told = dict(outcomes)
    assert {r.id: r.waitlist_position() for r in registrations} == told
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.kind for m in messages) == sorted(
        ["registration_confirmed"] * SEATS + ["registration_waitlisted"] * (PEOPLE - SEATS)
    )


def is_lock_error(exc) -> bool:
    """SQLite's refusal of a second writer: the transaction read, then could not take the write lock."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


@pytest.mark.slow
def test_control_without_the_lock_the_race_happens(app, backend, burst_app):
    term = make_term(capacity=SEATS)
    burst_app.config["REGISTRATION_LOCKING"] = False
    with widened_race_window() as readers:
        outcomes, errors = burst(burst_app, term.id)

    confirmed = sum(r.state == RegistrationState.CONFIRMED for r in _registrations(term.id))
    assert len(outcomes) + len(errors) == PEOPLE
    if backend == "postgresql":
        # Transactions that all read "seats are free" before any of them wrote: seats given twice.
        assert errors == [], [repr(e) for _, e in errors[:3]]
        assert confirmed > SEATS, "without the lock no race was observed: the test would prove nothing"
    else:
        # SQLite lets one transaction write at a time: one that read "a seat is free" and then met
        # another writer is refused with the lock error (and only that error), after its read.
        assert errors, "without the lock no collision was observed: the test would prove nothing"
        assert [repr(e) for _, e in errors if not is_lock_error(e)] == []
        assert {thread for thread, _ in errors} <= readers
        assert confirmed <= SEATS
