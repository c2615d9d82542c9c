"""One transaction per use case: opened at its entry, joined by the use cases it calls, and the
only place a row lock may be taken. And what that buys at the door: a tap loads its row once."""
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from trainings.db_session import OutsideTransaction, lock_also, locked, transaction
from trainings.extensions import db
from trainings.models import Registration, RegistrationState, Term, utcnow
from trainings.registration import service

from .helpers import make_term
from .staff_helpers import applicant, organiser_client, token_of


def test_a_row_lock_outside_a_use_case_is_refused(app):
    """Locked outside a transaction, the row would be released by whatever commit came next."""
    term_id = make_term().id
    with pytest.raises(OutsideTransaction):
        with locked(Term, term_id):
            pass
    with pytest.raises(OutsideTransaction):
        lock_also(Term, term_id)
    with transaction(), locked(Term, term_id) as term:
        assert term.id == term_id


class Interrupted(Exception):
    pass


def test_a_use_case_called_inside_another_commits_nothing_of_its_own(app):
    term_id = make_term(capacity=1).id
    jana = service.register(term_id, applicant(1)).registration.id
    petr = service.register(term_id, applicant(2)).registration.id

    with pytest.raises(Interrupted):
        with transaction():
            service.cancel(jana)  # her seat goes to Petr, inside the outer transaction
            assert db.session.get(Registration, petr).state == RegistrationState.CONFIRMED
            raise Interrupted

    db.session.rollback()
    assert db.session.get(Registration, jana).state == RegistrationState.CONFIRMED
    assert db.session.get(Registration, petr).state == RegistrationState.WAITLISTED

    with transaction():
        service.cancel(jana)
    db.session.rollback()
    assert db.session.get(Registration, petr).state == RegistrationState.CONFIRMED


def test_a_sign_up_inside_another_use_case_counts_the_seat_that_use_case_gave_and_commits_with_it(app):
    """The sign-up counts seats with a statement on the connection, past the ORM's autoflush:
    joined to another use case, it still sees the registration that one added and not yet wrote."""
    term_id = make_term(capacity=1).id
    jana, petra = applicant(1), applicant(2)  # read first: their kraj's query would flush the session
    with transaction(), locked(Term, term_id) as term:
        first = service.enter(term, jana, "ucastnice1@example.cz", RegistrationState.CONFIRMED, utcnow())
        outcome = service.register(term_id, petra)
        assert (outcome.waitlist_position, outcome.waitlist_reason) == (1, service.TERM_FULL)
    db.session.rollback()
    states = {r.email_normalized: r.state for r in db.session.scalars(select(Registration))}
    assert states == {first.email_normalized: RegistrationState.CONFIRMED,
                      outcome.registration.email_normalized: RegistrationState.WAITLISTED}


def test_a_door_tap_reads_the_registration_once_before_its_lock(app):
    """The access check loads the registration with its term; the tap uses that row, then locks
    the term and reads the registration fresh under the lock: nothing else is read. On SQLite
    the write transaction must begin afresh (BEGIN IMMEDIATE), so what was loaded is read again."""
    term_id = make_term(starts_in=timedelta(hours=1)).id
    registration_id = service.register(term_id, applicant(1)).registration.id
    client = organiser_client(app)
    token = token_of(client.get(f"/sprava/terminy/{term_id}/prichody"))
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.post(f"/sprava/prihlasky/{registration_id}/dochazka",
                               data={"csrf_token": token, "attended": "ano"})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 302
    assert "Účastnice Nováková 1: přítomnost zapsána." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    statements = [s for s in statements if not s.startswith("BEGIN")]  # SQLite's own, sent by us
    # By what they read from, not how the column list begins (a term's row carries a subquery column).
    reads_of_registration = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM registrations" in s]
    reads_of_term = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM terms" in s]
    if engine.dialect.name == "postgresql":
        # the staff session, the registration with its term, the lock, the fresh read, the change, the trail
        assert len(statements) == 6, statements
        assert len(reads_of_registration) == 2 and len(reads_of_term) == 1
    else:
        assert len(statements) <= 8, [" ".join(s.split())[:70] for s in statements]
