"""Day one: `make run` (`flask seed --demo`) gives a newcomer a login for every role, a term at the
door right now and a request waiting for the coordinator, so journeys 2 and 3 can be walked in the
browser without the command line. Demo places and links say they are a demo."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from trainings import demo as demo_data
from trainings.catalogue import seed
from trainings.cli import demo_text
from trainings.extensions import db
from trainings.models import (
    Region,
    Registration,
    RegistrationState,
    RequestState,
    StaffRole,
    SupportRequest,
    Term,
    User,
    utcnow,
)

from .helpers import empty_tables
from .staff_helpers import log_in, token_of

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

NEWCOMER_LOGINS = [login for login in demo_data.DEMO_LOGINS if login.email != demo_data.DEMO_ORGANISER[0]]


@pytest.fixture
def demo(app):
    yield demo_data.seed_demo()
    empty_tables()
    for login in NEWCOMER_LOGINS:
        user = db.session.scalars(select(User).where(User.email == login.email)).one_or_none()
        if user is not None:
            db.session.delete(user)
    db.session.commit()
    seed.seed_regions()  # Pardubický kraj back to its real coordinator
    db.session.commit()


def browser_of(app, login):
    """Log in as a newcomer would: the printed e-mail and password, and where asked, the code
    her authenticator app shows for the printed secret."""
    client = app.test_client()
    response = log_in(client, login.email, login.password, secret=login.totp_secret or "")
    assert response.status_code == 302, login.email
    assert not response.headers["Location"].endswith(("/sprava/overeni", "/sprava/overeni/nastaveni")), login.email
    return client


def test_make_run_prints_a_login_for_every_role_that_works(app, demo):
    text = demo_text(demo)
    roles = {login.staff_role for login in demo.logins}
    assert roles == {StaffRole.ADMIN, StaffRole.ORGANISER, StaffRole.COORDINATOR, StaffRole.LECTURER}
    for login in demo.logins:
        assert f"{login.email} / {login.password}" in text
        assert "demo" in login.password  # obviously not a real one
        # Administrators and coordinators must have the app: its secret is printed, grouped and as a URI.
        needs_app = login.staff_role in (StaffRole.ADMIN, StaffRole.COORDINATOR)
        assert bool(login.totp_secret) == needs_app
        if needs_app:
            assert seed_grouped(login.totp_secret) in text and f"secret={login.totp_secret}" in text
        browser_of(app, login)
    assert "ověřovací aplikace" in text
    assert f"/sprava/terminy/{demo.today.id}/prichody" in text
    assert f"/sprava/zadosti/{demo.request.id}" in text


def seed_grouped(secret):
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def test_running_it_again_changes_nothing_a_newcomer_set_up(app, demo):
    lecturer = next(login for login in demo.logins if login.staff_role == StaffRole.LECTURER)
    logged_in = browser_of(app, lecturer)
    again = demo_data.seed_demo()
    # The same secrets (her authenticator app keeps working), the same term and request, her session alive.
    assert [login.totp_secret for login in again.logins] == [login.totp_secret for login in demo.logins]
    assert (again.terms_added, again.today.id, again.request.id) == (0, demo.today.id, demo.request.id)
    assert logged_in.get(f"/sprava/terminy/{demo.today.id}/prichody").status_code == 200


def test_a_term_runs_now_and_its_lecturer_checks_people_in(app, demo):
    term = db.session.get(Term, demo.today.id)
    now = utcnow()
    assert term.starts_at <= now - timedelta(minutes=55) and term.ends_at >= now + timedelta(minutes=115)
    confirmed = db.session.scalars(select(Registration).where(
        Registration.term_id == term.id, Registration.state == RegistrationState.CONFIRMED)).all()
    assert len(confirmed) >= 3
    assert term.venue.startswith("Ukázkové místo – ")

    lecturer = browser_of(app, next(login for login in demo.logins if login.staff_role == StaffRole.LECTURER))
    home = lecturer.get("/sprava/terminy/").get_data(as_text=True)
    assert f"/sprava/terminy/{term.id}" in home  # found at the door from the overview
    page = lecturer.get(f"/sprava/terminy/{term.id}/prichody").get_data(as_text=True)
    person = confirmed[0]
    assert person.name in page
    response = lecturer.post(f"/sprava/prihlasky/{person.id}/dochazka",
                             data={"csrf_token": token_of(page), "attended": "ano", "q": ""})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Registration, person.id).attended is True

    # Journey 3 ends with the export, the organiser's.
    organiser = browser_of(app, next(login for login in demo.logins if login.staff_role == StaffRole.ORGANISER))
    export = organiser.get(f"/sprava/terminy/{term.id}/export.csv")
    assert export.status_code == 200 and person.name in export.data.decode("utf-8-sig")


def test_the_coordinator_finds_a_request_and_turns_it_into_a_closed_term(app, demo):
    coordinator = next(login for login in demo.logins if login.staff_role == StaffRole.COORDINATOR)
    client = browser_of(app, coordinator)
    listing = client.get("/sprava/zadosti/").get_data(as_text=True)
    detail = f"/sprava/zadosti/{demo.request.id}"
    assert f'href="{detail}"' in listing
    for state in ("v_reseni", "dohodnuto"):
        page = client.get(detail).get_data(as_text=True)
        assert client.post(f"{detail}/stav", data={"csrf_token": token_of(page), "to_state": state}).status_code == 302
    form = client.get(f"{detail}/termin").get_data(as_text=True)
    day = (utcnow() + timedelta(days=30)).date()
    # The form starts from the request (workshop, form, kraj, place, participants): a date and times are enough.
    values = dict(re.findall(r'<input[^>]*name="(venue|capacity)"[^>]*value="([^"]*)"', form))
    response = client.post(f"{detail}/termin", data={
        "csrf_token": token_of(form), "offer": demo.request.topic_offer_id, "day": day.isoformat(),
        "start": "09:00", "end": "12:30", "form": "prezencni", "region": demo.request.region_id,
        "venue": values.get("venue", ""), "online_url": "", "capacity": values.get("capacity", ""),
        "per_orp_limit": "", "deadline": "", "lecturer": "", "restriction": "kraj"})
    assert response.status_code == 302 and response.headers["Location"].startswith(detail)
    db.session.rollback()
    request = db.session.get(SupportRequest, demo.request.id)
    assert request.state == RequestState.SCHEDULED and len(request.terms) == 1


def test_demo_places_and_links_say_they_are_a_demo(app, demo):
    terms = db.session.scalars(select(Term)).all()
    assert len(terms) > 3
    for term in terms:
        if term.venue:
            assert term.venue.startswith("Ukázkové místo – "), term.venue
        if term.online_url:
            assert term.online_url.startswith("https://meet.example.cz/ukazka-"), term.online_url
    region = db.session.scalars(select(Region).where(Region.code == demo_data.DEMO_REGION)).one()
    assert region.coordinator.email == "koordinatorka@spod4.example"
