"""A term's lecturers are staff accounts linked to it, not a substring of its lecturer text.

The organiser ticks the lecturer accounts of a term on its form; exactly those lecturers
open its check-in, attendance, the door's QR links and the printed lists, and find it in
their list of terms. The free-text "Lektorské vedení" is only what pages, e-mails and
certificates print: a lecturer whose name is part of another's ("Eva Nová" in
"Mgr. Eva Nováková") gets nothing from it.
"""
import re
from datetime import timedelta

import pytest
from flask import url_for
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, inspect, select, text

from trainings.access import declaration
from trainings.extensions import db
from trainings.models import AuditEntry, Registration, StaffRole, Term, User, term_lecturers, utcnow
from trainings.terms import service as terms
from trainings.terms.service import TermData, TermError
from trainings.timefmt import PRAGUE

from .helpers import empty_tables, field_error, make_term, offer, outbox, post_form
from .staff_helpers import (
    browser,
    fresh,
    organiser,
    organiser_client,
    remove_user,
    sign_up,
    staff_user,
)

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

LECTURER = StaffRole.LECTURER


@pytest.fixture
def eva_nova(app):
    """A lecturer whose whole name is part of a colleague's ("Mgr. Eva Nováková"); `browser` gives her a password."""
    user = staff_user("eva.nova@lektori.test", "Eva Nová", LECTURER, password=None)
    yield user
    remove_user(user.id)


def door_pages(app, term, registration):
    """(method, url) of every page a lecturer may open for her own terms: each endpoint that admits
    lecturers and is scoped to one term, filled for this term, its registration and check-in code.
    Taken from the declarations, so a door page added later is tried here without editing this."""
    values = {"term_id": term.id, "registration_id": registration.id, "code": registration.check_in_code,
              "job_id": 1}  # a document job that is not there: the file's page sends her to the term's
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            access = declaration(app, rule.endpoint)
            if access is None or access.public or access.scope is None or LECTURER not in access.roles:
                continue
            if access.scope.name != "term":
                continue
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
            pages += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return pages


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": client.token, "attended": "ano"})


def test_a_lecturer_whose_name_is_part_of_the_lecturer_text_opens_none_of_the_terms_pages(app, eva_nova):
    """Issue 20, item 5: "Eva Nová" opened the check-in list and the attendance sheet of a term
    taught by "Mgr. Eva Nováková", because her folded name was contained in its lecturer text."""
    term = make_term(starts_in=timedelta(hours=1), lecturer="Mgr. Eva Nováková")
    person = sign_up(term, 1)
    client = browser(app, eva_nova.email)
    pages = door_pages(app, term, person)
    assert {url for _, url in pages} >= {
        f"/sprava/terminy/{term.id}/prichody", f"/sprava/terminy/{term.id}/prezencni-listina.pdf",
        f"/sprava/terminy/{term.id}/osvedceni.pdf", f"/sprava/prichod/{person.check_in_code}",
        f"/sprava/prihlasky/{person.id}/dochazka"}
    for method, url in pages:
        assert call(client, method, url).status_code == 403, (method, url)
    assert fresh(Registration, person.id).attended is None
    assert f"/sprava/terminy/{term.id}/" not in client.get("/sprava/terminy/").get_data(as_text=True)
    assert f"/sprava/terminy/{term.id}/" not in client.get("/sprava/").get_data(as_text=True)


def test_only_the_linked_lecturer_opens_every_door_page_and_finds_the_term(app, eva_nova):
    eva_novakova = staff_user("eva.novakova@lektori.test", "Eva Nováková", LECTURER, password=None)
    try:
        term = make_term(starts_in=timedelta(hours=1), lecturer="Mgr. Eva Nováková", lecturers=[eva_novakova])
        person = sign_up(term, 1)
        linked, unlinked = browser(app, eva_novakova.email), browser(app, eva_nova.email)
        for method, url in door_pages(app, term, person):
            assert call(unlinked, method, url).status_code == 403, (method, url)
            assert fresh(Registration, person.id).attended is None
        for method, url in door_pages(app, term, person):
            # A page, its redirect back to the list, or the file (nobody present yet: a redirect).
            assert call(linked, method, url).status_code in (200, 302), (method, url)
        assert fresh(Registration, person.id).attended is True  # her tap at the door counted
        door = f'href="/sprava/terminy/{term.id}/prichody"'
        for page in ("/sprava/", "/sprava/terminy/"):
            assert door in linked.get(page).get_data(as_text=True), page
            assert door not in unlinked.get(page).get_data(as_text=True), page
    finally:
        remove_user(eva_novakova.id)


# --- the organiser links the accounts on the term form ---------------------------------------


def local_input(moment):
    return moment.astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M")


def term_form(**overrides):
    starts = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    data = {
        "offer_id": offer().id, "starts_at": local_input(starts), "ends_at": local_input(starts + timedelta(hours=3)),
        "term_form": "online", "online_url": "https://meet.example.cz/ipod", "venue": "", "region_id": "",
        "capacity": "12", "per_orp_limit": "", "registration_deadline": "", "lecturer": "Mgr. Eva Nováková",
        "hours": "", "public": "y", "restricted_region_id": "", "restricted_orp_id": "",
    }
    data.update(overrides)
    return data


def offered_accounts(page: str) -> list[tuple[str, bool, str]]:
    """(id, ticked, label) of each lecturer account the term form offers, in page order."""
    found = re.findall(r'<input([^>]*name="lecturer_ids"[^>]*)> <label for="[^"]+">([^<]*)</label>', page)
    return [(re.search(r'value="(\d+)"', attrs).group(1), "checked" in attrs, label) for attrs, label in found]


@pytest.fixture
def lecturers(app):
    """Three lecturer accounts (one deactivated) and an organiser of a lecturer's name."""
    users = [staff_user(email, name, role, password=None) for email, name, role in [
        ("eva.novakova@lektori.test", "Mgr. Eva Nováková", LECTURER),
        ("adam.cerny@lektori.test", "Adam Černý", LECTURER),
        ("zuzana.chmelova@lektori.test", "Zuzana Chmelová", LECTURER),
        ("vypnuta@lektori.test", "Alena Vypnutá", LECTURER),
        ("organizatorka@lektori.test", "Ola Organizátorka", StaffRole.ORGANISER),
    ]]
    users[3].active = False
    db.session.commit()
    yield users
    for user in users:
        remove_user(user.id)


def test_the_term_form_offers_active_lecturer_accounts_by_surname_and_saves_the_ticked_ones(app, lecturers):
    novakova, cerny, chmelova, deactivated, organiser_account = lecturers
    staff = organiser_client(app)
    page = staff.get("/sprava/terminy/novy").get_data(as_text=True)
    offered = offered_accounts(page)
    # Czech order by surname: Černý, Chmelová (ch after h), Nováková; no deactivated or organiser account.
    assert [label for _, _, label in offered] == [
        "Adam Černý (adam.cerny@lektori.test)", "Zuzana Chmelová (zuzana.chmelova@lektori.test)",
        "Mgr. Eva Nováková (eva.novakova@lektori.test)"]
    assert not any(ticked for _, ticked, _ in offered)
    assert "Lektorské účty s přístupem k docházce" in page

    response = post_form(staff, "/sprava/terminy/novy", term_form(lecturer_ids=[novakova.id, cerny.id]))
    assert response.status_code == 302
    term = db.session.scalars(select(Term)).one()
    assert sorted(user.id for user in term.lecturers) == sorted([novakova.id, cerny.id])
    detail = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert ("<dt>Lektorské účty s přístupem k docházce</dt><dd>Adam Černý (adam.cerny@lektori.test)<br>"
            "Mgr. Eva Nováková (eva.novakova@lektori.test)</dd>") in detail
    assert ("lektorské účty s přístupem k docházce: Adam Černý (adam.cerny@lektori.test), "
            "Mgr. Eva Nováková (eva.novakova@lektori.test)") in detail
    edit = staff.get(f"/sprava/terminy/{term.id}/upravit").get_data(as_text=True)
    assert [(i, ticked) for i, ticked, _ in offered_accounts(edit)] == [
        (str(cerny.id), True), (str(chmelova.id), False), (str(novakova.id), True)]

    # Crafted ids: an organiser's or a deactivated account, or no number at all, are refused in Czech.
    for crafted in (organiser_account.id, deactivated.id, "abc", 2**40):
        response = post_form(staff, "/sprava/terminy/novy", term_form(lecturer_ids=[crafted]))
        assert response.status_code == 422, crafted
        assert field_error(response.get_data(as_text=True), "lecturer_ids") == "Vyberte lektorské účty ze seznamu."
    assert db.session.scalars(select(Term)).all() == [term]


def test_changing_the_linked_accounts_is_audited_and_moves_the_access(app, lecturers):
    novakova, cerny, *_ = lecturers
    term = make_term(starts_in=timedelta(hours=1), lecturer="Mgr. Eva Nováková", lecturers=[novakova])
    term.starts_at, term.ends_at = (moment.replace(second=0) for moment in (term.starts_at, term.ends_at))
    db.session.commit()  # to the minute, as the form sends it: only the accounts change below
    staff = organiser_client(app)
    starts, ends = local_input(term.starts_at), local_input(term.ends_at)
    response = post_form(staff, f"/sprava/terminy/{term.id}/upravit", term_form(
        starts_at=starts, ends_at=ends, capacity="10", lecturer_ids=[cerny.id]))
    assert response.status_code == 302
    assert [user.id for user in fresh(Term, term.id).lecturers] == [cerny.id]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "term.updated")).one()
    assert entry.data == {"lecturers": ["Mgr. Eva Nováková (eva.novakova@lektori.test)",
                                        "Adam Černý (adam.cerny@lektori.test)"]}
    assert entry.actor_id == organiser().id
    assert outbox() == []  # who takes attendance is no news for the participants
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert ("lektorské účty s přístupem k docházce: Mgr. Eva Nováková (eva.novakova@lektori.test) → "
            "Adam Černý (adam.cerny@lektori.test)") in page
    for user, status in ((novakova, 403), (cerny, 200)):
        client = browser(app, user.email)
        assert client.get(f"/sprava/terminy/{term.id}/prichody").status_code == status, user.name

    # Unticking everyone leaves the term to the organisers.
    post_form(staff, f"/sprava/terminy/{term.id}/upravit", term_form(starts_at=starts, ends_at=ends, capacity="10"))
    assert fresh(Term, term.id).lecturers == []
    assert "lektorské účty s přístupem k docházce: Adam Černý (adam.cerny@lektori.test) → —" in \
        staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)


def test_a_deactivated_lecturer_stays_linked_until_the_organiser_unticks_her(app, lecturers):
    novakova, *_ = lecturers
    term = make_term(lecturer="Mgr. Eva Nováková", lecturers=[novakova])
    novakova.active = False
    db.session.commit()
    staff = organiser_client(app)
    edit = staff.get(f"/sprava/terminy/{term.id}/upravit").get_data(as_text=True)
    assert (str(novakova.id), True, "Mgr. Eva Nováková (eva.novakova@lektori.test) – účet je deaktivovaný") \
        in offered_accounts(edit)
    response = post_form(staff, f"/sprava/terminy/{term.id}/upravit", term_form(
        starts_at=local_input(term.starts_at), ends_at=local_input(term.ends_at), capacity="20",
        lecturer_ids=[novakova.id]))
    assert response.status_code == 302
    assert [user.id for user in fresh(Term, term.id).lecturers] == [novakova.id]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "term.updated")).one()
    assert "lecturers" not in entry.data


def test_duplicating_a_term_copies_its_lecturer_accounts(app, lecturers):
    novakova, cerny, *_ = lecturers
    source = make_term(lecturer="Mgr. Eva Nováková, Adam Černý", lecturers=[novakova, cerny])
    staff = organiser_client(app)
    page = staff.get(f"/sprava/terminy/novy?z={source.id}").get_data(as_text=True)
    ticked = [int(i) for i, checked, _ in offered_accounts(page) if checked]
    assert sorted(ticked) == sorted([novakova.id, cerny.id])
    # The browser sends the form as it is shown, the accounts ticked.
    response = post_form(staff, f"/sprava/terminy/novy?z={source.id}", term_form(
        starts_at=local_input(source.starts_at + timedelta(days=7)),
        ends_at=local_input(source.ends_at + timedelta(days=7)), lecturer_ids=ticked))
    assert response.status_code == 302
    copy = db.session.scalars(select(Term).where(Term.id != source.id)).one()
    assert sorted(user.id for user in copy.lecturers) == sorted([novakova.id, cerny.id])
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == copy.id,
                                                        AuditEntry.action == "term.created")).one()
    assert entry.data["copied_from"] == source.id
    assert entry.data["lecturers"] == ("Adam Černý (adam.cerny@lektori.test), "
                                       "Mgr. Eva Nováková (eva.novakova@lektori.test)")


# --- existing terms: the migration links by exact name only ----------------------------------

BEFORE_LINKS = "b02e25988769"  # the revision before term_lecturers


def test_the_migration_links_existing_terms_to_accounts_of_exactly_that_name(app):
    offer_id = offer().id  # read with today's model, before the schema goes back
    db.session.rollback()  # and let go of the table, which the downgrade alters
    downgrade(revision=BEFORE_LINKS)
    assert "term_lecturers" not in inspect(db.engine).get_table_names()
    accounts = [
        ("eva.nova@migrace.test", "Eva Nová", "lecturer", True),
        ("eva.novakova@migrace.test", "Eva Nováková", "lecturer", True),
        ("zdenka.1@migrace.test", "Zdeňka Stejná", "lecturer", True),  # two accounts of one name
        ("zdenka.2@migrace.test", "Zdeňka Stejná", "lecturer", True),
        ("karel@migrace.test", "Karel Vypnutý", "lecturer", False),
        ("olga@migrace.test", "Olga Organizátorka", "organiser", True),
    ]
    texts = {
        "exact": "Eva Nováková",
        "listed": "eva  NOVÁ, Jan Druhý",
        "with a": "Petr Dvořák a Eva Nováková",
        "titled": "Mgr. Eva Nováková",
        "longer surname": "Eva Nováková-Dlouhá",
        "shared name": "Zdeňka Stejná",
        "deactivated": "Karel Vypnutý",
        "organiser": "Olga Organizátorka",
    }
    try:
        with db.engine.begin() as connection:
            now = utcnow() if connection.dialect.name == "postgresql" else utcnow().replace(tzinfo=None)
            for email, name, role, active in accounts:
                connection.execute(text(
                    "INSERT INTO users (email, name, role, active, created_at, session_nonce) "
                    "VALUES (:email, :name, :role, :active, :now, 'x')"),
                    {"email": email, "name": name, "role": role, "active": active, "now": now})
            term_ids = {}
            for case, lecturer in texts.items():
                term_ids[case] = connection.execute(text(
                    "INSERT INTO terms (offer_id, starts_at, ends_at, form, capacity, lecturer, state, public, "
                    "sequence, created_at, updated_at) VALUES (:offer, :now, :now, 'online', 10, :lecturer, "
                    "'scheduled', :public, 0, :now, :now) RETURNING id"),
                    {"offer": offer_id, "now": now, "lecturer": lecturer, "public": True}).scalar_one()
        upgrade()
        db.session.rollback()  # the session's read began before the upgrade (on SQLite a snapshot without it)
        names = dict(db.session.execute(select(User.id, User.name)).all())
        linked = {}
        for term_id, user_id in db.session.execute(select(term_lecturers)).all():
            linked.setdefault(term_id, set()).add(names[user_id])
        assert {case: linked[term_id] for case, term_id in term_ids.items() if term_id in linked} == {
            "exact": {"Eva Nováková"},
            "listed": {"Eva Nová"},
            "with a": {"Eva Nováková"},
        }
    finally:
        upgrade()
        empty_tables()
        db.session.execute(delete(User).where(User.email.in_([email for email, *_ in accounts])))
        db.session.commit()


def test_the_service_links_only_active_lecturer_accounts_whoever_calls_it(app, lecturers):
    """The form offers only those; the rule is the service's, for every caller."""
    novakova, _, _, deactivated, organiser_account = lecturers
    data = TermData.of(make_term())
    for refused in (organiser_account.id, deactivated.id, 2**40, -1):
        data.lecturer_ids = (novakova.id, refused)
        with pytest.raises(TermError) as error:
            terms.create_term(data, actor=None)
        assert (error.value.message, error.value.field) == ("Vyberte lektorské účty ze seznamu.", "lecturer_ids")
    data.lecturer_ids = (novakova.id,)
    assert [user.id for user in terms.create_term(data, actor=None).lecturers] == [novakova.id]
