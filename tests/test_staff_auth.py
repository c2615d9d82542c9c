"""Staff log in with a password they set from an e-mailed link; pages check roles."""
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from trainings.catalogue.seed import seed_demo_organiser
from trainings.extensions import db
from trainings.models import OutboxMessage, StaffRole, StaffSession, User, UserToken, utcnow
from trainings.staff import accounts


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
    assert "Nadcházející termíny" in client.get("/sprava/").get_data(as_text=True)


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
