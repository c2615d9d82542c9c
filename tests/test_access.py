"""Who may open which page: a table written by hand, compared with the app both ways,
and requests as each role that prove it.

ACCESS below is the specification, kept apart from the code on purpose: the
URL-map walk checks that every endpoint of the app is in it and that each
endpoint's declaration (trainings/access.py) says the same, so a page added
without a declaration, a page dropped from the table, and a wrong declaration
all fail here. The requests then go through the real stack: anonymous visitors
are sent to the login, every role the table leaves out gets 403, the roles it
names get in, and the object scopes hold (another kraj's request, another
lecturer's term).

URL arguments are filled generically (tests/helpers.py `url_of`): an int argument `<thing>_id` gets the
id of a row of the model whose name ends in `thing` (`request_id` →
SupportRequest, `message_id` → OutboxMessage), of the row that belongs to the
arguments already filled where the model has such a column (`item_id` of that
request); `code` gets the registration's check-in code; any other argument
gets a placeholder. Access is checked before a view loads anything, so even a
placeholder must be refused.
"""
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from trainings import create_app
from trainings.access import public, requires
from trainings.extensions import db
from trainings.models import Registration, RequestEvent, StaffRole, Term

from .helpers import url_of
from .staff_helpers import CREATED, OTHER_LECTURER, browser

ADMIN, ORGANISER, COORDINATOR, LECTURER = (
    StaffRole.ADMIN, StaffRole.ORGANISER, StaffRole.COORDINATOR, StaffRole.LECTURER)

# --- the table: who may do what -----------------------------------------------------------
#
# PUBLIC: anyone. Otherwise the roles that get in (administrators pass every check, and the
# table says so) and the object scope, if the page acts on one object:
#   "term"    – organisers every term, a lecturer only the terms linked to her account;
#   "request" – a coordinator only the requests of her kraje (or assigned to her).

PUBLIC = "public"
EVERYONE_ON_STAFF = frozenset(StaffRole)
ORGANISERS = frozenset({ADMIN, ORGANISER})
AT_THE_DOOR = frozenset({ADMIN, ORGANISER, LECTURER})
COORDINATORS = frozenset({ADMIN, COORDINATOR})
KRAJ_NUMBERS = frozenset({ADMIN, ORGANISER, COORDINATOR})  # a coordinator only her kraj: tests/test_coverage.py
ADMINS = frozenset({ADMIN})

ACCESS = {
    # the public site
    "static": PUBLIC,
    "catalogue.index": PUBLIC,
    "catalogue.offer": PUBLIC,
    "catalogue.interest": PUBLIC,
    "catalogue.support": PUBLIC,
    "catalogue.region_offer": PUBLIC,
    "catalogue.favicon": PUBLIC,
    "pages.privacy": PUBLIC,
    "pages.accessibility": PUBLIC,
    "pages.health": PUBLIC,
    "metrics.metrics": PUBLIC,  # its own bearer token or address list, for operators
    "api.index": PUBLIC,
    "api.offers": PUBLIC,
    "api.offer": PUBLIC,
    "api.terms": PUBLIC,
    "api.regions": PUBLIC,
    "api.openapi": PUBLIC,
    "calendar.all_terms": PUBLIC,
    "calendar.offer_terms": PUBLIC,
    "calendar.region_terms": PUBLIC,
    "calendar.personal": PUBLIC,
    "calendar.registration": PUBLIC,
    "certificates.lookup": PUBLIC,
    "certificates.verify": PUBLIC,
    # a participant's pages, behind the secret link in her e-mail
    "registration.register": PUBLIC,
    "registration.closed_term": PUBLIC,
    "registration.resend_link": PUBLIC,
    "registration.closed_term_resend_link": PUBLIC,
    "registration.sent": PUBLIC,
    "registration.closed_term_sent": PUBLIC,
    "registration.manage": PUBLIC,
    "registration.revoke_links": PUBLIC,
    "registration.confirm_cancel": PUBLIC,
    "registration.cancel": PUBLIC,
    "registration.undo_cancel": PUBLIC,
    "registration.open_moved": PUBLIC,
    "registration.switch_term": PUBLIC,
    "registration.withdraw_switch": PUBLIC,
    "registration.hand_over": PUBLIC,
    "registration.withdraw_handover": PUBLIC,
    "registration.take_over": PUBLIC,
    "registration.certificate": PUBLIC,
    "person.request_link": PUBLIC,
    "person.page": PUBLIC,
    "person.open_registration": PUBLIC,
    "person.new_feed": PUBLIC,
    "person.end_links": PUBLIC,
    "person.certificate": PUBLIC,
    "feedback.questionnaire": PUBLIC,
    "feedback.thanks": PUBLIC,
    "requests.custom_workshop": PUBLIC,
    "requests.support": PUBLIC,
    "requests.region_package": PUBLIC,
    "requests.follow": PUBLIC,
    "requests.message": PUBLIC,
    # the way into the back office
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.second_factor_step": PUBLIC,
    "auth.enrol": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.set_password": PUBLIC,
    # every staff member: her home and her own account
    "staff.dashboard": (EVERYONE_ON_STAFF, None),
    "auth.account": (EVERYONE_ON_STAFF, None),
    "auth.renew_codes": (EVERYONE_ON_STAFF, None),
    "auth.disable": (EVERYONE_ON_STAFF, None),
    # terms: the list for whoever works at the door, the rest for organisers
    "staff_terms.index": (AT_THE_DOOR, None),
    "staff_terms.new": (ORGANISERS, None),
    "staff_terms.detail": (ORGANISERS, None),
    "staff_terms.edit": (ORGANISERS, None),
    "staff_terms.cancel": (ORGANISERS, None),
    "staff_terms.message": (ORGANISERS, None),
    "staff_terms.send_feedback": (ORGANISERS, None),
    "staff_terms.interest": (ORGANISERS, None),
    # the catalogue's texts: organisers
    "catalogue_staff.index": (ORGANISERS, None),
    "catalogue_staff.new": (ORGANISERS, None),
    "catalogue_staff.edit": (ORGANISERS, None),
    "catalogue_staff.preview": (ORGANISERS, None),
    "catalogue_staff.publish": (ORGANISERS, None),
    "catalogue_staff.discard": (ORGANISERS, None),
    "catalogue_staff.history": (ORGANISERS, None),
    "catalogue_staff.restore": (ORGANISERS, None),
    "catalogue_staff.withdraw": (ORGANISERS, None),
    "catalogue_staff.return_to_catalogue": (ORGANISERS, None),
    # the project's facts and contacts: organisers
    "facts_staff.edit": (ORGANISERS, None),
    "facts_staff.history": (ORGANISERS, None),
    "facts_staff.restore": (ORGANISERS, None),
    # at the door and the printed lists: a lecturer for her own terms
    "attendance.check_in": (AT_THE_DOOR, "term"),
    "attendance.mark": (AT_THE_DOOR, "term"),
    "attendance.admit": (AT_THE_DOOR, "term"),
    "attendance.no_shows": (AT_THE_DOOR, "term"),
    "attendance.by_code": (AT_THE_DOOR, "term"),
    "staff_exports.attendance_sheet": (AT_THE_DOOR, "term"),
    "staff_exports.certificates": (AT_THE_DOOR, "term"),
    "staff_documents.certificates": (AT_THE_DOOR, "term"),
    "staff_documents.prepare_certificates": (AT_THE_DOOR, "term"),
    "staff_documents.certificates_file": (AT_THE_DOOR, "term"),
    # participants' data beyond the door: organisers
    "staff_exports.participants_csv": (ORGANISERS, None),
    "staff_exports.participants_xlsx": (ORGANISERS, None),
    "staff_registrations.index": (ORGANISERS, None),
    "staff_registrations.add": (ORGANISERS, None),
    "staff_registrations.detail": (ORGANISERS, None),
    "staff_registrations.confirm": (ORGANISERS, None),
    "staff_registrations.to_waitlist": (ORGANISERS, None),
    "staff_registrations.cancel": (ORGANISERS, None),
    "staff_registrations.note": (ORGANISERS, None),
    "staff_registrations.fill": (ORGANISERS, None),
    "staff_registrations.certificate": (ORGANISERS, None),
    "staff.outbox": (ORGANISERS, None),
    "staff.outbox_retry": (ORGANISERS, None),
    "reports.index": (ORGANISERS, None),
    "reports.workbook": (ORGANISERS, None),
    "reports.coverage": (KRAJ_NUMBERS, None),
    "reports.coverage_workbook": (KRAJ_NUMBERS, None),
    "feedback_staff.index": (AT_THE_DOOR, None),  # a lecturer: the results of her own terms
    "feedback_staff.workbook": (ORGANISERS, None),
    "feedback_staff.term": (AT_THE_DOOR, "term"),
    "feedback_staff.group": (ORGANISERS, None),
    "feedback_staff.questions": (ORGANISERS, None),
    # requests carry OSPOD casework: coordinators, each for her kraj
    "requests_staff.index": (COORDINATORS, None),  # lists only hers: tested below
    "requests_staff.detail": (COORDINATORS, "request"),
    "requests_staff.transition": (COORDINATORS, "request"),
    "requests_staff.transition_item": (COORDINATORS, "request"),
    "requests_staff.comment": (COORDINATORS, "request"),
    "requests_staff.new_term": (COORDINATORS, "request"),
    # a person's data across the whole system: administrators
    "privacy.person": (ADMINS, None),
    "privacy.export": (ADMINS, None),
    "privacy.erase": (ADMINS, None),
    # Lidé: staff accounts, roles, kraje, a lecturer's terms
    "people.index": (ADMINS, None),
    "people.invite": (ADMINS, None),
    "people.detail": (ADMINS, None),
    "people.change_role": (ADMINS, None),
    "people.assign_region": (ADMINS, None),
    "people.link_term": (ADMINS, None),
    "people.unlink_term": (ADMINS, None),
    "people.deactivate": (ADMINS, None),
    "people.reactivate": (ADMINS, None),
    "people.reset_second_factor": (ADMINS, None),
    "people.send_link": (ADMINS, None),
}


def declared(app, endpoint):
    """An endpoint's declaration in the table's terms; None when it declares nothing."""
    access = getattr(app.view_functions[endpoint], "access", None)
    if access is None:
        return None
    if access.public:
        return PUBLIC
    return (access.roles, access.scope.name if access.scope else None)


def mismatches(app, table):
    """Endpoints where the app and the table differ: (endpoint, in the table, declared)."""
    found = []
    for endpoint in sorted(set(app.view_functions) | set(table)):
        expected = table.get(endpoint, "not in the table")
        actual = declared(app, endpoint) if endpoint in app.view_functions else "not in the app"
        if actual != expected:
            found.append((endpoint, expected, actual))
    return found


def test_every_endpoint_is_in_the_table_and_declares_what_the_table_says(app):
    assert mismatches(app, ACCESS) == []


def test_the_comparison_catches_a_forgotten_page_a_missing_row_and_a_wrong_declaration():
    """The control: each way the code and the table can drift apart is reported."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app.add_url_rule("/sprava/zapomenuta-stranka", "forgotten", lambda: "interní údaje")
    app.add_url_rule("/nova-stranka", "new_public", public(lambda: "pro všechny"))
    app.view_functions["reports.index"] = requires(*StaffRole)(lambda: "výkazy")
    app.view_functions["attendance.check_in"] = requires(ORGANISER, LECTURER)(lambda term_id: "bez rozsahu")
    assert mismatches(app, ACCESS) == [
        ("attendance.check_in", (AT_THE_DOOR, "term"), (AT_THE_DOOR, None)),
        ("forgotten", "not in the table", None),
        ("new_public", "not in the table", PUBLIC),
        ("reports.index", (ORGANISERS, None), (EVERYONE_ON_STAFF, None)),
    ]
    fewer_rows = {e: v for e, v in ACCESS.items() if e != "privacy.erase"}
    assert ("privacy.erase", "not in the table", (ADMINS, None)) in mismatches(app, fewer_rows)
    del app.view_functions["privacy.erase"]
    assert ("privacy.erase", (ADMINS, None), "not in the app") in mismatches(app, ACCESS)


def test_a_back_office_page_that_declares_nothing_is_closed_not_open():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    app.add_url_rule("/sprava/zapomenuta-stranka", "forgotten", lambda: "interní údaje")
    response = app.test_client().get("/sprava/zapomenuta-stranka")
    assert _is_login_redirect(response)
    assert "interní údaje" not in response.get_data(as_text=True)


# --- the data the requests work on ----------------------------------------------------------

PARDUBICE = "svetluse.kotrcova@mpsv.gov.cz"
BRNO = "silvie.pazderova@mpsv.gov.cz"
# The objects the requests work on come from the `objects` fixture (tests/conftest.py), the
# logged-in browsers from tests/staff_helpers.py (`browser`; CREATED names who they are).
# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def staff_rules_with_access(app):
    """(rule, method, roles, scope) of every endpoint the table gives to staff only."""
    found = []
    for rule in app.url_map.iter_rules():
        if ACCESS[rule.endpoint] == PUBLIC:
            continue
        roles, scope = ACCESS[rule.endpoint]
        found += [(rule, method, roles, scope) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


# --- browsers -------------------------------------------------------------------------------


def browsers(app):
    """One logged-in browser per role; the coordinator is Pardubický kraj's, the lecturer
    the one linked to the term."""
    return {
        ADMIN: browser(app, CREATED[ADMIN], ADMIN),
        ORGANISER: browser(app, CREATED[ORGANISER], ORGANISER),
        COORDINATOR: browser(app, PARDUBICE),
        LECTURER: browser(app, CREATED[LECTURER], LECTURER),
    }


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": client.token})


def _is_login_redirect(response):
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sprava/prihlaseni"


# --- requests as each role ------------------------------------------------------------------


def test_every_staff_page_sends_anonymous_users_to_the_login(app, objects):
    client = browser(app)
    rules = staff_rules_with_access(app)
    assert {rule.endpoint for rule, *_ in rules} == {e for e, v in ACCESS.items() if v != PUBLIC}
    for rule, method, _, _ in rules:
        url = url_of(app, rule)
        response = call(client, method, url)
        assert _is_login_redirect(response), (method, url, response.status_code)


def test_every_staff_page_refuses_the_roles_the_table_leaves_out(app, objects):
    clients = browsers(app)
    refused = set()
    for rule, method, roles, _ in staff_rules_with_access(app):
        url = url_of(app, rule)
        for role, client in clients.items():
            if role not in roles:
                response = call(client, method, url)
                assert response.status_code == 403, (role.value, method, url, response.status_code)
                refused.add(rule.endpoint)
    # Every page closed to someone was tried by her.
    assert refused == {e for e, v in ACCESS.items() if v != PUBLIC and v[0] != EVERYONE_ON_STAFF}


def test_the_roles_the_table_names_open_every_staff_page(app, objects):
    """Read-only (GET), so the walk does not change what it walks over. The term is the
    lecturer's and the request is the coordinator's kraj, so every scope admits them."""
    clients = browsers(app)
    opened = set()
    for rule, method, roles, scope in staff_rules_with_access(app):
        if method != "GET":
            continue
        url = url_of(app, rule)
        for role in roles:
            response = call(clients[role], method, url)
            if scope is None:
                # Placeholders may not exist (a 404 from the view); access is what is tested here.
                assert response.status_code not in (401, 403) and response.status_code < 500, (role.value, url)
                assert not _is_login_redirect(response), (role.value, url)
            else:
                # The scope found a real object and admitted her: the page itself answers.
                assert response.status_code in (200, 302), (role.value, url, response.status_code)
                assert not _is_login_redirect(response), (role.value, url)
            opened.add((rule.endpoint, role))
    gets = {rule.endpoint for rule, method, _, _ in staff_rules_with_access(app) if method == "GET"}
    assert opened == {(e, role) for e in gets for role in ACCESS[e][0]}


def _scoped_rules(app, scope):
    return [(rule, method) for rule, method, _, s in staff_rules_with_access(app) if s == scope]


def test_a_coordinator_is_refused_another_krajs_request_and_does_not_see_it_listed(app, objects):
    brno = browser(app, BRNO)
    rules = _scoped_rules(app, "request")
    assert {rule.endpoint for rule, _ in rules} == {
        "requests_staff.detail", "requests_staff.transition", "requests_staff.transition_item",
        "requests_staff.comment", "requests_staff.new_term"}
    before = db.session.scalars(select(RequestEvent.id)).all()
    for rule, method in rules:
        url = url_of(app, rule)
        response = call(brno, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
    db.session.rollback()
    assert db.session.scalars(select(RequestEvent.id)).all() == before  # no state change, no comment
    own = {rule.endpoint: url_of(app, rule) for rule, method in rules if method == "GET"}
    pardubice = browser(app, PARDUBICE)
    for url in own.values():
        assert pardubice.get(url).status_code == 200, url
    assert "Marie Dvořáková" in pardubice.get("/sprava/zadosti/").get_data(as_text=True)
    listing = brno.get("/sprava/zadosti/")
    assert listing.status_code == 200 and "Marie Dvořáková" not in listing.get_data(as_text=True)
    # An id that does not exist is 404 for the one who could handle it, as for anyone.
    assert pardubice.get("/sprava/zadosti/99999999").status_code == 404


def test_a_lecturer_is_refused_another_lecturers_term_at_every_door_page(app, objects):
    """The other lecturer has the same name as the one the term's text names ("Mgr. Petra
    Lektorová"): the text grants nothing, only the account linked to the term counts."""
    other = browser(app, OTHER_LECTURER, LECTURER)
    hers = browser(app, CREATED[LECTURER], LECTURER)
    rules = _scoped_rules(app, "term")
    assert {rule.endpoint for rule, _ in rules} == {
        "attendance.check_in", "attendance.mark", "attendance.admit", "attendance.no_shows",
        "attendance.by_code", "staff_exports.attendance_sheet", "staff_exports.certificates",
        "feedback_staff.term",
        "staff_documents.certificates", "staff_documents.prepare_certificates", "staff_documents.certificates_file"}
    for rule, method in rules:
        url = url_of(app, rule)
        response = call(other, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
    assert db.session.scalars(select(Registration.attended)).one() is None
    term = db.session.scalars(select(Term)).one()
    assert hers.get(f"/sprava/terminy/{term.id}/prichody").status_code == 200
    assert other.get("/sprava/terminy/").get_data(as_text=True).count(f"/sprava/terminy/{term.id}/") == 0
    assert f"/sprava/terminy/{term.id}/prichody" in hers.get("/sprava/terminy/").get_data(as_text=True)
    # A term that does not exist is 404, not 403, for a lecturer too.
    assert other.get("/sprava/terminy/99999999/prichody").status_code == 404
    assert other.get("/sprava/prichod/NEEXISTUJE").status_code == 404


NAV = {  # the back-office menu: which role sees which link
    "Termíny a docházka": AT_THE_DOOR,
    "Zájem o workshopy": ORGANISERS,
    "Výkazy": ORGANISERS,
    "Kde jsme byli": KRAJ_NUMBERS,
    "Zpětná vazba": AT_THE_DOOR,  # a lecturer: her own terms' results
    "E-maily": ORGANISERS,
    "Žádosti": COORDINATORS,
    "Lidé": ADMINS,
    "Dvoufázové ověření": EVERYONE_ON_STAFF,
}


def test_the_menu_and_the_term_links_show_each_role_only_what_she_may_open(app, objects):
    term = db.session.scalars(select(Term)).one()
    clients = browsers(app) | {"other lecturer": browser(app, OTHER_LECTURER, LECTURER)}
    for who, client in clients.items():
        role = LECTURER if who == "other lecturer" else who
        page = client.get("/sprava/").get_data(as_text=True)
        start = page.index('<nav aria-label="Správa"')
        menu = page[start:page.index("</nav>", start)]
        for label, roles in NAV.items():
            assert (f">{label}</a>" in menu) == (role in roles), (who, label)
        detail = f'href="/sprava/terminy/{term.id}"' in page
        door = f'href="/sprava/terminy/{term.id}/prichody"' in page
        assert detail == (role in ORGANISERS), who
        assert door == (who == LECTURER), who
