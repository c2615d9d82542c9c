"""The project's facts and contacts edited in the back office: an organiser changes a contact,
the catalogue shows the new one at once, the history restores the catalogue's own; bad input
comes back in Czech next to its field; coordinators and lecturers are refused."""
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql

from trainings import project
from trainings.catalogue.seed import seed_all
from trainings.extensions import db
from trainings.models import AuditEntry, ProjectFactsVersion, StaffRole, Term

from .helpers import field_error, make_term
from .staff_helpers import browser, organiser_client

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def form_of(client, **changes) -> dict:
    """The form as the page fills it in, with `changes` typed over it."""
    page = html(client.get("/sprava/projekt/"))
    data = {"csrf_token": client.token}
    for name, value in re.findall(r'<input[^>]*name="([a-z_0-9]+)"[^>]*value="([^"]*)"', page):
        data[name] = value
    for name, value in re.findall(r'<textarea[^>]*name="([a-z_0-9]+)"[^>]*>\s*([^<]*)</textarea>', page):
        data[name] = value
    data.update(changes)
    return data


def test_an_edited_contact_is_shown_in_the_catalogue_and_the_first_version_restores(app):
    client, public = organiser_client(app), app.test_client()
    assert "jitka.filipova@mpsv.gov.cz" in html(public.get("/"))

    response = client.post("/sprava/projekt/", data=form_of(
        client, contact_0_name="Mgr. Alena Nová", contact_0_email="alena.nova@mpsv.gov.cz",
        contact_0_phone="+420 221 922 111"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/sprava/projekt/historie")

    catalogue = text(public.get("/"))
    assert "Mgr. Alena Nová (workshopy): alena.nova@mpsv.gov.cz , tel. +420 221 922 111" in catalogue
    assert "jitka.filipova@mpsv.gov.cz" not in catalogue
    assert "Mgr. Kristýna Jůzová Kotalová" in catalogue  # the other contact as it was
    # A training page names the contact for workshops, as do the e-mails and PDFs through project.py.
    assert "Informace podá Mgr. Alena Nová" in text(public.get("/nabidka/proskoleni-ospod-orp-v-aktualnich-tematech"))

    history = text(client.get("/sprava/projekt/historie"))
    assert "Úprava · Ukázková organizátorka" in history
    assert ("Kontakt 1 Mgr. Jitka Filipová, workshopy, jitka.filipova@mpsv.gov.cz "
            "Mgr. Alena Nová, workshopy, alena.nova@mpsv.gov.cz, +420 221 922 111") in history
    assert "Původní údaje z katalogu · katalog SPOD4" in history
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "project_facts.published")) == 1

    baseline = db.session.scalars(select(ProjectFactsVersion).where(ProjectFactsVersion.action == "baseline")).one()
    restored = client.post(f"/sprava/projekt/verze/{baseline.id}/obnovit", data={"csrf_token": client.token},
                           follow_redirects=True)
    assert "Verze je obnovená a zveřejněná." in html(restored)
    assert "Obnovení starší verze ze dne" in text(restored)
    catalogue = text(public.get("/"))
    assert "jitka.filipova@mpsv.gov.cz" in catalogue and "alena.nova@mpsv.gov.cz" not in catalogue

    # What is in force now cannot be "restored" again; an unknown version is a 404.
    latest = db.session.scalar(select(func.max(ProjectFactsVersion.id)))
    again = client.post(f"/sprava/projekt/verze/{latest}/obnovit", data={"csrf_token": client.token},
                        follow_redirects=True)
    assert "Tato verze je právě zveřejněná." in html(again)
    assert client.post("/sprava/projekt/verze/999999/obnovit", data={"csrf_token": client.token}).status_code == 404


def test_a_changed_period_reaches_every_page_and_seed_keeps_it(app):
    client, public = organiser_client(app), app.test_client()
    assert client.post("/sprava/projekt/", data=form_of(
        client, period="1. 1. 2026 – 31. 12. 2028", region_note="Podporu pro kraje domlouváme individuálně.")
    ).status_code == 302
    assert "1. 1. 2026 – 31. 12. 2028" in html(public.get("/"))  # the footer
    assert "Podporu pro kraje domlouváme individuálně." in html(public.get("/nabidka-pro-kraje"))
    seed_all()
    db.session.commit()
    assert project.facts()["period"] == "1. 1. 2026 – 31. 12. 2028"
    # Saving what is in force already is refused in words, and keeps no new version.
    count = db.session.scalar(select(func.count()).select_from(ProjectFactsVersion))
    same = client.post("/sprava/projekt/", data=form_of(client))
    assert same.status_code == 422 and "Údaje se od zveřejněných ničím neliší." in html(same)
    assert db.session.scalar(select(func.count()).select_from(ProjectFactsVersion)) == count


def test_bad_input_is_refused_next_to_the_field_with_what_was_typed_kept(app):
    client = organiser_client(app)
    response = client.post("/sprava/projekt/", data=form_of(
        client, contact_0_email="jitka.filipova(zavináč)mpsv", contact_1_name="",
        contact_2_name="Mgr. Petr Nový", contact_2_phone="linka 12", period="x" * 201))
    assert response.status_code == 422
    page = html(response)
    assert field_error(page, "contact_0_email") == "Zadejte platnou e-mailovou adresu, např. jana.novakova@mesto.cz."
    assert field_error(page, "contact_2_phone") == "Zadejte telefon číslicemi, např. +420 777 123 456."
    assert field_error(page, "period") == "Nejvýše 200 znaků."
    assert 'value="jitka.filipova(zavináč)mpsv"' in page and 'value="Mgr. Petr Nový"' in page
    # A row with a name but no topic or e-mail: the service says which field is missing.
    response = client.post("/sprava/projekt/", data=form_of(client, contact_2_name="Mgr. Petr Nový"))
    assert response.status_code == 422
    assert field_error(html(response), "contact_2_topic") == "Vyplňte prosím, pro co je kontaktem."
    everyone_removed = {f"contact_{row}_{name}": "" for row in range(6) for name in ("name", "topic", "email", "phone")}
    response = client.post("/sprava/projekt/", data=form_of(client, **everyone_removed))
    assert response.status_code == 422
    assert field_error(html(response), "contact_0_name") == "Uveďte prosím aspoň jeden kontakt."
    assert db.session.scalar(select(func.count()).select_from(ProjectFactsVersion)) == 0


@pytest.mark.parametrize("role", [StaffRole.COORDINATOR, StaffRole.LECTURER])
def test_coordinators_and_lecturers_may_not_edit_the_project_facts(app, objects, role):
    from .staff_helpers import CREATED

    someone = browser(app, CREATED.get(role, "svetluse.kotrcova@mpsv.gov.cz"), role)
    for url in ("/sprava/projekt/", "/sprava/projekt/historie"):
        assert someone.get(url).status_code == 403, url
    posted = someone.post("/sprava/projekt/", data={"csrf_token": someone.token, "contact_0_name": "X"})
    assert posted.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ProjectFactsVersion)) == 0


def test_a_failing_facts_check_leaves_the_page_it_is_read_for_whole(app, client):
    """The check for edited facts may fail on its own (here: its table is gone); the page that
    reads the facts still answers, from the file, and its own queries are not dragged down (on
    PostgreSQL a failed statement would abort the request's transaction)."""
    db.session.execute(sql("ALTER TABLE project_facts_versions RENAME TO project_facts_versions_away"))
    db.session.commit()
    try:
        project.forget_edited()
        term = make_term()  # the caller is in the middle of its own work when it reads the facts
        assert project.facts()["short_name"] == project.catalogue_document()["project"]["short_name"]
        assert db.session.scalar(select(func.count()).select_from(Term).where(Term.id == term.id)) == 1
        db.session.commit()
        for url in ("/", "/nabidka/od-analyzy-k-tvorbe-ipod", "/nabidka-pro-kraje"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert project.catalogue_document()["project"]["short_name"] in html(response)
    finally:
        db.session.rollback()
        db.session.execute(sql("ALTER TABLE project_facts_versions_away RENAME TO project_facts_versions"))
        db.session.commit()
        project.forget_edited()
