"""Staff log in with a password they set from an e-mailed link; pages check roles."""
import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from werkzeug.security import generate_password_hash

from config import Config
from trainings.demo import seed_demo_organiser
from trainings.extensions import db, limiter
from trainings.models import (
    AuditEntry,
    LoginFailures,
    OutboxMessage,
    StaffRole,
    StaffSession,
    User,
    UserToken,
    utcnow,
)
from trainings.people import accounts


from .staff_helpers import forget_logins, log_in, password_step, token_of as csrf  # noqa: F401


@pytest.fixture
def lecturer(app):
    user = accounts.create_user("lektor@example.cz", "Petr Lektor", StaffRole.LECTURER, "dlouhe-heslo-lektora")
    yield user
    db.session.rollback()
    forget_logins(user.id)
    db.session.execute(delete(UserToken).where(UserToken.user_id == user.id))
    db.session.delete(user)
    db.session.commit()


def test_organiser_logs_in_and_sees_the_dashboard(client):
    email, password = seed_demo_organiser()
    assert client.get("/sprava/").status_code == 302
    response = log_in(client, email, password, next_url="/sprava/")
    assert response.headers["Location"] == "/sprava/"
    assert "Dnešní a nadcházející termíny" in client.get("/sprava/").get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    email, _ = seed_demo_organiser()
    wrong = log_in(client, email, "spatne-heslo")
    unknown = log_in(client, "nikdo@example.cz", "spatne-heslo")
    assert wrong.status_code == unknown.status_code == 422
    assert "Nesprávný e-mail nebo heslo." in wrong.get_data(as_text=True)
    assert "Nesprávný e-mail nebo heslo." in unknown.get_data(as_text=True)


def test_login_never_redirects_to_another_site(client):
    email, password = seed_demo_organiser()
    response = log_in(client, email, password, next_url="//evil.example/")
    assert response.headers["Location"] == "/sprava/"


def test_coordinator_sets_her_password_from_the_emailed_link_and_logs_in(client):
    coordinator = accounts.user_by_email("svetluse.kotrcova@mpsv.gov.cz")
    assert coordinator.password_hash is None
    assert log_in(client, coordinator.email, "").status_code == 422

    accounts.send_password_link(coordinator)
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == coordinator.email)).one()
    link = re.search(r"http://spod4.test(/sprava/heslo/\S+)", message.body_text).group(1)
    page = client.get(link).get_data(as_text=True)
    mismatch = client.post(link, data={"csrf_token": csrf(page), "password": "nove-heslo-123", "confirm": "jine"})
    assert "Hesla se neshodují." in mismatch.get_data(as_text=True)
    client.post(link, data={"csrf_token": csrf(page), "password": "nove-heslo-123", "confirm": "nove-heslo-123"})
    # The link works once.
    assert client.get(link).status_code == 404
    assert log_in(client, coordinator.email, "nove-heslo-123").status_code == 302
    db.session.refresh(coordinator)
    coordinator.password_hash = None
    db.session.commit()


def test_a_password_change_ends_other_sessions(client, app, lecturer):
    other = app.test_client()
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    log_in(other, lecturer.email, "dlouhe-heslo-lektora")
    assert other.get("/sprava/").status_code == 200
    accounts.set_password(db.session.get(User, lecturer.id), "uplne-nove-heslo")
    db.session.commit()
    assert other.get("/sprava/").status_code == 302


def test_a_lecturer_may_not_open_the_outbox(client, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    assert client.get("/sprava/").status_code == 200
    assert client.get("/sprava/emaily").status_code == 403


def test_logout_needs_the_form_token(client):
    email, password = seed_demo_organiser()
    log_in(client, email, password)
    client.post("/sprava/odhlaseni")  # without a token: ignored
    assert client.get("/sprava/").status_code == 200
    page = client.get("/sprava/").get_data(as_text=True)
    client.post("/sprava/odhlaseni", data={"csrf_token": csrf(page)})
    assert client.get("/sprava/").status_code == 302


def test_a_cookie_copied_before_logout_no_longer_opens_the_back_office(client, app):
    email, password = seed_demo_organiser()
    log_in(client, email, password)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/sprava/").status_code == 200
    page = client.get("/sprava/").get_data(as_text=True)
    client.post("/sprava/odhlaseni", data={"csrf_token": csrf(page)})
    response = copy.get("/sprava/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sprava/prihlaseni")


def copy_of(app, client):
    """Another browser holding a copy of this browser's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/sprava/prihlaseni")


def session_row(user_id) -> StaffSession:
    db.session.rollback()
    return db.session.scalars(select(StaffSession).where(StaffSession.user_id == user_id)
                              .order_by(StaffSession.id.desc())).first()


def test_a_copied_cookie_stops_working_after_a_password_change(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    copy = copy_of(app, client)
    assert copy.get("/sprava/").status_code == 200
    accounts.set_password(db.session.get(User, lecturer.id), "uplne-nove-heslo")
    db.session.commit()
    assert sent_to_login(copy.get("/sprava/")) and sent_to_login(client.get("/sprava/"))
    assert session_row(lecturer.id).ended_at is not None


def test_a_session_left_idle_ends_and_its_cookie_gets_the_login(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    copy = copy_of(app, client)
    row = session_row(lecturer.id)
    # Just inside the idle timeout: still in, and the visit counts as activity.
    row.last_seen_at = utcnow() - app.config["STAFF_IDLE_TIMEOUT"] + timedelta(minutes=1)
    db.session.commit()
    assert client.get("/sprava/").status_code == 200
    assert utcnow() - session_row(lecturer.id).last_seen_at < timedelta(seconds=10)

    row = session_row(lecturer.id)
    row.last_seen_at = utcnow() - app.config["STAFF_IDLE_TIMEOUT"] - timedelta(seconds=1)
    db.session.commit()
    assert sent_to_login(copy.get("/sprava/"))
    assert sent_to_login(client.get("/sprava/"))
    assert session_row(lecturer.id).ended_at is not None


def test_last_seen_is_written_at_most_once_a_minute(client, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    row = session_row(lecturer.id)
    row.last_seen_at = seen = utcnow() - timedelta(seconds=50)
    db.session.commit()
    for _ in range(3):
        assert client.get("/sprava/").status_code == 200
    assert session_row(lecturer.id).last_seen_at == seen


def test_a_session_ends_after_eight_hours_however_busy(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    row = session_row(lecturer.id)
    row.created_at = utcnow() - app.config["PERMANENT_SESSION_LIFETIME"] - timedelta(seconds=1)
    db.session.commit()
    assert sent_to_login(client.get("/sprava/"))


def test_deactivating_a_person_ends_her_sessions(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    accounts.deactivate(db.session.get(User, lecturer.id))
    assert sent_to_login(client.get("/sprava/"))
    assert session_row(lecturer.id).ended_at is not None
    assert password_step(app.test_client(), lecturer.email, "dlouhe-heslo-lektora").status_code == 422


def test_an_administrator_deactivates_a_person_from_the_command_line(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "LEKTOR@example.cz"])
    assert result.exit_code == 0, result.output
    assert "Účet lektor@example.cz je deaktivovaný" in result.output
    assert sent_to_login(client.get("/sprava/"))
    assert session_row(lecturer.id).ended_at is not None
    assert password_step(app.test_client(), lecturer.email, "dlouhe-heslo-lektora").status_code == 422

    unknown = app.test_cli_runner().invoke(args=["users", "deactivate", "nikdo@example.cz"])
    assert unknown.exit_code == 1 and "Uživatel nikdo@example.cz neexistuje." in unknown.output


def forgot(client, email):
    page = client.get("/sprava/zapomenute-heslo").get_data(as_text=True)
    return client.post("/sprava/zapomenute-heslo", data={"csrf_token": csrf(page), "email": email})


def reset_mails(email):
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)
                              .order_by(OutboxMessage.id)).all()


def test_the_login_page_links_to_the_forgotten_password(client):
    assert 'href="/sprava/zapomenute-heslo"' in client.get("/sprava/prihlaseni").get_data(as_text=True)


def test_a_forgotten_password_gives_the_same_page_for_known_and_unknown_addresses(client, app, lecturer):
    known = forgot(client, lecturer.email.upper())
    unknown = forgot(client, "nikdo-takovy@example.cz")
    assert known.status_code == unknown.status_code == 200
    same = lambda response, email: response.get_data(as_text=True).replace(email, "ADRESA")  # noqa: E731
    assert same(known, lecturer.email.upper()) == same(unknown, "nikdo-takovy@example.cz")
    assert "Platnost odkazu: 2 hodiny." in known.get_data(as_text=True)
    assert len(reset_mails(lecturer.email)) == 1 and reset_mails("nikdo-takovy@example.cz") == []
    assert "Platnost odkazu: 2 hodiny." in reset_mails(lecturer.email)[0].body_text


def test_the_reset_link_sets_a_password_and_ends_every_old_session(client, app, lecturer):
    old_browser = app.test_client()
    log_in(old_browser, lecturer.email, "dlouhe-heslo-lektora")
    stolen = copy_of(app, old_browser)
    forgot(client, lecturer.email)
    forgot(client, lecturer.email)  # asked twice: both links arrive, the first one used ends the other
    first, second = (re.search(r"http://spod4.test(/sprava/heslo/\S+)", m.body_text).group(1)
                     for m in reset_mails(lecturer.email))
    page = client.get(second).get_data(as_text=True)
    done = client.post(second, data={"csrf_token": csrf(page), "password": "heslo-po-resetu", "confirm": "heslo-po-resetu"})
    assert done.headers["Location"] == "/sprava/prihlaseni"
    assert sent_to_login(old_browser.get("/sprava/")) and sent_to_login(stolen.get("/sprava/"))
    assert client.get(second).status_code == 404 and client.get(first).status_code == 404
    assert log_in(client, lecturer.email, "heslo-po-resetu").headers["Location"] == "/sprava/"


def test_one_account_gets_at_most_three_reset_mails_an_hour(client, lecturer):
    for _ in range(5):
        assert forgot(client, lecturer.email).status_code == 200
    assert len(reset_mails(lecturer.email)) == accounts.RESETS_PER_HOUR == 3


def test_a_forgotten_password_answer_takes_as_long_for_known_and_unknown_addresses(client, app, lecturer):
    """Queueing the e-mail takes tens of milliseconds more than finding no account;
    every answer is padded to PASSWORD_RESET_MIN_SECONDS so the time does not tell."""
    app.config["PASSWORD_RESET_MIN_SECONDS"] = 0.3
    try:
        timings = {}
        for email in (lecturer.email, "nikdo-takovy@example.cz"):
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                assert forgot(client, email).status_code == 200
                runs.append(time.perf_counter() - started)
            timings[email] = sorted(runs)[1]
    finally:
        app.config["PASSWORD_RESET_MIN_SECONDS"] = 0
    assert len(reset_mails(lecturer.email)) == 3
    known, unknown = timings.values()
    assert known >= 0.3 and unknown >= 0.3
    assert abs(known - unknown) < 0.1, timings


# --- password guesses per account ---------------------------------------------------------------

ORGANISER_PASSWORD = "heslo-organizatorky-2026"
# The promise: 10 wrong passwords per address typed at the login in 15 minutes, from wherever they come.
GUESSES, WINDOW = 10, timedelta(minutes=15)


@pytest.fixture
def organiser(app):
    """An organiser: a password and no second factor, so the password is all that guards her."""
    user = accounts.create_user("organizatorka.hesla@example.cz", "Olga Organizátorová", StaffRole.ORGANISER)
    user.password_hash = generate_password_hash(ORGANISER_PASSWORD, "pbkdf2:sha256:1000")  # many checks, quickly
    db.session.commit()
    yield user
    db.session.rollback()
    forget_logins(user.id)
    db.session.execute(delete(UserToken).where(UserToken.user_id == user.id))
    db.session.execute(delete(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id))
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()


@pytest.fixture
def per_address_limits(app):
    """The per-address login limit of production (10 a minute, 50 an hour), counted afresh."""
    saved = app.config["RATELIMIT_LOGIN"]
    app.config["RATELIMIT_LOGIN"] = Config.RATELIMIT_LOGIN
    limiter.reset()
    yield
    limiter.reset()
    app.config["RATELIMIT_LOGIN"] = saved


def from_address(app, address):
    """A browser of its own at this address (no proxy in front: PROXY_COUNT=0, REMOTE_ADDR counts)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.token = csrf(client.get("/sprava/prihlaseni"))
    return client


def try_password(client, email, password):
    return client.post("/sprava/prihlaseni", data={"csrf_token": client.token, "email": email, "password": password})


def refusal(response) -> str:
    """The error summary of the login page: what she reads about why she is not in."""
    found = re.search(r'<div class="error-summary".*?</div>', response.get_data(as_text=True), re.S)
    return found.group(0) if found else ""


def audit_of(user):
    db.session.rollback()
    return db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == user.id).order_by(AuditEntry.id)).all()


def test_sixty_guesses_from_sixty_addresses_lock_the_account_until_the_window_ends(
        app, organiser, per_address_limits, monkeypatch):
    guesses = [try_password(from_address(app, f"203.0.113.{i}"), organiser.email, f"hadam-heslo-{i}")
               for i in range(60)]
    assert [g.status_code for g in guesses[:GUESSES]] == [422] * GUESSES
    assert "Nesprávný e-mail nebo heslo." in refusal(guesses[0])
    assert {g.status_code for g in guesses[GUESSES:]} == {429}

    # Her right password now gets the very same answer: the guesser learns nothing from it.
    right = from_address(app, "198.51.100.7")
    answer = try_password(right, organiser.email, ORGANISER_PASSWORD)
    assert answer.status_code == 429 and refusal(answer) == refusal(guesses[-1])
    assert right.get("/sprava/").status_code == 302
    assert "Přihlášení bude znovu možné za 15 minut" in refusal(answer)
    assert 14 * 60 < int(answer.headers["Retry-After"]) <= 15 * 60
    # Noted once in her account's trail, however many guesses followed.
    assert audit_of(organiser) == ["login.locked"]

    # A quarter of an hour after the first guess she is let in.
    later = accounts.utcnow() + WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert try_password(right, organiser.email, ORGANISER_PASSWORD).headers["Location"] == "/sprava/"
    assert right.get("/sprava/").status_code == 200


def test_an_address_without_an_account_is_counted_and_refused_alike(app, organiser, per_address_limits):
    answers = {}
    for email in (organiser.email, "nikdo.takovy@example.cz"):
        answers[email] = [try_password(from_address(app, f"192.0.2.{i}"), email, "spatne-heslo")
                          for i in range(GUESSES + 2)]
    known, unknown = answers.values()
    assert [a.status_code for a in known] == [a.status_code for a in unknown] == [422] * GUESSES + [429] * 2
    assert refusal(known[-1]) == refusal(unknown[-1])
    assert all(14 * 60 < int(a[-1].headers["Retry-After"]) <= 15 * 60 for a in (known, unknown))
    # Another spelling of the same address is the same account.
    again = try_password(from_address(app, "192.0.2.99"), "  Organizatorka.HESLA@example.cz ", ORGANISER_PASSWORD)
    assert again.status_code == 429


def test_right_passwords_do_not_count_against_her(app, organiser):
    for _ in range(GUESSES + 2):
        assert try_password(from_address(app, "198.51.100.1"), organiser.email, ORGANISER_PASSWORD).status_code == 302
    statuses = [try_password(from_address(app, "198.51.100.2"), organiser.email, "preklep").status_code
                for _ in range(GUESSES - 1)]
    assert try_password(from_address(app, "198.51.100.3"), organiser.email, ORGANISER_PASSWORD).status_code == 302
    statuses += [try_password(from_address(app, "198.51.100.4"), organiser.email, "preklep").status_code
                 for _ in range(2)]
    assert statuses == [422] * GUESSES + [429]


def test_a_new_password_from_an_emailed_link_lifts_the_lock(app, organiser):
    """Someone guessing locked her out; the administrator's invitation (or her own forgotten-password
    e-mail) gives her a new password, and with it she is in at once."""
    for _ in range(GUESSES + 1):
        try_password(from_address(app, "203.0.113.50"), organiser.email, "hadam")
    assert try_password(from_address(app, "198.51.100.8"), organiser.email, ORGANISER_PASSWORD).status_code == 429

    result = app.test_cli_runner().invoke(args=["users", "invite", organiser.email])
    assert result.exit_code == 0, result.output
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == organiser.email)).one()
    link = re.search(r"http://spod4.test(/sprava/heslo/\S+)", mail.body_text).group(1)
    browser = from_address(app, "198.51.100.8")
    page = browser.get(link)
    assert page.status_code == 200
    browser.post(link, data={"csrf_token": csrf(page), "password": "nove-heslo-po-zamku",
                             "confirm": "nove-heslo-po-zamku"})
    assert try_password(browser, organiser.email, "nove-heslo-po-zamku").headers["Location"] == "/sprava/"


def test_guesses_sent_at_once_are_checked_no_more_than_the_limit(app, organiser):
    """Twenty guesses from twenty addresses at the same moment: ten passwords are checked, the
    other ten are refused unchecked (the count is taken before the check, not after)."""
    browsers = [from_address(app, f"203.0.113.{100 + i}") for i in range(20)]
    start = threading.Barrier(len(browsers))
    statuses, email = [], organiser.email

    def guess(browser):
        start.wait()
        statuses.append(try_password(browser, email, "hadam-naraz").status_code)

    threads = [threading.Thread(target=guess, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [422] * GUESSES + [429] * 10


def test_counts_of_wrong_passwords_go_with_the_old_sessions_at_retention(app, organiser):
    for email in (organiser.email, "nikdo.takovy@example.cz"):
        assert try_password(from_address(app, "203.0.113.9"), email, "hadam").status_code == 422
    db.session.execute(update(LoginFailures).where(LoginFailures.window_started_at > utcnow() - WINDOW)
                       .values(window_started_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert try_password(from_address(app, "203.0.113.9"), organiser.email, "hadam").status_code == 422

    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    # The address typed again today keeps its count; the other one is gone.
    assert db.session.scalars(select(LoginFailures.attempts)).all() == [1]


def test_a_session_that_ran_out_says_why_at_the_login(client, app, lecturer):
    log_in(client, lecturer.email, "dlouhe-heslo-lektora")
    row = session_row(lecturer.id)
    row.last_seen_at = utcnow() - app.config["STAFF_IDLE_TIMEOUT"] - timedelta(seconds=1)
    db.session.commit()
    answer = client.get("/sprava/")
    login = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert ("Přihlášení skončilo, protože se správa delší dobu nepoužívala (ukončuje se po 30 minutách "
            "nečinnosti). Přihlaste se prosím znovu.") in login
    # A stranger who never logged in is told only to log in.
    stranger = app.test_client()
    page = stranger.get(stranger.get("/sprava/").headers["Location"]).get_data(as_text=True)
    assert "Pro vstup do správy se přihlaste." in page and "nepoužívala" not in page
