"""Lidé: administrators manage the staff accounts in the back office.

The journeys of PRODUCT.md 4: the ministry's team invites organisers, lecturers and coordinators,
gives a kraj a new coordinator when one leaves (her requests and the public table follow), links
a lecturer to the terms she teaches, and takes access away. Who may open these pages at all is in
tests/test_access.py (administrators only, every other role refused on every URL).
"""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from trainings.access import can_handle
from trainings.display import ACTIONS
from trainings.catalogue.seed import seed_regions
from trainings.extensions import db
from trainings.models import AuditEntry, Region, StaffRole, SupportRequest, Term, TermState, User
from trainings.requests import service as requests
from trainings.people import accounts, second_factor

from .helpers import empty_tables, field_error, make_term, only_message, outbox, region
from .staff_helpers import PASSWORD, browser, forget_logins, log_in, staff_client, token_of

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

ADMIN_EMAIL = "spravce@lide.test"
KOTRCOVA = "svetluse.kotrcova@mpsv.gov.cz"  # Pardubický kraj's coordinator in the seed
LINK = re.compile(r"http://spod4\.test/sprava/heslo/[A-Za-z0-9_-]+")


@pytest.fixture
def people(app):
    """Staff created here go again, and every kraj gets its coordinator from before back."""
    before = dict(db.session.execute(select(Region.id, Region.coordinator_id)).all())
    kept = ("role", "active", "password_hash", "totp_secret", "totp_confirmed_at", "totp_last_step")
    seeded = {user.id: [getattr(user, name) for name in kept] for user in db.session.scalars(select(User))}
    yield
    empty_tables()
    for region_row in db.session.scalars(select(Region)):
        region_row.coordinator_id = before[region_row.id]
    created = [i for i in db.session.scalars(select(User.id)) if i not in seeded]
    for user_id in created:
        forget_logins(user_id)
    db.session.execute(delete(User).where(User.id.in_(created)))
    for user in db.session.scalars(select(User).where(User.id.in_(seeded))):
        for name, value in zip(kept, seeded[user.id]):
            setattr(user, name, value)
    db.session.commit()


@pytest.fixture
def admin(app, people):
    client = browser(app, ADMIN_EMAIL, StaffRole.ADMIN)
    client.me = accounts.user_by_email(ADMIN_EMAIL)
    return client


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, **data})


def invite(client, email, name, role, region_id=""):
    return post(client, "/sprava/lide/pozvat", email=email, name=name, role=role.value, region_id=region_id)


def user(email) -> User:
    db.session.rollback()
    return accounts.user_by_email(email)


def trail(person) -> list[str]:
    return db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == person.id).order_by(AuditEntry.id)).all()


def text(response) -> str:
    return response.get_data(as_text=True)


def row_of(page: str, marker: str) -> str:
    """The text of the table row that holds `marker`."""
    at = page.index(marker)
    return re.sub(r"<[^>]+>|\s+", " ", page[page.rindex("<tr", 0, at):page.index("</tr>", at)])


def flashed(client) -> str:
    return text(client.get("/sprava/lide/"))


# --- the list ---------------------------------------------------------------------------------


def test_the_list_is_by_surname_in_czech_order_with_role_kraj_state_and_second_factor(app, admin):
    for email, name, role in [("chalupa@lide.example.cz", "Jan Chalupa", StaffRole.ORGANISER),
                              ("horakova@lide.example.cz", "Mgr. Eva Horáková", StaffRole.LECTURER),
                              ("cermak@lide.example.cz", "Petr Čermák", StaffRole.ORGANISER),
                              ("cibulkova@lide.example.cz", "Anna Cibulková, DiS.", StaffRole.LECTURER)]:
        accounts.create_user(email, name, role)
    accounts.deactivate(user("cermak@lide.example.cz"))
    page = text(admin.get("/sprava/lide/"))
    order = [page.index(name) for name in ("Anna Cibulková", "Petr Čermák", "Mgr. Eva Horáková", "Jan Chalupa")]
    assert order == sorted(order)  # C < Č < H < Ch
    rows = {marker: row_of(page, marker) for marker in ("Petr Čermák", "Jan Chalupa", "Světluše Kotrčová", ADMIN_EMAIL)}
    assert "organizace termínů" in rows["Petr Čermák"] and "deaktivovaný" in rows["Petr Čermák"]
    assert "zatím bez prvního přihlášení" in rows["Jan Chalupa"]
    assert "koordinace kraje" in rows["Světluše Kotrčová"] and "Pardubický kraj" in rows["Světluše Kotrčová"]
    assert "aktivní" in rows[ADMIN_EMAIL] and "nastavené" in rows[ADMIN_EMAIL]
    assert "nenastavené" in rows["Jan Chalupa"]


# --- invite -----------------------------------------------------------------------------------


def test_an_invited_organiser_gets_a_one_time_link_and_logs_in_with_her_password(app, admin):
    response = invite(admin, "Nova.Organizatorka@Kraj.cz ", "Nová Organizátorka", StaffRole.ORGANISER)
    assert response.status_code == 302
    invited = user("nova.organizatorka@kraj.cz")
    assert invited.role == StaffRole.ORGANISER and invited.password_hash is None
    assert "user.invited" in trail(invited)
    link = LINK.search(only_message("staff_password_link", invited.email).body_text).group(0)
    anonymous = app.test_client()
    page = anonymous.get(link)
    answer = anonymous.post(link, data={"csrf_token": token_of(page), "password": PASSWORD, "confirm": PASSWORD})
    assert answer.status_code == 302
    assert log_in(app.test_client(), invited.email, PASSWORD).status_code == 302
    assert anonymous.get(link).status_code == 404  # one time only


def test_an_invited_coordinator_sets_up_the_app_at_her_first_login(app, admin):
    invite(admin, "nova.koordinace@mpsv.gov.cz", "Nová Koordinátorka", StaffRole.COORDINATOR,
           region("CZ063").id)
    invited = user("nova.koordinace@mpsv.gov.cz")
    link = LINK.search(only_message("staff_password_link", invited.email).body_text).group(0)
    client = app.test_client()
    client.post(link, data={"csrf_token": token_of(client.get(link)), "password": PASSWORD, "confirm": PASSWORD})
    page = client.get("/sprava/prihlaseni")
    response = client.post("/sprava/prihlaseni", data={"csrf_token": token_of(page), "email": invited.email,
                                                       "password": PASSWORD})
    assert response.headers["Location"].startswith("/sprava/overeni")
    assert client.get("/sprava/zadosti/").status_code == 302  # nothing before the app is set up


@pytest.mark.parametrize("email, message", [
    ("jana.novakova@", "Zadejte platnou e-mailovou adresu"),
    ("", "Vyplňte prosím e-mail."),
    (KOTRCOVA.upper(), "Účet s touto e-mailovou adresou už existuje."),
])
def test_a_bad_or_taken_address_is_refused_next_to_the_field_and_the_form_keeps_what_was_typed(
        app, admin, email, message):
    response = invite(admin, email, "Jana Nováková", StaffRole.LECTURER)
    assert response.status_code == 422
    page = text(response)
    assert message in field_error(page, "email")
    assert 'value="Jana Nováková"' in page
    assert db.session.scalar(select(User).where(User.name == "Jana Nováková")) is None
    assert outbox("staff_password_link") == []


def test_a_coordinator_is_invited_with_her_kraj_and_other_roles_without_one(app, admin):
    response = invite(admin, "bez.kraje@mpsv.gov.cz", "Bez Kraje", StaffRole.COORDINATOR)
    assert response.status_code == 422
    assert field_error(text(response), "region_id") == "Vyberte kraj, který bude koordinovat."
    assert invite(admin, "bez.kraje@mpsv.gov.cz", "Bez Kraje", StaffRole.COORDINATOR, "99999999999999").status_code \
        == 422
    invite(admin, "lektorka@lide.example.cz", "Lída Lektorka", StaffRole.LECTURER, region("CZ063").id)
    assert user("lektorka@lide.example.cz").regions == []


# --- a kraj changes hands ------------------------------------------------------------------------


def _request_from(region_code, name):
    return requests.submit_custom_workshop(
        requests.Requester(name, f"{name.split()[0].lower()}@kraj.cz", "Krajský úřad"),
        requests.CustomWorkshop(region(region_code).id, "Vyhodnocování.", 12, "jaro", topic_text="IPOD")).request


def test_a_kraj_given_to_a_new_coordinator_leaves_the_previous_one_and_its_requests_follow(app, admin):
    old_request = _request_from("CZ053", "Marie Dvořáková")
    invite(admin, "nova.pardubice@mpsv.gov.cz", "Nová Pardubická", StaffRole.COORDINATOR, region("CZ063").id)
    new = user("nova.pardubice@mpsv.gov.cz")

    response = post(admin, f"/sprava/lide/{new.id}/kraj", region_id=region("CZ053").id)
    assert response.status_code == 302
    notice = flashed(admin)
    assert "Pardubický kraj: koordinace je přidělená účtu Nová Pardubická." in notice
    assert "Dosavadní koordinace (Světluše Kotrčová) kraj už nemá" in notice
    db.session.rollback()
    assert region("CZ053").coordinator.email == new.email
    assert sorted(r.code for r in user(new.email).regions) == ["CZ053", "CZ063"]
    previous = user(KOTRCOVA)
    assert previous.regions == [] and "user.region_removed" in trail(previous)
    assert "user.region_assigned" in trail(new)

    # The public table names her, and a new request of the kraj goes to her.
    table = text(app.test_client().get("/nabidka-pro-kraje"))
    row = row_of(table, "<th scope=\"row\">Pardubický kraj</th>")
    assert "Nová Pardubická" in row and "Kotrčová" not in row
    new_request = _request_from("CZ053", "Hana Nová")
    assert [m.recipient for m in outbox("request_new")] == [KOTRCOVA, new.email]

    # She sees the kraj's requests, old and new; the previous coordinator neither.
    db.session.rollback()
    for request_id in (old_request.id, new_request.id):
        request_row = db.session.get(SupportRequest, request_id)
        assert can_handle(user(new.email), request_row) and not can_handle(user(KOTRCOVA), request_row)
    hers = staff_client(app, new.email)
    listing = text(hers.get("/sprava/zadosti/"))
    assert "Marie Dvořáková" in listing and "Hana Nová" in listing
    theirs = staff_client(app, KOTRCOVA)
    assert "Marie Dvořáková" not in text(theirs.get("/sprava/zadosti/"))
    assert theirs.get(f"/sprava/zadosti/{old_request.id}").status_code == 403


def test_the_seed_of_a_deploy_does_not_undo_an_assigned_kraj(app, admin):
    invite(admin, "nova.pardubice@mpsv.gov.cz", "Nová Pardubická", StaffRole.COORDINATOR, region("CZ053").id)
    seed_regions()
    db.session.commit()
    assert region("CZ053").coordinator.email == "nova.pardubice@mpsv.gov.cz"


def test_a_kraj_goes_only_to_a_coordinator(app, admin):
    organiser = accounts.create_user("organizatorka@lide.example.cz", "Olga Organizátorka", StaffRole.ORGANISER)
    response = post(admin, f"/sprava/lide/{organiser.id}/kraj", region_id=region("CZ053").id)
    assert response.status_code == 422
    assert field_error(text(response), "region_id") == "Kraj lze přidělit jen účtu s rolí koordinace kraje."
    assert region("CZ053").coordinator.email == KOTRCOVA


# --- role ---------------------------------------------------------------------------------------


def test_a_new_role_ends_her_sessions_and_is_in_her_trail(app, admin):
    organiser = staff_client(app, "organizatorka@lide.example.cz", StaffRole.ORGANISER, "Olga Organizátorka")
    person = user("organizatorka@lide.example.cz")
    assert organiser.get("/sprava/vykazy/").status_code == 200
    response = post(admin, f"/sprava/lide/{person.id}/role", role="lecturer")
    assert response.status_code == 302
    assert user(person.email).role == StaffRole.LECTURER
    assert organiser.get("/sprava/vykazy/").status_code == 302  # logged out
    page = text(admin.get(f"/sprava/lide/{person.id}"))
    assert "změna role" in page and "role: organizace termínů → lektorské vedení" in page


def test_a_coordinator_keeps_her_role_while_she_has_a_kraj(app, admin):
    kotrcova = user(KOTRCOVA)
    response = post(admin, f"/sprava/lide/{kotrcova.id}/role", role="organiser")
    assert response.status_code == 422
    assert "Tento účet koordinuje: Pardubický kraj. Nejprve kraj přidělte jiné koordinaci" in \
        field_error(text(response), "role")
    assert user(KOTRCOVA).role == StaffRole.COORDINATOR


def test_an_administrator_can_neither_demote_nor_deactivate_herself(app, admin):
    me = admin.me
    response = post(admin, f"/sprava/lide/{me.id}/role", role="organiser")
    assert response.status_code == 422
    assert "Svou vlastní roli změnit nemůžete" in field_error(text(response), "role")
    admin.token = token_of(admin.get(f"/sprava/lide/{me.id}"))
    post(admin, f"/sprava/lide/{me.id}/deaktivovat")
    assert "Svůj vlastní účet deaktivovat nemůžete" in flashed(admin)
    me = user(ADMIN_EMAIL)
    assert me.role == StaffRole.ADMIN and me.active
    assert admin.get("/sprava/lide/").status_code == 200


# --- access -------------------------------------------------------------------------------------


def test_deactivation_ends_her_sessions_and_reactivation_gives_her_login_back(app, admin):
    organiser = staff_client(app, "organizatorka@lide.example.cz", StaffRole.ORGANISER, "Olga Organizátorka")
    person = user("organizatorka@lide.example.cz")
    assert post(admin, f"/sprava/lide/{person.id}/deaktivovat").status_code == 302
    assert organiser.get("/sprava/").status_code == 302
    assert log_in(app.test_client(), person.email, PASSWORD).status_code != 302  # refused
    assert "deaktivovaný" in text(admin.get(f"/sprava/lide/{person.id}"))
    assert post(admin, f"/sprava/lide/{person.id}/aktivovat").status_code == 302
    assert log_in(app.test_client(), person.email, PASSWORD).status_code == 302
    assert trail(user(person.email)) == ["user.deactivated", "user.reactivated"]


def test_a_lost_second_factor_is_reset_and_set_up_again_at_the_next_login(app, admin):
    coordinator = staff_client(app, KOTRCOVA)
    person = user(KOTRCOVA)
    assert second_factor.enrolled(person)
    assert post(admin, f"/sprava/lide/{person.id}/dvoufazove-overeni").status_code == 302
    person = user(KOTRCOVA)
    assert not second_factor.enrolled(person)
    assert coordinator.get("/sprava/").status_code == 302
    response = log_in(app.test_client(), KOTRCOVA, PASSWORD, secret="")
    assert response.headers["Location"].startswith("/sprava/overeni/nastaveni")
    page = text(admin.get(f"/sprava/lide/{person.id}"))
    assert "ověřovací aplikace a záložní kódy zrušeny správcem" in page


def test_a_new_password_link_for_someone_whose_first_one_ran_out(app, admin):
    invite(admin, "lektorka@lide.example.cz", "Lída Lektorka", StaffRole.LECTURER)
    person = user("lektorka@lide.example.cz")
    assert post(admin, f"/sprava/lide/{person.id}/odkaz").status_code == 302
    assert len(outbox("staff_password_link", person.email)) == 2
    assert trail(user(person.email)) == ["user.invited", "user.link_sent"]


# --- a lecturer's terms ------------------------------------------------------------------------


def test_a_lecturer_linked_from_her_page_opens_that_terms_check_in_and_no_other(app, admin):
    taught, other = make_term(), make_term(starts_in=timedelta(days=20))
    lecturer = staff_client(app, "lektorka@lide.example.cz", StaffRole.LECTURER, "Lída Lektorka")
    person = user("lektorka@lide.example.cz")
    assert lecturer.get(f"/sprava/terminy/{taught.id}/prichody").status_code == 403
    page = text(admin.get(f"/sprava/lide/{person.id}"))
    assert f'<option value="{taught.id}">' in page

    assert post(admin, f"/sprava/lide/{person.id}/terminy", term_id=taught.id).status_code == 302
    assert lecturer.get(f"/sprava/terminy/{taught.id}/prichody").status_code == 200
    assert lecturer.get(f"/sprava/terminy/{other.id}/prichody").status_code == 403
    # The same link as the term form's: the term's trail and form show it.
    term_page = text(admin.get(f"/sprava/terminy/{taught.id}"))
    assert "Lída Lektorka (lektorka@lide.example.cz)" in term_page and "termín upraven" in term_page
    assert "přidělen termín" in text(admin.get(f"/sprava/lide/{person.id}"))

    assert post(admin, f"/sprava/lide/{person.id}/terminy/odebrat", term_id=taught.id).status_code == 302
    assert lecturer.get(f"/sprava/terminy/{taught.id}/prichody").status_code == 403
    assert trail(user(person.email)) == ["user.term_linked", "user.term_unlinked"]


def test_terms_are_linked_only_to_an_active_lecturer_and_not_when_cancelled(app, admin):
    term = make_term()
    organiser = accounts.create_user("organizatorka@lide.example.cz", "Olga Organizátorka", StaffRole.ORGANISER)
    response = post(admin, f"/sprava/lide/{organiser.id}/terminy", term_id=term.id)
    assert response.status_code == 422
    assert "jen aktivnímu účtu s rolí lektorského vedení" in field_error(text(response), "term_id")
    lecturer = accounts.create_user("lektorka@lide.example.cz", "Lída Lektorka", StaffRole.LECTURER)
    db.session.get(Term, term.id).state = TermState.CANCELLED
    db.session.commit()
    response = post(admin, f"/sprava/lide/{lecturer.id}/terminy", term_id=term.id)
    assert response.status_code == 422
    assert field_error(text(response), "term_id") == "Zrušený termín nelze upravovat."
    response = post(admin, f"/sprava/lide/{lecturer.id}/terminy", term_id="abc")
    assert response.status_code == 422 and field_error(text(response), "term_id") == "Vyberte termín."
    assert user("lektorka@lide.example.cz").taught_terms == []


def test_an_unknown_person_is_404(app, admin):
    assert admin.get("/sprava/lide/99999999").status_code == 404
    assert admin.get("/sprava/lide/99999999999999999999").status_code == 404
    assert post(admin, "/sprava/lide/99999999/deaktivovat").status_code == 404


def test_every_audit_action_the_code_records_has_a_czech_label():
    """The actions recorded anywhere in the package, as the audit trail would show them."""
    package = Path(__file__).resolve().parent.parent / "trainings"
    recorded = set()
    for path in package.rglob("*.py"):
        recorded |= set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text(encoding="utf-8")))
        recorded |= set(re.findall(r'"((?:second_factor|user)\.[a-z_]+)" if', path.read_text(encoding="utf-8")))
        recorded |= set(re.findall(r'else "((?:second_factor|user)\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert {"login.locked", "second_factor.reset_by_administrator", "user.deactivated"} <= recorded
    missing = {action for action in recorded if not action.startswith(("privacy.", "request.")) and action not in ACTIONS}
    assert missing == set()
