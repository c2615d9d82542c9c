"""The SPOD4 offer online: everything named in the two documents, findable."""
from datetime import timedelta

import yaml
from sqlalchemy import func, select

from trainings.catalogue import views as catalogue_views
from trainings.catalogue.seed import DATA_DIR, seed_all
from trainings.catalogue.views import TERMS_PER_WORKSHOP
from trainings.extensions import db
from trainings.models import Offer, OfferKind, OfferStatus, Orp, Region, StaffRole, User, utcnow

from .helpers import make_term, orp, region
from .helpers import csrf as _csrf

RUNNING = [
    "Vyhodnocování a plánování Krok za krokem",
    "Potřeby dětí v praxi OSPOD: od pozorování k plánu práce",
    "Workshopy „Na klíč“",
    "Od analýzy k tvorbě IPOD",
    "Rodičovské spory",
    "Děti s potřebami v oblasti chování",
]
PLANNED = {
    "Vyhodnocování situace dětí v NRP a PPPD v návaznosti na kompetenční model": "Podzim 2026",
    "Management případu ohroženého dítěte / ohrožené rodiny": "Od září 2026",
    "Závislosti, rizikové chování a vyhodnocování rizik": "Podzim 2026",
    "Děti v ústavní péči": "Léto 2026",
    "Děti s postižením": "Podzim 2026",
    "Syndrom CAN": "Podzim 2026",
    "Příprava dítěte na změnu": "V roce 2027",
}


def test_seed_loads_every_workshop_support_item_and_kraj_item(app):
    offers = db.session.scalars(select(Offer).order_by(Offer.position)).all()
    running = [o.title for o in offers if o.status == OfferStatus.RUNNING]
    planned = {o.title: o.period for o in offers if o.status == OfferStatus.PLANNED}
    assert running == RUNNING
    assert planned == PLANNED
    assert [o.code for o in offers if o.kind == OfferKind.SUPPORT] == [f"A{i}" for i in range(1, 8)]
    kraj_items = [(o.code, o.group) for o in offers if o.kind == OfferKind.REGION_SUPPORT]
    assert [c for c, _ in kraj_items] == [str(i) for i in range(1, 13)]
    assert [g for _, g in kraj_items] == list("AAAAABBBBCCC")
    assert len([o for o in offers if o.kind == OfferKind.TRAINING]) == 4


def test_seed_loads_kraje_orp_prague_districts_and_coordinators(app):
    assert db.session.scalar(select(func.count(Region.id))) == 14
    praha = region("CZ010")
    assert db.session.scalar(select(func.count(Orp.id)).where(Orp.region_id != praha.id)) == 205
    assert sorted(o.name for o in praha.orps) == sorted(f"Praha {i}" for i in range(1, 23))
    assert orp("Litomyšl").region.name == "Pardubický kraj"
    pardubice = region("CZ053")
    assert pardubice.coordinator.name == "Světluše Kotrčová"
    assert pardubice.coordinator.role == StaffRole.COORDINATOR
    assert pardubice.coordinator.password_hash is None
    # One person may cover two kraje.
    majerova = db.session.scalars(select(User).where(User.email == "iveta.majerova1@mpsv.gov.cz")).one()
    assert sorted(r.name for r in majerova.regions) == ["Královéhradecký kraj", "Liberecký kraj"]


def test_seed_twice_changes_nothing(app):
    def snapshot():
        return (
            [(o.slug, o.title, o.description) for o in db.session.scalars(select(Offer).order_by(Offer.id))],
            db.session.scalar(select(func.count(Orp.id))),
            db.session.scalar(select(func.count(User.id))),
        )

    before = snapshot()
    seed_all()
    assert snapshot() == before


def test_catalogue_data_file_is_readable_yaml(app):
    doc = yaml.safe_load((DATA_DIR / "catalogue.yaml").read_text(encoding="utf-8"))
    assert doc["project"]["reg_no"] == "CZ.03.02.02/00/25_110/0006346"


def test_home_page_shows_the_sections_of_the_offer(client):
    page = client.get("/").get_data(as_text=True)
    for title in RUNNING + list(PLANNED):
        assert title.replace("„", "&#34;") in page or title in page
    assert "Plošná nabídka" in page
    assert "Podzim 2026" in page
    assert "jitka.filipova@mpsv.gov.cz" in page


def test_support_and_kraj_pages_explain_every_item(client):
    support = client.get("/metodicka-podpora").get_data(as_text=True)
    for code in range(1, 8):
        assert f"A{code}." in support
    kraje = client.get("/nabidka-pro-kraje").get_data(as_text=True)
    assert "12. Posilování mezikrajské spolupráce" in kraje
    assert "Světluše Kotrčová" in kraje and "svetluse.kotrcova@mpsv.gov.cz" in kraje


def test_the_support_page_names_one_route_for_a_request_and_the_area_contact_for_questions(client):
    support = " ".join(client.get("/metodicka-podpora").get_data(as_text=True).split())
    # The form's request reaches the kraj's coordination (requests.service), so that is who arranges it;
    # the area's contact is named for questions, not as a second place to ask.
    assert "Žádost dostane koordinace MPSV pro váš kraj, která s vámi podporu domluví" in support
    assert "domlouvá ji oblast metodické podpory" not in support
    assert ("Obecné dotazy k metodické podpoře zodpoví oblast metodické podpory MPSV: Mgr. Kristýna Jůzová "
            'Kotalová, <a href="mailto:kristyna.kotalova@mpsv.gov.cz">') in support


def test_workshop_page_shows_terms_in_czech_with_free_seats_and_the_prerequisite_hint(client):
    term = make_term(capacity=12)
    page = client.get("/nabidka/od-analyzy-k-tvorbe-ipod").get_data(as_text=True)
    assert "(není podmínkou)" in page
    assert "12 míst z 12" in page
    assert f"/termin/{term.id}/prihlaska" in page


def test_filters_narrow_terms_by_form_kraj_month_free_seats_and_text(client):
    from trainings.models import TermForm

    online = make_term()
    in_pardubice = make_term(slug="rodicovske-spory", form=TermForm.IN_PERSON, region=region("CZ053"),
                             venue="Krajský úřad, Pardubice")
    in_brno = make_term(slug="rodicovske-spory", form=TermForm.IN_PERSON, region=region("CZ064"),
                        venue="Krajský úřad, Brno")
    full = make_term(slug="deti-s-potrebami-v-oblasti-chovani", capacity=0)

    def term_links(query):
        page = client.get("/", query_string=query).get_data(as_text=True)
        return {t.id for t in (online, in_pardubice, in_brno, full) if f"/termin/{t.id}/prihlaska" in page}

    assert term_links({}) == {online.id, in_pardubice.id, in_brno.id, full.id}
    assert term_links({"form": "prezencni"}) == {in_pardubice.id, in_brno.id}
    # A kraj shows its prezenční terms and every online term.
    assert term_links({"kraj": region("CZ053").id}) == {online.id, in_pardubice.id, full.id}
    assert term_links({"volna": "y"}) == {online.id, in_pardubice.id, in_brno.id}
    assert term_links({"q": "rodicovske"}) == {in_pardubice.id, in_brno.id}
    month = online.starts_at.astimezone().strftime("%Y-%m")
    assert online.id in term_links({"mesic": month})


def test_filters_with_nonsense_values_still_show_the_page(client):
    response = client.get("/", query_string={"kraj": "abc", "mesic": "2026-99", "form": "<script>", "q": "x" * 500})
    assert response.status_code == 200


def test_planned_workshop_offers_an_interest_list(client):
    from trainings.models import InterestEntry

    page = client.get("/nabidka/syndrom-can").get_data(as_text=True)
    assert "Chci vědět, až bude termín" in page
    token = _csrf(page)
    response = client.post(
        "/nabidka/syndrom-can/zajem",
        data={"csrf_token": token, "email": "jana@mesto-litomysl.cz", "region": region("CZ053").id,
              "orp": orp("Litomyšl").id, "consent": "y"},
    )
    assert response.status_code == 302
    entry = db.session.scalars(select(InterestEntry)).one()
    assert (entry.email, entry.orp.name, entry.offer.title) == ("jana@mesto-litomysl.cz", "Litomyšl", "Syndrom CAN")


def test_interest_form_with_orp_from_another_kraj_is_refused_in_czech(client):
    page = client.get("/nabidka/syndrom-can").get_data(as_text=True)
    response = client.post(
        "/nabidka/syndrom-can/zajem",
        data={"csrf_token": _csrf(page), "email": "jana@example.cz", "region": region("CZ053").id,
              "orp": orp("Benešov").id, "consent": "y"},
    )
    assert response.status_code == 422
    assert "Vybraná ORP nepatří do zvoleného kraje." in response.get_data(as_text=True)
    assert 'value="jana@example.cz"' in response.get_data(as_text=True)


def test_a_planned_workshop_that_got_a_term_shows_it_on_the_home_page(client):
    term = make_term(slug="syndrom-can")
    for query in ({}, {"form": "online"}):
        page = client.get("/", query_string=query).get_data(as_text=True)
        assert f"/termin/{term.id}/prihlaska" in page


def test_the_catalogue_shows_the_next_few_terms_of_each_workshop_and_leads_to_the_rest(client):
    # A programme with years of terms: the home page stays short, the workshop's page has them all.
    terms = [make_term(starts_in=timedelta(days=10 + i)) for i in range(TERMS_PER_WORKSHOP + 3)]
    page = client.get("/").get_data(as_text=True)
    shown = [t for t in terms if f"/termin/{t.id}/prihlaska" in page]
    assert shown == terms[:TERMS_PER_WORKSHOP]  # the soonest first
    assert "najdete ještě 3 další termíny." in page
    assert 'href="/nabidka/od-analyzy-k-tvorbe-ipod">Na stránce workshopu</a>' in page
    workshop = client.get("/nabidka/od-analyzy-k-tvorbe-ipod").get_data(as_text=True)
    assert all(f"/termin/{t.id}/prihlaska" in workshop for t in terms)
    assert "Stránky termínů" not in workshop  # one page holds them


def test_the_limit_counts_only_terms_that_match_the_filter(client):
    open_terms = [make_term(starts_in=timedelta(days=20 + i)) for i in range(TERMS_PER_WORKSHOP + 1)]
    # Sooner, but full or past its deadline: the free-seats filter leaves them out before the limit.
    full = make_term(starts_in=timedelta(days=11), capacity=0)
    closed = make_term(starts_in=timedelta(days=12), registration_deadline=utcnow() - timedelta(hours=1))
    page = client.get("/", query_string={"volna": "y"}).get_data(as_text=True)
    assert [t for t in (full, closed, *open_terms) if f"/termin/{t.id}/prihlaska" in page] == \
        open_terms[:TERMS_PER_WORKSHOP]
    assert "najdete ještě 1 další termín." in page


def test_a_workshop_with_many_terms_shows_them_a_page_at_a_time(client, monkeypatch):
    monkeypatch.setattr(catalogue_views, "TERMS_PER_PAGE", 2)
    terms = [make_term(starts_in=timedelta(days=10 + i)) for i in range(5)]

    def shown(query):
        page = client.get("/nabidka/od-analyzy-k-tvorbe-ipod", query_string=query).get_data(as_text=True)
        return [t for t in terms if f"/termin/{t.id}/prihlaska" in page], page

    first, page = shown({})
    assert first == terms[:2] and "Strana 1 z 3" in page and "1–2 z 5" in page
    assert shown({"strana": "3"})[0] == terms[4:]
    assert shown({"strana": "x"})[0] == first
