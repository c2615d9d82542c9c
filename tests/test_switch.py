"""Switching to another term of the same workshop, from the registration's private page.

Jana cannot come on the day she signed up for. A term of the same workshop with
a seat for her: she moves at once, her old seat goes to the first person waiting
there. Her calendar follows: the e-mail about the move carries the new
date's invitation, and a short one about the old date carries its cancellation,
each a single calendar object, as many clients act on one attachment only. A full term: she waits for it while keeping her seat, and the swap happens
by itself when a seat there frees up. Through HTTP as a browser does it; the
threads at the end call the service directly, as in test_concurrency.py.
"""
import re
import threading
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from trainings import timefmt
from trainings.db_session import availability_read
from trainings.extensions import db
from trainings.models import AuditEntry, EmployerType, Registration, RegistrationState
from trainings.registration import service, switching

from .conftest import build_app
from .helpers import (
    calendar_objects,
    cancel_via_link,
    make_term,
    manage_link,
    only_message,
    open_link,
    orp,
    outbox,
    person,
    region,
    register_via_form,
    registration_on,
    token_of,
)
from .helpers import csrf as _csrf
from .helpers import registration_uid as uid

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def sign_up(app, term, n, orp_name="Svitavy"):
    """A person in her own browser; returns her private link from the e-mail."""
    browser = app.test_client()
    token_of(register_via_form(browser, term, **person(n, orp_name)))
    email = f"ucastnice{n}@ospod.cz"
    kind = ("registration_confirmed" if registration_on(term, email).state == RegistrationState.CONFIRMED
            else "registration_waitlisted")
    return [m for m in outbox(kind, email) if m.registration.term_id == term.id][-1]


def choose_term(app, link, term):
    """On her private page: "Přesunout přihlášku na jiný termín", pick the term, "Přesunout"."""
    browser = app.test_client()
    html = open_link(browser, link)
    href = re.search(r'<a href="([^"]+/jiny-termin)">Přesunout přihlášku na jiný termín</a>', html).group(1)
    page = open_link(browser, urljoin(link, href))
    assert f'value="{term.id}"' in page
    response = browser.post(urljoin(link, href), data={"csrf_token": _csrf(page), "term": term.id})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return browser, urljoin(link, response.headers["Location"])


def test_she_switches_to_a_term_with_a_free_seat_and_her_old_seat_goes_to_the_first_waiting(app):
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=5, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    sign_up(app, monday, 2)  # waits for Monday
    assert registration_on(monday, "ucastnice2@ospod.cz").state == RegistrationState.WAITLISTED

    browser, new_page = choose_term(app, jana_link, thursday)

    html = open_link(browser, new_page)
    assert "Přihláška je přesunutá na nový termín a je potvrzená." in html
    assert "Stav: <strong>potvrzená</strong>" in html
    old = registration_on(monday, "ucastnice1@ospod.cz")
    new = registration_on(thursday, "ucastnice1@ospod.cz")
    assert (old.state, new.state) == (RegistrationState.CANCELLED, RegistrationState.CONFIRMED)
    assert new.id != old.id and new.consent_at == old.consent_at
    assert urlsplit(new_page).path != urlsplit(jana_link).path  # the new seat has its own link
    old_page = open_link(app.test_client(), jana_link)
    assert "Stav: <strong>zrušená</strong>" in old_page
    assert "Vrátit zrušení" not in old_page  # undoing would give her a second seat

    # The e-mail about the move carries the new event's REQUEST; the old event's CANCEL comes in
    # a short e-mail of its own: one calendar object with one METHOD per e-mail.
    switched = only_message("registration_switched", "ucastnice1@ospod.cz")
    assert "přesunutá na jiný termín" in switched.body_text
    assert [(method, uid_, status) for method, uid_, _seq, status in calendar_objects(switched)] == [
        ("REQUEST", uid(new), "CONFIRMED")]
    released = only_message("registration_switched_old_term", "ucastnice1@ospod.cz")
    assert [(method, uid_, status) for method, uid_, _seq, status in calendar_objects(released)] == [
        ("CANCEL", uid(old), "CANCELLED")]
    assert released.subject.startswith("Původní termín zrušen v kalendáři: ")
    assert timefmt.date_only(monday.starts_at) in released.subject
    assert timefmt.term_span(thursday.starts_at, thursday.ends_at) in released.body_text
    assert not outbox("registration_cancelled", "ucastnice1@ospod.cz")
    assert [m.kind for m in outbox(to="ucastnice1@ospod.cz")] == [
        "registration_confirmed", "registration_switched", "registration_switched_old_term"]
    assert manage_link(switched) and open_link(app.test_client(), manage_link(switched))

    # Monday's seat went to the first person waiting there, with her usual e-mail and invitation.
    assert registration_on(monday, "ucastnice2@ospod.cz").state == RegistrationState.CONFIRMED
    promoted = only_message("registration_promoted", "ucastnice2@ospod.cz")
    ((method, promoted_uid, _seq, status),) = calendar_objects(promoted)
    assert (method, promoted_uid, status) == ("REQUEST", uid(registration_on(monday, "ucastnice2@ospod.cz")),
                                              "CONFIRMED")

    # The organiser sees the move on both registrations.
    actions = {(e.object_id, e.action) for e in db.session.scalars(select(AuditEntry))}
    assert {(old.id, "registration.switched"), (new.id, "registration.switched_in")} <= actions


def test_she_waits_for_a_full_term_keeping_her_seat_and_a_cancellation_there_completes_the_swap(app):
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=1, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    sign_up(app, monday, 2)  # waits for Monday
    eva_link = manage_link(sign_up(app, thursday, 3))  # Thursday's one seat

    browser, page = choose_term(app, jana_link, thursday)

    assert urlsplit(page).path == urlsplit(jana_link).path  # back on her seat's page
    html = open_link(browser, page)
    assert "Jste na čekací listině nového termínu (1. místo) a své místo si ponecháváte." in html
    assert "Čekáte na přesun na termín" in html and "Stav: <strong>potvrzená</strong>" in html
    entry = registration_on(thursday, "ucastnice1@ospod.cz")
    assert entry.state == RegistrationState.WAITLISTED
    assert entry.replaces_registration_id == registration_on(monday, "ucastnice1@ospod.cz").id
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    pending = only_message("registration_switch_pending", "ucastnice1@ospod.cz")
    assert "si zatím ponecháváte" in pending.body_text and not pending.attachments

    # Eva cancels Thursday: Jana gets it, her Monday seat goes to the first waiting there.
    assert cancel_via_link(app.test_client(), eva_link).status_code == 302

    held = registration_on(monday, "ucastnice1@ospod.cz")
    entry = registration_on(thursday, "ucastnice1@ospod.cz")
    assert (held.state, entry.state) == (RegistrationState.CANCELLED, RegistrationState.CONFIRMED)
    assert registration_on(monday, "ucastnice2@ospod.cz").state == RegistrationState.CONFIRMED
    assert [m.kind for m in outbox(to="ucastnice1@ospod.cz")] == [
        "registration_confirmed", "registration_switch_pending", "registration_switched",
        "registration_switched_old_term"]
    switched = only_message("registration_switched", "ucastnice1@ospod.cz")
    assert [(m, u) for m, u, _s, _st in calendar_objects(switched)] == [("REQUEST", uid(entry))]
    released = only_message("registration_switched_old_term", "ucastnice1@ospod.cz")
    assert [(m, u) for m, u, _s, _st in calendar_objects(released)] == [("CANCEL", uid(held))]
    only_message("registration_promoted", "ucastnice2@ospod.cz")
    assert "Stav: <strong>potvrzená</strong>" in open_link(app.test_client(), manage_link(switched))


def test_she_can_withdraw_a_pending_switch_and_keeps_her_seat(app):
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=1, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    sign_up(app, thursday, 3)
    browser, page = choose_term(app, jana_link, thursday)
    html = open_link(browser, page)
    action = re.search(r'action="([^"]+/zmena-terminu/\d+/zrusit)"', html).group(1)

    response = browser.post(urljoin(page, action), data={"csrf_token": _csrf(html)})

    assert "Změna termínu je zrušená. Původní místo vám zůstává." in open_link(browser, urljoin(page, response.headers["Location"]))
    assert registration_on(thursday, "ucastnice1@ospod.cz").state == RegistrationState.CANCELLED
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED


def test_a_pending_switch_becomes_a_plain_waiting_entry_when_she_cancels_her_seat(app):
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=1, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    eva_link = manage_link(sign_up(app, thursday, 3))
    choose_term(app, jana_link, thursday)
    assert cancel_via_link(app.test_client(), jana_link).status_code == 302  # she gives up Monday after all

    assert cancel_via_link(app.test_client(), eva_link).status_code == 302

    assert registration_on(thursday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    assert outbox("registration_promoted", "ucastnice1@ospod.cz") and not outbox("registration_switched")
    assert not outbox("registration_switched_old_term")


def test_two_people_on_two_full_terms_exchange_their_seats(app):
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=1, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    eva_link = manage_link(sign_up(app, thursday, 3))
    sign_up(app, monday, 4)  # waits for Monday: an exchange frees no seat, so she loses nothing

    choose_term(app, jana_link, thursday)  # Thursday is full: Jana waits, keeping Monday
    choose_term(app, eva_link, monday)  # Monday is full, but Jana wants exactly Eva's seat

    assert registration_on(thursday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    assert registration_on(monday, "ucastnice3@ospod.cz").state == RegistrationState.CONFIRMED
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CANCELLED
    assert registration_on(thursday, "ucastnice3@ospod.cz").state == RegistrationState.CANCELLED
    assert registration_on(monday, "ucastnice4@ospod.cz").state == RegistrationState.WAITLISTED
    only_message("registration_switched", "ucastnice1@ospod.cz")
    only_message("registration_switched", "ucastnice3@ospod.cz")
    only_message("registration_switched_old_term", "ucastnice1@ospod.cz")
    only_message("registration_switched_old_term", "ucastnice3@ospod.cz")


def test_a_switch_follows_the_per_orp_limit_and_the_waiting_list_stays_in_order(app):
    monday = make_term(capacity=3, starts_in=timedelta(days=10))
    thursday = make_term(capacity=3, per_orp_limit=1, starts_in=timedelta(days=20))
    jana = sign_up(app, monday, 1, "Litomyšl")
    sign_up(app, thursday, 2, "Litomyšl")  # Litomyšl's one seat on Thursday

    outcome = switching.switch(jana.registration_id, thursday.id)

    assert outcome.kind == switching.WAITING and outcome.position == 1
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED


def test_refused_switches_change_nothing(app):
    monday = make_term(capacity=2, starts_in=timedelta(days=10))
    other_workshop = make_term(slug="rodicovske-spory", capacity=2, starts_in=timedelta(days=12))
    jana = sign_up(app, monday, 1)
    with pytest.raises(switching.SwitchRefused):
        switching.switch(jana.registration_id, other_workshop.id)
    with pytest.raises(switching.SwitchRefused):
        switching.switch(jana.registration_id, monday.id)
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    assert not outbox("registration_switched")


# --- at the same moment ------------------------------------------------------------


@pytest.fixture
def threads_app(app, database_url, tmp_path):
    app_ = build_app(database_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 0})
    yield app_
    with app_.app_context():
        db.engine.dispose()


def _seat(term, n):
    applicant = service.Applicant(
        name=f"Účastnice {n}", email=f"ucastnice{n}@ospod.cz", employer_type=EmployerType.OSPOD,
        job_title="sociální pracovnice", region_id=region("CZ053").id, orp_id=orp("Svitavy").id)
    return service.register(term.id, applicant).registration.id


@pytest.mark.parametrize("round_", range(3))
def test_two_people_swap_between_two_full_terms_while_a_third_registers_and_a_seat_frees(app, threads_app, round_):
    """Both terms full. At one moment: Jana asks for Thursday, Eva for Monday, Zora signs up for
    Monday and Petra cancels her Thursday seat. Whatever order the locks are granted in: no thread
    fails or hangs, neither term holds more than its capacity, Jana and Eva each hold exactly one
    seat, and nobody has two."""
    monday = make_term(capacity=2, starts_in=timedelta(days=10))
    thursday = make_term(capacity=2, starts_in=timedelta(days=20))
    jana, _ = _seat(monday, 1), _seat(monday, 2)
    eva, petra = _seat(thursday, 3), _seat(thursday, 4)
    db.session.commit()
    start = threading.Barrier(4)
    errors = []

    def pause(_sender, **_kw):
        threading.Event().wait(0.01)  # widen the window between reading availability and writing

    def run(action):
        with threads_app.app_context():
            start.wait()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - counted below
                errors.append(exc)
            finally:
                db.session.remove()

    zora = service.Applicant(name="Zora", email="zora@ospod.cz", employer_type=EmployerType.OSPOD,
                             job_title="sociální pracovnice", region_id=region("CZ053").id, orp_id=orp("Svitavy").id)
    monday_id, thursday_id = monday.id, thursday.id  # the threads must not touch this session's objects
    actions = [
        lambda: switching.switch(jana, thursday_id),
        lambda: switching.switch(eva, monday_id),
        lambda: service.register(monday_id, zora),
        lambda: service.cancel(petra),
    ]
    availability_read.connect(pause)
    try:
        threads = [threading.Thread(target=run, args=(action,)) for action in actions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        availability_read.disconnect(pause)

    assert not any(thread.is_alive() for thread in threads), "a thread hangs: deadlock"
    assert errors == []
    db.session.rollback()
    rows = db.session.scalars(select(Registration)).all()
    confirmed = [r for r in rows if r.state == RegistrationState.CONFIRMED]
    for term in (monday, thursday):
        assert sum(r.term_id == term.id for r in confirmed) <= term.capacity
    seats = {}
    for r in confirmed:
        seats.setdefault(r.email_normalized, []).append(r.term_id)
    assert all(len(terms) == 1 for terms in seats.values()), seats
    assert len(seats["ucastnice1@ospod.cz"]) == 1 and len(seats["ucastnice3@ospod.cz"]) == 1
    # No seat is left free while someone waits for it.
    for term in (monday, thursday):
        waiting = [r for r in rows if r.term_id == term.id and r.state == RegistrationState.WAITLISTED]
        assert not waiting or sum(r.term_id == term.id for r in confirmed) == term.capacity
    # Zora is on Monday, with a seat or waiting.
    assert any(r.email_normalized == "zora@ospod.cz" and r.state != RegistrationState.CANCELLED for r in rows)
    # Every e-mail queued can be written as the worker writes it (none refers to rows a rolled-back attempt left out).
    assert all(m.body_text for m in outbox())


def test_a_promotion_that_needs_a_lower_term_held_elsewhere_steps_back_instead_of_deadlocking(app, threads_app):
    """The one lock taken out of order: Eva cancels Thursday, and Thursday's first in line is
    Jana's switch from Monday (the lower id), so the promotion needs Monday too. Meanwhile
    another transaction holds Monday and is about to ask for Thursday. Taking Monday with a
    wait would close a cycle (PostgreSQL would kill one side); instead the cancellation finds
    Monday taken, rolls back and runs again with both terms locked in order."""
    monday = make_term(capacity=1, starts_in=timedelta(days=10))
    thursday = make_term(capacity=1, starts_in=timedelta(days=20))
    jana, eva = _seat(monday, 1), _seat(thursday, 3)
    assert switching.switch(jana, thursday.id).kind == switching.WAITING
    monday_id, thursday_id = monday.id, thursday.id
    from trainings.db_session import lock_also, locked, transaction
    from trainings.models import Term

    holding, errors = threading.Event(), []

    def holder():
        with threads_app.app_context():
            try:
                with transaction(), locked(Term, monday_id):
                    holding.set()
                    threading.Event().wait(0.5)  # the cancellation starts meanwhile
                    lock_also(Term, thursday_id)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    def canceller():
        with threads_app.app_context():
            holding.wait(5)
            try:
                service.cancel(eva)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=holder), threading.Thread(target=canceller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert registration_on(thursday, "ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    assert registration_on(monday, "ucastnice1@ospod.cz").state == RegistrationState.CANCELLED


def test_her_old_link_says_where_the_seat_went_and_opens_the_new_registration(app):
    monday = make_term(capacity=3, starts_in=timedelta(days=10))
    thursday = make_term(capacity=3, starts_in=timedelta(days=20))
    jana_link = manage_link(sign_up(app, monday, 1))
    choose_term(app, jana_link, thursday)

    browser = app.test_client()
    old_page = open_link(browser, jana_link)
    assert "Přihláška je přesunutá na jiný termín:" in old_page and "(stav: potvrzená)" in old_page
    assert "Přihlásit se můžete znovu" not in old_page  # she is not cancelled: she moved
    action = re.search(r'action="([^"]+/nova)"', old_page).group(1)
    opened = browser.post(urljoin(jana_link, action), data={"csrf_token": _csrf(old_page)})
    assert opened.status_code == 302
    new_page = open_link(browser, urljoin(jana_link, opened.headers["Location"]))
    new = registration_on(thursday, "ucastnice1@ospod.cz")
    assert "Stav: <strong>potvrzená</strong>" in new_page and "Přihláška je přesunutá" not in new_page
    assert new.state == RegistrationState.CONFIRMED
    assert timefmt.term_span(thursday.starts_at, thursday.ends_at) in new_page  # the new term's page, hers


def test_a_registration_that_was_not_moved_opens_nothing_else(app):
    term = make_term(capacity=3)
    link = manage_link(sign_up(app, term, 1))
    browser = app.test_client()
    page = open_link(browser, link)
    answer = browser.post(urljoin(link, urlsplit(link).path + "/nova"), data={"csrf_token": _csrf(page)})
    assert answer.status_code == 302 and urlsplit(answer.headers["Location"]).path == urlsplit(link).path
    assert "nebyla přesunuta na jiný termín" in open_link(browser, link)
