"""The catalogue edited in the back office: an organiser changes an offer's texts as a draft,
previews it as the public page, publishes it, sees every version with what changed, restores an
older one, withdraws a workshop that has terms, adds a new one; `flask seed` keeps all of it."""
import json
import re

import pytest
from sqlalchemy import select

from trainings.catalogue.seed import seed_all
from trainings.extensions import db
from trainings.models import AuditEntry, Offer, OfferKind, OfferRevision, OfferStatus, StaffRole

from .helpers import field_error, form_data, make_term, offer
from .staff_helpers import browser, organiser_client, session_token, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

def planned_workshop() -> Offer:
    found = db.session.scalars(select(Offer).where(
        Offer.kind == OfferKind.WORKSHOP, Offer.status == OfferStatus.PLANNED).order_by(Offer.position)).first()
    return found


def edit_data(item: Offer, client, **changes) -> dict:
    data = {"csrf_token": client.token, "title": item.title, "aliases": "\n".join(item.aliases or []), "status": item.status.value if item.status else "",
            "forms": list(item.forms or []), "period": item.period or "", "audience": item.audience or "",
            "summary": item.summary or "", "description": item.description or "",
            "prerequisite_hint": item.prerequisite_hint or ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def html(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    """The page's text without tags, spaces collapsed, for reading what a person sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def publish(client, item):
    return client.post(f"/sprava/nabidka/{item.id}/zverejnit", data={"csrf_token": client.token})


def test_a_draft_changes_nothing_public_until_published(app):
    client, public = organiser_client(app), app.test_client()
    item = planned_workshop()
    old_description = item.description
    response = client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(
        item, client, status="running", description="Nový popis workshopu pro OSPOD.", period="podzim 2027"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sprava/nabidka/{item.id}/nahled")

    # The draft is shown through the public page's own template, with the publish button.
    preview = client.get(f"/sprava/nabidka/{item.id}/nahled")
    assert preview.status_code == 200
    assert "Nový popis workshopu pro OSPOD." in html(preview) and "Zveřejnit" in html(preview)
    assert "Drobečková navigace" in html(preview)  # the public page's breadcrumbs

    # Public page and API still show the published text.
    page = public.get(f"/nabidka/{item.slug}")
    assert "Nový popis workshopu pro OSPOD." not in html(page) and "Plánovaný workshop" in html(page)
    api = json.loads(public.get(f"/api/v1/offers/{item.slug}").get_data(as_text=True))
    assert api["status"] == "planned"

    assert publish(client, item).status_code == 302
    page = public.get(f"/nabidka/{item.slug}")
    assert "Nový popis workshopu pro OSPOD." in html(page) and "Plánovaný workshop" not in html(page)
    assert old_description.splitlines()[0][:40] not in html(page)
    api = json.loads(public.get(f"/api/v1/offers/{item.slug}").get_data(as_text=True))
    assert api["status"] == "running" and api["planned_period"] == "podzim 2027"
    assert item.slug in [o["slug"] for o in json.loads(public.get("/api/v1/offers?status=running").get_data(
        as_text=True))["items"]]


@pytest.mark.parametrize("kind", [OfferKind.SUPPORT, OfferKind.REGION_SUPPORT, OfferKind.TRAINING])
def test_every_kind_is_previewed_on_its_public_page_before_it_is_published(app, kind):
    client, public = organiser_client(app), app.test_client()
    item = db.session.scalars(select(Offer).where(Offer.kind == kind).order_by(Offer.position)).first()
    response = client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(
        item, client, audience="Pracovníci OSPOD celého kraje."))
    assert response.status_code == 302
    preview = client.get(f"/sprava/nabidka/{item.id}/nahled")
    assert preview.status_code == 200 and "Pracovníci OSPOD celého kraje." in html(preview)
    assert "Pro koho Předtím" not in text(preview) and "Pro koho" in text(preview)
    public_page = {OfferKind.SUPPORT: "/metodicka-podpora", OfferKind.REGION_SUPPORT: "/nabidka-pro-kraje",
                   OfferKind.TRAINING: f"/nabidka/{item.slug}"}[kind]
    assert "Pracovníci OSPOD celého kraje." not in html(public.get(public_page))
    publish(client, item)
    assert "Pracovníci OSPOD celého kraje." in html(public.get(public_page)) or kind == OfferKind.REGION_SUPPORT
    db.session.expire_all()
    assert db.session.get(Offer, item.id).audience == "Pracovníci OSPOD celého kraje."


def test_history_shows_each_change_field_by_field_in_czech_and_restores_a_version(app):
    client = organiser_client(app)
    item = planned_workshop()
    client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(
        item, client, status="running", period="", summary="Krátce: nové shrnutí."))
    publish(client, item)

    page = text(client.get(f"/sprava/nabidka/{item.id}/historie"))
    assert "Úprava · Ukázková organizátorka" in page
    assert "Stav plánovaný probíhající" in page
    assert "Shrnutí (prázdné) Krátce: rodina jako systém." in page or "Krátce: nové shrnutí." in page
    assert "Původní text katalogu · katalog SPOD4" in page
    baseline = db.session.scalars(select(OfferRevision).where(
        OfferRevision.offer_id == item.id, OfferRevision.action == "baseline")).one()

    response = client.post(f"/sprava/nabidka/{item.id}/verze/{baseline.id}/obnovit",
                           data={"csrf_token": client.token})
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(Offer, item.id)
    assert item.status == OfferStatus.PLANNED and item.summary == baseline.values["summary"]
    restored = db.session.scalars(select(OfferRevision).where(
        OfferRevision.offer_id == item.id).order_by(OfferRevision.id.desc())).first()
    assert restored.action == "restore" and restored.restored_from_id == baseline.id
    assert restored.changes["status"] == ["running", "planned"]
    page = text(client.get(f"/sprava/nabidka/{item.id}/historie"))
    assert "Obnovení starší verze ze dne" in page
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "offers", AuditEntry.object_id == item.id)).all()
    assert actions.count("offer.published") == 2

    # The version shown now cannot be "restored" again: a Czech message, no new revision.
    again = client.post(f"/sprava/nabidka/{item.id}/verze/{restored.id}/obnovit",
                        data={"csrf_token": client.token}, follow_redirects=True)
    assert "Tato verze je právě zveřejněná." in html(again)


def test_flask_seed_again_keeps_what_staff_changed(app):
    client = organiser_client(app)
    item = planned_workshop()
    client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(item, client, title="Plánovaný workshop – nový název"))
    publish(client, item)
    untouched = offer("od-analyzy-k-tvorbe-ipod")
    untouched_title = untouched.title

    seed_all()
    db.session.expire_all()
    assert db.session.get(Offer, item.id).title == "Plánovaný workshop – nový název"
    assert db.session.get(Offer, untouched.id).title == untouched_title
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Offer, item.id).title == "Plánovaný workshop – nový název"


def test_a_renamed_workshop_keeps_its_address(app):
    client, public = organiser_client(app), app.test_client()
    item = offer("od-analyzy-k-tvorbe-ipod")
    old_address = f"/nabidka/{item.slug}"
    client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(item, client, title="IPOD od analýzy po plán"))
    publish(client, item)
    page = public.get(old_address)
    assert page.status_code == 200 and "<h1>IPOD od analýzy po plán</h1>" in html(page)
    api = json.loads(public.get(f"/api/v1/offers/{item.slug}").get_data(as_text=True))
    assert api["title"] == "IPOD od analýzy po plán" and api["url"].endswith(old_address)


def test_a_withdrawn_workshop_leaves_the_catalogue_and_sign_up_but_its_terms_stay_valid(app):
    client, public = organiser_client(app), app.test_client()
    term = make_term()
    registration = sign_up(term, 1)
    item = term.offer
    assert item.title in html(public.get("/"))

    response = client.post(f"/sprava/nabidka/{item.id}/stahnout", data={"csrf_token": client.token})
    assert response.status_code == 302
    assert item.title not in html(public.get("/"))
    assert public.get(f"/nabidka/{item.slug}").status_code == 404
    assert public.get(f"/api/v1/offers/{item.slug}").status_code == 404
    api_terms = json.loads(public.get("/api/v1/terms").get_data(as_text=True))
    assert term.id not in [t["id"] for t in api_terms["items"]]
    # Nobody new signs up; the form says so instead of offering itself.
    form = public.get(f"/termin/{term.id}/prihlaska")
    assert "Přihlašování na tento termín je uzavřené." in html(form)
    refused = public.post(f"/termin/{term.id}/prihlaska", data=form_data(csrf_token=session_token(public)))
    assert refused.status_code == 409 and "Přihlašování na tento termín je uzavřené." in html(refused)
    # What refers to it stays: the term's feed, the staff term page, the registration's page.
    assert public.get(f"/nabidka/{item.slug}/kalendar.ics").status_code == 200
    assert client.get(f"/sprava/terminy/{term.id}").status_code == 200
    assert client.get(f"/sprava/prihlasky/{registration.id}").status_code == 200
    # And back into the catalogue.
    client.post(f"/sprava/nabidka/{item.id}/zaradit", data={"csrf_token": client.token})
    assert item.title in html(public.get("/"))


def test_a_new_workshop_is_outside_the_catalogue_until_published_and_put_in(app):
    client, public = organiser_client(app), app.test_client()
    response = client.post("/sprava/nabidka/novy-workshop", data={
        "csrf_token": client.token, "title": "Nový workshop – Dítě v řízení", "status": "planned",
        "forms": ["online"], "period": "jaro 2027", "summary": "Jak dítě provést řízením."})
    assert response.status_code == 302
    created = db.session.scalars(select(Offer).where(Offer.title == "Nový workshop – Dítě v řízení")).one()
    assert created.slug == "novy-workshop-dite-v-rizeni"
    assert public.get("/nabidka/novy-workshop-dite-v-rizeni").status_code == 404
    refused = client.post(f"/sprava/nabidka/{created.id}/zaradit", data={"csrf_token": client.token},
                          follow_redirects=True)
    assert "Nový workshop nejdřív zveřejněte" in html(refused)
    assert publish(client, created).status_code == 302
    client.post(f"/sprava/nabidka/{created.id}/zaradit", data={"csrf_token": client.token})
    page = public.get("/nabidka/novy-workshop-dite-v-rizeni")
    assert page.status_code == 200 and "Jak dítě provést řízením." not in html(page)  # summary: catalogue list
    assert "Jak dítě provést řízením." in html(public.get("/"))


def test_bad_input_is_refused_next_to_the_field_with_what_was_typed_kept(app):
    client = organiser_client(app)
    item = planned_workshop()
    response = client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(
        item, client, title="  ", status=None, period="x" * 101, description="Můj rozepsaný popis."))
    assert response.status_code == 422
    page = html(response)
    assert field_error(page, "title") == "Vyplňte prosím název."
    assert field_error(page, "status") == "Vyberte, zda workshop probíhá, nebo je plánovaný."
    assert field_error(page, "period") == "Nejvýše 100 znaků."
    assert "Můj rozepsaný popis." in page
    assert db.session.scalar(select(OfferRevision.id).where(OfferRevision.offer_id == item.id)) is None
    crafted = client.post(f"/sprava/nabidka/{item.id}/upravit", data=edit_data(item, client, forms=["dopisem"]))
    assert crafted.status_code == 422 and field_error(html(crafted), "forms") == "Vyberte formu ze seznamu."
    # Nothing to publish, an unknown revision or offer: a message or a 404, never a 500.
    assert client.post(f"/sprava/nabidka/{item.id}/zverejnit", data={"csrf_token": client.token},
                       follow_redirects=True).status_code == 200
    assert client.post(f"/sprava/nabidka/{item.id}/verze/999999/obnovit",
                       data={"csrf_token": client.token}).status_code == 404
    assert client.get("/sprava/nabidka/99999999999/upravit").status_code == 404


@pytest.mark.parametrize("role", [StaffRole.COORDINATOR, StaffRole.LECTURER])
def test_coordinators_and_lecturers_may_not_edit_the_catalogue(app, objects, role):
    from .staff_helpers import CREATED

    someone = browser(app, CREATED.get(role, "svetluse.kotrcova@mpsv.gov.cz"), role)
    item = planned_workshop()
    for url in ("/sprava/nabidka/", f"/sprava/nabidka/{item.id}/upravit", f"/sprava/nabidka/{item.id}/historie"):
        assert someone.get(url).status_code == 403, url
    posted = someone.post(f"/sprava/nabidka/{item.id}/stahnout", data={"csrf_token": someone.token})
    assert posted.status_code == 403
    db.session.expire_all()
    assert db.session.get(Offer, item.id).withdrawn_at is None
    # The organiser's menu leads there; theirs does not.
    assert "Katalog nabídky" not in html(someone.get("/sprava/"))
    assert "Katalog nabídky" in html(organiser_client(app).get("/sprava/"))


def test_other_names_are_edited_with_the_title_and_link_other_offers_texts(app):
    """The documents call one workshop by two names; the organiser adds a third. It shows on the
    workshop's page, in its history, and a mention in another offer's text links to it, until the
    workshop is withdrawn."""
    client, public = organiser_client(app), app.test_client()
    krok = offer("vyhodnocovani-a-planovani-krok-za-krokem")
    assert krok.aliases == ["Vyhodnocování a IPOD Krok za krokem"]  # from the catalogue file
    form = html(client.get(f"/sprava/nabidka/{krok.id}/upravit"))
    assert "Vyhodnocování a IPOD Krok za krokem</textarea>" in form
    client.post(f"/sprava/nabidka/{krok.id}/upravit", data=edit_data(
        krok, client, aliases="Vyhodnocování a IPOD Krok za krokem\n  Krok   za krokem v praxi \n\nKrok za krokem v praxi"))
    assert publish(client, krok).status_code == 302
    assert fresh_offer(krok.slug).aliases == ["Vyhodnocování a IPOD Krok za krokem", "Krok za krokem v praxi"]
    assert "„Vyhodnocování a IPOD Krok za krokem“, „Krok za krokem v praxi“" in text(public.get(f"/nabidka/{krok.slug}"))
    assert "další názvy" in text(client.get(f"/sprava/nabidka/{krok.id}/historie")).lower()

    ipod = offer("od-analyzy-k-tvorbe-ipod")
    client.post(f"/sprava/nabidka/{ipod.id}/upravit", data=edit_data(
        ipod, client, description="Navazuje na workshop Krok za krokem v praxi."))
    assert publish(client, ipod).status_code == 302
    page = html(public.get(f"/nabidka/{ipod.slug}"))
    assert f'<a href="/nabidka/{krok.slug}">Krok za krokem v praxi</a>' in page

    client.post(f"/sprava/nabidka/{krok.id}/stahnout", data={"csrf_token": client.token})
    page = html(public.get(f"/nabidka/{ipod.slug}"))
    assert "Krok za krokem v praxi" in page and f'href="/nabidka/{krok.slug}"' not in page  # no link to a 404


def test_flask_seed_fills_other_names_only_where_staff_have_not_edited(app):
    client = organiser_client(app)
    krok = offer("vyhodnocovani-a-planovani-krok-za-krokem")
    client.post(f"/sprava/nabidka/{krok.id}/upravit", data=edit_data(krok, client, aliases=""))
    publish(client, krok)
    seed_all()
    assert fresh_offer(krok.slug).aliases == []


def fresh_offer(slug: str) -> Offer:
    db.session.expire_all()
    return db.session.scalars(select(Offer).where(Offer.slug == slug)).one()


def test_a_withdrawn_workshop_is_not_offered_for_a_new_term_but_its_terms_keep_it(app):
    client = organiser_client(app)
    term = make_term()
    workshop = term.offer

    def workshop_choices(url):
        select_ = re.search(r'<select[^>]*name="offer_id".*?</select>', html(client.get(url)), re.S).group(0)
        return re.findall(r'<option([^>]*)>([^<]*)</option>', select_)

    assert any(f'value="{workshop.id}"' in attrs for attrs, _ in workshop_choices("/sprava/terminy/novy"))
    client.post(f"/sprava/nabidka/{workshop.id}/stahnout", data={"csrf_token": client.token})
    assert not any(f'value="{workshop.id}"' in attrs for attrs, _ in workshop_choices("/sprava/terminy/novy"))
    assert any(f'value="{workshop.id}"' in attrs and "selected" in attrs
               for attrs, _ in workshop_choices(f"/sprava/terminy/{term.id}/upravit"))
