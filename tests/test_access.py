"""Every staff page refuses anonymous users, and staff whose role or kraj does not allow it.

The pages are found by walking app.url_map, not from a list kept by hand: a
page someone adds under /sprava later is checked without editing this file.
Only the `auth` blueprint (login, logout, setting a password from an e-mailed
link) is open, because it is the way in.

URL arguments are filled generically: an int argument `<thing>_id` gets the
id of a row of the model whose name ends in `thing` (`request_id` →
SupportRequest, `message_id` → OutboxMessage), of the row that belongs to the
arguments already filled where the model has such a column (`item_id` of that
request); any other argument gets a placeholder. Access is checked before a
view loads anything, so even a placeholder must be refused.
"""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import delete, select, update
from werkzeug.security import generate_password_hash
from werkzeug.routing import IntegerConverter

from trainings import create_app
from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    EmployerType,
    InterestEntry,
    OutboxMessage,
    Registration,
    RegistrationLink,
    RequestEvent,
    RequestState,
    StaffRole,
    SupportRequest,
    SupportRequestItem,
    SupportRequestLink,
    Term,
    TermForm,
    User,
    UserToken,
    utcnow,
)
from trainings.registration import service as registration
from trainings.requests import service
from trainings.staff import accounts
from trainings.terms.service import TermData

from .conftest import offer, orp, region
from .staff_helpers import forget_logins, log_in

PUBLIC_BLUEPRINTS = {"auth"}
PASSWORD = "heslo-pro-testy-123"
# A cheap hash: the login itself is tested in test_staff_auth.py, and scrypt costs 0.1 s per check.
FAST_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
PARDUBICE = "svetluse.kotrcova@mpsv.gov.cz"
BRNO = "silvie.pazderova@mpsv.gov.cz"
CREATED = {
    StaffRole.ADMIN: "spravce@access.test",
    StaffRole.ORGANISER: "organizatorka@access.test",
    StaffRole.LECTURER: "lektor@access.test",
}


# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


@pytest.fixture
def objects(app):
    """One object of each kind: two requests of Pardubický kraj (an agreed workshop
    with a closed term, a package with items), a registration, e-mails."""
    requester = service.Requester("Marie Dvořáková", "marie@pardubickykraj.cz", "KÚ Pardubického kraje")
    # The first request is the one `request_id` gets: a workshop, so that every page of it opens.
    workshop = service.submit_custom_workshop(
        requester, service.CustomWorkshop(region("CZ053").id, "IPOD", 20, "jaro", topic_text="IPOD")
    ).request
    items = tuple((o.id, "poznámka") for o in [offer("posileni-metodicke-role-krajskych-ospod")])
    service.submit_region_package(requester, service.RegionPackage(region("CZ053").id, items))
    coordinator = workshop.coordinator
    service.transition(workshop.id, RequestState.IN_PROGRESS, coordinator)
    service.transition(workshop.id, RequestState.AGREED, coordinator)
    starts = utcnow() + timedelta(days=20)
    term = service.create_closed_term(workshop.id, TermData(
        offer_id=offer().id, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
        capacity=10, restricted_region_id=region("CZ053").id), coordinator)
    registration.register(term.id, registration.Applicant(
        "Jana Nováková", "jana@litomysl.cz", EmployerType.OSPOD, "sociální pracovnice",
        region("CZ053").id, orp("Litomyšl").id))
    yield
    db.session.rollback()
    for model in (AuditEntry, RequestEvent, SupportRequestLink, SupportRequestItem, RegistrationLink,
                  OutboxMessage, Registration, InterestEntry, Term, SupportRequest, UserToken):
        db.session.execute(delete(model))
    for user_id in db.session.scalars(select(User.id).where(User.email.in_(CREATED.values()))):
        forget_logins(user_id)
    db.session.execute(delete(User).where(User.email.in_(CREATED.values())))
    db.session.execute(update(User).where(User.role == StaffRole.COORDINATOR).values(password_hash=None))
    db.session.commit()


# --- the walk -----------------------------------------------------------------------


def staff_rules(app):
    """(rule, method) of every page under /sprava outside the open blueprints."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/sprava") or rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS:
            continue
        found += [(rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _model_for(argument):
    """`message_id` → OutboxMessage: the mapped class whose snake-case name ends in `message`."""
    thing = argument.removesuffix("_id")
    classes = [m.class_ for m in db.Model.registry.mappers]
    matches = [c for c in classes if _snake(c.__name__) == thing] or [
        c for c in classes if _snake(c.__name__).endswith("_" + thing)
    ]
    return matches[0] if len(matches) == 1 else None


def url_of(app, rule):
    values = {}
    # In path order, so `item_id` is looked up among the rows of the `request_id` already chosen.
    for name in re.findall(r"<(?:[^:<>]+:)?(\w+)>", rule.rule):
        converter = rule._converters[name]
        model = _model_for(name) if isinstance(converter, IntegerConverter) else None
        if model is not None:
            stmt = select(model.id).order_by(model.id).limit(1)
            for chosen, value in values.items():
                if chosen in model.__table__.columns:
                    stmt = stmt.where(model.__table__.columns[chosen] == value)
            values[name] = db.session.scalar(stmt) or 1
        else:
            values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


# --- browsers -------------------------------------------------------------------------


def _csrf(client):
    """A CSRF token of this browser's session, from a public form: without one every
    POST would fail on CSRF (400) before reaching the access check we are testing."""
    page = client.get("/zadost/workshop-na-klic").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def browser(app, email=None, role=None):
    client = app.test_client()
    if email:
        user = accounts.user_by_email(email) or accounts.create_user(email, f"Test {role.value}", role)
        user.password_hash = FAST_HASH
        db.session.commit()
        response = log_in(client, email, PASSWORD)
        assert response.status_code == 302
    client.token = _csrf(client)
    return client


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": client.token})


def _is_login_redirect(response):
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sprava/prihlaseni"


# --- the tests ---------------------------------------------------------------------------


def undeclared(app):
    endpoints = {rule.endpoint for rule, _ in staff_rules(app)}
    return sorted(e for e in endpoints if not hasattr(app.view_functions[e], "staff_roles"))


def test_the_walk_finds_the_staff_pages_and_each_declares_its_roles(app):
    endpoints = {rule.endpoint for rule, _ in staff_rules(app)}
    assert {"staff.dashboard", "staff.outbox", "requests_staff.index", "requests_staff.detail",
            "requests_staff.transition", "requests_staff.new_term"} <= endpoints
    assert "auth.login" not in endpoints
    assert undeclared(app) == [], "these staff pages have no @staff_required"


def test_the_walk_would_catch_a_page_added_without_staff_required():
    """The control: a page someone forgot to protect is found, and it is indeed open."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app.add_url_rule("/sprava/zapomenuta-stranka", "forgotten", lambda: "interní údaje")
    assert undeclared(app) == ["forgotten"]
    assert app.test_client().get("/sprava/zapomenuta-stranka").status_code == 200


def test_every_staff_page_sends_anonymous_users_to_the_login(app, objects):
    client = browser(app)
    for rule, method in staff_rules(app):
        url = url_of(app, rule)
        response = call(client, method, url)
        assert _is_login_redirect(response), (method, url, response.status_code)


def test_every_staff_page_refuses_staff_whose_role_or_kraj_does_not_allow_it(app, objects):
    browsers = {
        StaffRole.ORGANISER: browser(app, CREATED[StaffRole.ORGANISER], StaffRole.ORGANISER),
        StaffRole.LECTURER: browser(app, CREATED[StaffRole.LECTURER], StaffRole.LECTURER),
        StaffRole.COORDINATOR: browser(app, PARDUBICE),
    }
    other_kraj = browser(app, BRNO)
    admin = browser(app, CREATED[StaffRole.ADMIN], StaffRole.ADMIN)
    refused_by_role = refused_by_kraj = 0
    for rule, method in staff_rules(app):
        url = url_of(app, rule)
        roles = app.view_functions[rule.endpoint].staff_roles
        for role, client in browsers.items():
            if role not in roles:
                response = call(client, method, url)
                assert response.status_code == 403, (role.value, method, url, response.status_code)
                refused_by_role += 1
        if "request_id" in rule.arguments:
            # The request belongs to Pardubický kraj: Brno's coordinator may not touch it ...
            response = call(other_kraj, method, url)
            assert response.status_code in (403, 404), ("other kraj", method, url, response.status_code)
            refused_by_kraj += 1
            # ... while Pardubice's may, and an administrator too (so the refusal above is
            # about the kraj, not a wrong id). Read-only: the walk must not change the data.
            if method == "GET":
                for allowed in (browsers[StaffRole.COORDINATOR], admin):
                    response = call(allowed, method, url)
                    assert response.status_code == 200, (method, url, response.status_code)
    assert refused_by_role and refused_by_kraj
