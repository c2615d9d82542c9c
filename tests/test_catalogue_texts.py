"""What the catalogue says, as a reader of the two SPOD4 documents checks it: every text from the
documents (never a restated title), a planned period that has passed no longer promised, one
workshop under its two names, online terms without a venue, contacts that can be clicked.

Expected texts are copied by hand from the seeds (/work/shared/seeds/002_… and 004_…), not read
from catalogue.yaml, so a wrong transcription fails here.
"""
import re
from contextlib import contextmanager
from datetime import date

import pytest
import yaml

from trainings.catalogue.periods import PASSED, period_end, shown_period
from trainings.catalogue.seed import DATA_DIR
from trainings.extensions import db
from trainings.models import TermForm

from .helpers import make_term, offer, region

CATALOGUE = yaml.safe_load((DATA_DIR / "catalogue.yaml").read_text(encoding="utf-8"))

# Section B of seed 002, each bullet as the document prints it.
B_BULLETS = {
    "proskoleni-ospod-orp-v-aktualnich-tematech": (
        "Proškolení pracovníků OSPOD ORP v aktuálních tematických oblastech OSPOD (např. práce s IPOD, "
        "komunikace s rodinami a jejich motivace, identita dítěte a její podpora, základy vývojové psychologie, "
        "základy adiktologie a možnosti podpory dětí ohrožených závislostí, sociokulturní potřeby dětí, využití "
        "nástrojů SPOD, zapojování dítěte)."),
    "vycviky-rodicovske-kompetence": (
        "Cíleně zaměřené výcviky na práci s rodičovskými kompetencemi, primárně u rodičů dětí mladších 7 let, "
        "multioborové zaměření na účastníky z řad OSPOD, sociálních služeb a dalších, příprava odborného obsahu "
        "a proškolení."),
    "workshopy-vyhodnocovani-potreb-deti-do-7-let": (
        "Workshopy cílené na vyhodnocování potřeb dětí do 7 let a jejich rodin (adaptace stávajících, velmi "
        "úspěšných workshopů různých typů určených na práci se staršími dětmi)."),
    "proskoleni-kompetencni-model-nahradnich-rodicu": (
        "Proškolení v praktickém využití kompetenčního modelu náhradních rodičů: pro OSPOD, doprovázející "
        "organizace a pověřené osoby zajišťující přípravy, včetně tvorby podpůrného dokumentu na rozpoznání "
        "a popis 7 kompetencí."),
}


def _text(html: str) -> str:
    """The page as a reader sees it: tags dropped, entities of quotes undone, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


# --- 1. Section B: the document's text, linked to its page ----------------------------------


def test_section_b_shows_each_bullet_of_the_document_once_and_links_its_page(client):
    page = client.get("/").get_data(as_text=True)
    section = _section(page, "plosna")
    for slug, bullet in B_BULLETS.items():
        assert f'href="/nabidka/{slug}"' in section, slug
        title = offer(slug).title
        # The reader sees the document's words; the title is not repeated as the description.
        assert _text(section).count(title) == 1, title
    words = _text(section)
    assert "oblastech OSPOD – např. práce s IPOD, komunikace s rodinami" in words
    assert "adaptace stávajících, velmi úspěšných workshopů" in words
    assert "popis 7 kompetencí" in words


@pytest.mark.parametrize("slug", list(B_BULLETS))
def test_each_b_item_page_carries_the_bullet_of_the_document(client, slug):
    response = client.get(f"/nabidka/{slug}")
    assert response.status_code == 200
    assert B_BULLETS[slug] in _text(response.get_data(as_text=True))


def test_no_summary_is_a_restated_title_or_a_text_the_documents_do_not_have():
    for item in CATALOGUE["offers"]:
        summary = (item.get("summary") or "").rstrip(".").casefold()
        assert summary != item["title"].rstrip(".").casefold(), item["slug"]
    planned_without_text = next(o for o in CATALOGUE["offers"] if o["slug"] == "priprava-ditete-na-zmenu")
    # Seed 002 gives this workshop a title and a year only.
    assert planned_without_text.get("summary") is None and planned_without_text.get("description") is None


# --- 2. A planned period that has passed ------------------------------------------------------

PERIOD_ENDS = {
    "Podzim 2026": date(2026, 12, 21),
    "Léto 2026": date(2026, 9, 22),
    "Od září 2026": date(2026, 9, 30),
    "V roce 2027": date(2027, 12, 31),
    "Jaro 2027": date(2027, 6, 20),
    "Zima 2026": date(2027, 3, 20),
    "V březnu 2027": date(2027, 3, 31),
    "Do června 2027": date(2027, 6, 30),
    "Červenec 2027": date(2027, 7, 31),
    "2028": date(2028, 12, 31),
}


@pytest.mark.parametrize("text", list(PERIOD_ENDS))
def test_period_forms_end_on_the_last_day_they_describe(text):
    assert period_end(text) == PERIOD_ENDS[text]


def test_every_period_in_the_catalogue_is_understood():
    periods = {o["period"] for o in CATALOGUE["offers"] if o.get("period")}
    assert periods == {"Podzim 2026", "Od září 2026", "V roce 2027", "Léto 2026"}
    for text in periods:
        assert period_end(text) is not None, text


def test_unknown_period_forms_stay_as_written():
    for text in ("Po dohodě", "1. pololetí 2027", "Podzim", ""):
        assert period_end(text) is None
        assert shown_period(text, today=date(2099, 1, 1)) == (text or None)


def test_a_passed_period_reads_termin_bude_upresnen_from_the_next_day_in_prague():
    assert PASSED == "Termín bude upřesněn"
    assert shown_period("Léto 2026", today=date(2026, 9, 22)) == "Léto 2026"
    assert shown_period("Léto 2026", today=date(2026, 9, 23)) == PASSED
    # The day of the issue: 26. 11. 2026.
    day = date(2026, 11, 26)
    assert [shown_period(p, today=day) for p in ("Léto 2026", "Od září 2026", "Podzim 2026", "V roce 2027")] == [
        PASSED, PASSED, "Podzim 2026", "V roce 2027"]
    assert shown_period(None, today=day) is None


@contextmanager
def _period(slug, text):
    """Give a planned workshop another period for one test (the catalogue rows outlive tests)."""
    item = offer(slug)
    before, item.period = item.period, text
    db.session.commit()
    try:
        yield item
    finally:
        item.period = before
        db.session.commit()


def test_home_and_workshop_page_no_longer_promise_a_passed_period(client):
    with _period("deti-v-ustavni-peci", "Léto 2020"), _period("syndrom-can", "Podzim 2099"):
        home = _text(client.get("/").get_data(as_text=True))
        page = _text(client.get("/nabidka/deti-v-ustavni-peci").get_data(as_text=True))
        api = client.get("/api/v1/offers/deti-v-ustavni-peci").get_json()
        future = _text(client.get("/nabidka/syndrom-can").get_data(as_text=True))
    assert "Léto 2020" not in home and "Léto 2020" not in page
    assert "Plánovaný workshop · Termín bude upřesněn" in page
    assert "Podzim 2099" in home and "Plánovaný workshop · Podzim 2099" in future
    # The API says what the page says and keeps the document's period beside it.
    assert (api["period"], api["planned_period"]) == ("Termín bude upřesněn", "Léto 2020")


def test_planned_workshop_descriptions_do_not_repeat_the_period():
    """The period is shown once, through the rule; a copy in the description would go stale."""
    for item in CATALOGUE["offers"]:
        if item.get("period"):
            assert item["period"] not in (item.get("description") or ""), item["slug"]


# --- 3. One workshop, two names --------------------------------------------------------------


def test_the_ipod_page_links_the_other_name_of_krok_za_krokem_to_that_workshop(client):
    page = client.get("/nabidka/od-analyzy-k-tvorbe-ipod").get_data(as_text=True)
    link = re.findall(r'<a href="([^"]+)">Vyhodnocování a IPOD Krok za krokem</a>', page)
    assert link and set(link) == {"/nabidka/vyhodnocovani-a-planovani-krok-za-krokem"}
    # Every mention, in the description and in the recommended order, is the link.
    assert _text(page).count("Vyhodnocování a IPOD Krok za krokem") == len(link) == 3
    target = client.get(link[0])
    assert target.status_code == 200
    text = _text(target.get_data(as_text=True))
    assert "Vyhodnocování a plánování Krok za krokem" in text
    assert "také jako „Vyhodnocování a IPOD Krok za krokem“" in text


def test_every_other_name_belongs_to_one_workshop_and_no_page_links_itself(client):
    names = {}
    for item in CATALOGUE["offers"]:
        for name in [item["title"], *item.get("aliases", [])]:
            assert name not in names, name
            names[name] = item["slug"]
    page = client.get("/nabidka/vyhodnocovani-a-planovani-krok-za-krokem").get_data(as_text=True)
    assert 'href="/nabidka/vyhodnocovani-a-planovani-krok-za-krokem"' not in page


def test_linked_names_keep_the_rest_of_the_text_escaped(app):
    from trainings.catalogue.texts import link_offer_names

    with app.test_request_context():
        html = str(link_offer_names("<b>Vyhodnocování a IPOD Krok za krokem</b> & „Rodičovské spory“", None))
    assert html.startswith("&lt;b&gt;<a href=\"/nabidka/vyhodnocovani-a-planovani-krok-za-krokem\">")
    assert "&lt;/b&gt; &amp; „<a href=\"/nabidka/rodicovske-spory\">Rodičovské spory</a>“" in html


# --- 4. Online terms ----------------------------------------------------------------------------


def test_an_online_term_says_online_once_and_where_the_link_comes_from(client):
    make_term(capacity=12)
    make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Krajský úřad, Pardubice")
    page = client.get("/nabidka/od-analyzy-k-tvorbe-ipod").get_data(as_text=True)
    cells = re.findall(r'<td data-label="(Forma|Místo)">(.*?)</td>', page, re.S)
    rows = list(zip(cells[::2], cells[1::2]))
    assert [(form[1], place[1].strip()) for form, place in rows] == [
        ("online", "Online setkání, odkaz pošleme po potvrzení přihlášky"),
        ("prezenčně", "Krajský úřad, Pardubice (Pardubický kraj)"),
    ]


# --- 6. Contacts ---------------------------------------------------------------------------------


def test_contacts_link_the_websites_and_e_mails(client):
    contacts = _section(client.get("/").get_data(as_text=True), "kontakty")
    assert '<a href="https://pravonadetstvi.cz">pravonadetstvi.cz</a>' in contacts
    assert '<a href="https://budinpestoun.cz">budinpestoun.cz</a>' in contacts
    assert '<a href="mailto:jitka.filipova@mpsv.gov.cz">jitka.filipova@mpsv.gov.cz</a>' in contacts
    assert '<a href="mailto:kristyna.kotalova@mpsv.gov.cz">kristyna.kotalova@mpsv.gov.cz</a>' in contacts


# --- 7. Favicon ------------------------------------------------------------------------------------


def test_the_site_has_an_icon_at_favicon_ico_and_in_the_page_head(client):
    import io

    from PIL import Image

    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    icon = Image.open(io.BytesIO(response.data))
    assert icon.format == "ICO" and {(16, 16), (32, 32)} <= set(icon.info["sizes"])
    head = client.get("/").get_data(as_text=True).split("</head>")[0]
    svg_href = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', head).group(1)
    svg = client.get(svg_href)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<text" not in svg.data  # drawn as paths: the same mark whatever fonts the visitor has
