"""Staff log in with a password they set from an e-mailed link; pages check roles."""
import re

import pytest
from sqlalchemy import select

from trainings.catalogue.seed import seed_demo_organiser
from trainings.extensions import db
from trainings.models import OutboxMessage, StaffRole, User
from trainings.staff import accounts


def csrf(page):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def log_in(client, email, password, next_url=None):
    page = client.get("/sprava/prihlaseni").get_data(as_text=True)
    url = "/sprava/prihlaseni" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": csrf(page), "email": email, "password": password})


@pytest.fixture
def lecturer(app):
    user = accounts.create_user("lektor@example.cz", "Petr Lektor", StaffRole.LECTURER, "dlouhe-heslo-lektora")
    yield user
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
