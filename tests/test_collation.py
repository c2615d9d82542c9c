"""Czech alphabetical order (ICU) for kraje, ORP and people, on SQLite and PostgreSQL alike:
"ch" after "h", "č ř š ž" after "c r s z", "Ú" with "U", and Prague's districts by number."""
import csv
import io
import random
import re
from pathlib import Path

from pypdf import PdfReader

from trainings.collation import czech_key, person_key, split_name
from trainings.exports import csv_export, pdf
from trainings.extensions import db
from trainings.models import EmployerType, Term
from trainings.places import regions_with_coordinators, regions_with_orps
from trainings.exports.roster import term_registrations
from trainings.reporting import Period, build_report
from trainings.timefmt import local

from .helpers import make_term
from .staff_helpers import move_to_past, organiser_client, sign_up

ORP_FILE = Path(__file__).resolve().parent.parent / "trainings" / "data" / "orp.csv"

# Written out by hand, as a Czech dictionary orders them.
CZECH_ORDER = [
    "Cvikov", "Čáslav", "Česká Lípa", "Česká Třebová", "Hlinsko", "Hodonín", "Cheb", "Chomutov", "Chrudim",
    "Ivančice", "Rakovník", "Rokycany", "Řevnice", "Říčany", "Sokolov", "Svitavy", "Šternberk", "Šumperk",
    "Tábor", "Uherské Hradiště", "Uherský Brod", "Ústí nad Labem", "Ústí nad Orlicí", "Valašské Meziříčí",
    "Zlín", "Znojmo", "Žamberk", "Žďár nad Sázavou",
]
PRAGUE = [f"Praha {n}" for n in range(1, 23)]

KRAJE = [
    "Hlavní město Praha", "Jihočeský kraj", "Jihomoravský kraj", "Karlovarský kraj", "Kraj Vysočina",
    "Královéhradecký kraj", "Liberecký kraj", "Moravskoslezský kraj", "Olomoucký kraj", "Pardubický kraj",
    "Plzeňský kraj", "Středočeský kraj", "Ústecký kraj", "Zlínský kraj",
]
PARDUBICKY = [
    "Česká Třebová", "Hlinsko", "Holice", "Chrudim", "Králíky", "Lanškroun", "Litomyšl", "Moravská Třebová",
    "Pardubice", "Polička", "Přelouč", "Svitavy", "Ústí nad Orlicí", "Vysoké Mýto", "Žamberk",
]

# By surname, then first names; titles left out, the surname is the last word.
PEOPLE_IN_ORDER = [
    "Adam Cibulka", "Petr Čech", "Marie Horáková", "Ondřej Chalupa", "Eva Nováková, DiS.", "Mgr. Jana Nováková",
    "Tomáš Růžička", "Zuzana Řezníčková", "Řehoř Šťastný", "Ivana Úlehlová", "Karel Urban", "Žofie Žáková",
]


def shuffled(items, seed=13):
    items = list(items)
    random.Random(seed).shuffle(items)
    assert items != sorted(items)  # a real shuffle, not the answer by chance
    return items


def test_czech_words_and_numbered_districts_sort_as_in_a_dictionary():
    expected = CZECH_ORDER[:10] + PRAGUE + CZECH_ORDER[10:]  # "Praha" between "Ivančice" and "Rakovník"
    assert sorted(shuffled(expected), key=czech_key) == expected
    # Code-point order, for contrast, gets all of this wrong.
    assert sorted(CZECH_ORDER) != CZECH_ORDER and sorted(PRAGUE) != PRAGUE


def test_people_sort_by_surname_then_first_names():
    assert split_name("Mgr. Jana Nováková, DiS.") == ("Nováková", "Jana")
    assert split_name("Ondřej Chalupa") == ("Chalupa", "Ondřej")
    assert split_name("Madonna") == ("Madonna", "")
    assert split_name("") == ("", "")
    assert sorted(shuffled(PEOPLE_IN_ORDER), key=person_key) == PEOPLE_IN_ORDER


def orp_order_by_the_statistical_office() -> dict[str, list[str]]:
    """ČSÚ numbered the ORP of each kraj alphabetically: their codes give the expected order
    without asking the code under test."""
    with ORP_FILE.open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda row: int(row["orp_code"]))
    expected: dict[str, list[str]] = {}
    for row in rows:
        expected.setdefault(row["region_name"], []).append(row["orp_name"])
    return expected


def test_kraje_and_the_orp_of_every_kraj_come_out_in_czech_order(app):
    places = regions_with_orps()
    assert [r.name for r in places] == KRAJE
    assert [r.name for r in regions_with_coordinators()] == KRAJE
    by_region = {r.name: [o.name for o in r.orps] for r in places}
    assert by_region["Pardubický kraj"] == PARDUBICKY
    assert by_region["Hlavní město Praha"] == PRAGUE
    expected = orp_order_by_the_statistical_office()
    assert len(expected) == 13
    for name, orps in expected.items():
        assert by_region[name] == orps, name


def option_texts(html: str, select_name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [text for value, text in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select) if value]


def test_the_pages_list_kraje_and_orp_in_czech_order(app):
    client = app.test_client()
    catalogue = client.get("/").get_data(as_text=True)
    assert option_texts(catalogue, "kraj") == KRAJE
    term = make_term()
    form = client.get(f"/termin/{term.id}/prihlaska").get_data(as_text=True)
    assert option_texts(form, "region") == KRAJE
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', form, re.S)
    assert [label for label, _ in groups] == KRAJE
    options = {label: re.findall(r">([^<]+)</option>", body) for label, body in groups}
    assert options["Pardubický kraj"] == PARDUBICKY and options["Hlavní město Praha"] == PRAGUE


def test_people_lists_sort_by_surname_in_czech_order(app):
    term = make_term(capacity=20)
    for i, name in enumerate(shuffled(PEOPLE_IN_ORDER)):
        sign_up(term, i, name=name)
    term = db.session.get(Term, term.id)
    assert [r.name for r in term_registrations(term.id)] == PEOPLE_IN_ORDER

    rows = list(csv.reader(io.StringIO(csv_export.participants_csv(term).decode("utf-8-sig")), delimiter=";"))
    assert [row[1] for row in rows[1:]] == PEOPLE_IN_ORDER

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.attendance_sheet_pdf(term))).pages)
    positions = [text.index(name) for name in PEOPLE_IN_ORDER]
    assert positions == sorted(positions)

    staff = organiser_client(app)
    for path in (f"/sprava/terminy/{term.id}/prihlasky", f"/sprava/terminy/{term.id}/prichody"):
        page = staff.get(path).get_data(as_text=True)
        positions = [page.index(name) for name in PEOPLE_IN_ORDER]
        assert positions == sorted(positions), path


def test_report_breakdowns_are_in_czech_order(app):
    term = make_term(capacity=20)
    for i, (region_code, orp_name) in enumerate([("CZ072", "Zlín"), ("CZ042", "Ústí nad Labem"),
                                                 ("CZ064", "Brno"), ("CZ031", "České Budějovice"),
                                                 ("CZ053", "Chrudim"), ("CZ053", "Hlinsko")]):
        sign_up(term, i, region_code=region_code, orp_name=orp_name, employer=EmployerType.OSPOD)
    term = move_to_past(term, days=1)  # a report counts terms that have started
    day = local(term.starts_at).date()
    report = build_report(Period(day, day))
    assert [r.label for r in report.by_region] == ["Jihočeský kraj", "Jihomoravský kraj", "Pardubický kraj",
                                                   "Ústecký kraj", "Zlínský kraj"]
    assert [r.label.split(" (")[0] for r in report.by_orp] == ["Brno", "České Budějovice", "Hlinsko", "Chrudim",
                                                              "Ústí nad Labem", "Zlín"]
