"""Kde jsme byli / bílá místa: the coordinator of Pardubický kraj sees, for this year, every ORP of
her kraj with the participants from it, the ones nobody came from marked in words, and the same
participants by month and by workshop, on the page and in the XLSX. Another kraj is not hers."""
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from trainings.coverage import coverage, coverage_for
from trainings.extensions import db
from trainings.models import EmployerType, StaffRole, Term, TermState
from trainings.timefmt import PRAGUE

from .helpers import held_on, make_term, region
from .staff_helpers import attend, browser, move_to_past, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

PARDUBICE = "svetluse.kotrcova@mpsv.gov.cz"  # the seeded coordinator of Pardubický kraj
BRNO = "silvie.pazderova@mpsv.gov.cz"  # of Jihomoravský kraj

# Pardubický kraj's 15 ORP in Czech order: "Ch" after "H", "Č" after "C", "Ř" after "R".
PARDUBICKY_ORP = ["Česká Třebová", "Hlinsko", "Holice", "Chrudim", "Králíky", "Lanškroun", "Litomyšl",
                  "Moravská Třebová", "Pardubice", "Polička", "Přelouč", "Svitavy", "Ústí nad Orlicí",
                  "Vysoké Mýto", "Žamberk"]


@pytest.fixture
def year(app):
    """A year of Pardubický kraj, as `coverage` sees it at its last noon.

    IPOD on 15 January: Litomyšl twice and Pardubice present, Hlinsko a no-show, one from Brno.
    Rodičovské spory on 3 March: Litomyšl, and one from the kraj who gave no ORP.
    IPOD at 00:30 on 1 January (still 31 December in UTC): Svitavy.
    IPOD at 23:30 on 31 December of last year: Chrudim (last year's, not counted).
    A cancelled IPOD in May: Polička (not counted).
    """
    y = datetime.now(PRAGUE).year
    plan = [
        ("od-analyzy-k-tvorbe-ipod", datetime(y, 1, 15, 9, tzinfo=PRAGUE),
         [(1, "Litomyšl", True), (2, "Litomyšl", True), (3, "Pardubice", True), (4, "Hlinsko", False),
          (5, ("CZ064", "Brno"), True)]),
        # 7 works at the krajský úřad, which has no ORP.
        ("rodicovske-spory", datetime(y, 3, 3, 9, tzinfo=PRAGUE), [(6, "Litomyšl", True), (7, None, True)]),
        ("od-analyzy-k-tvorbe-ipod", datetime(y, 1, 1, 0, 30, tzinfo=PRAGUE), [(8, "Svitavy", True)]),
        ("od-analyzy-k-tvorbe-ipod", datetime(y - 1, 12, 31, 23, 30, tzinfo=PRAGUE), [(9, "Chrudim", True)]),
        ("od-analyzy-k-tvorbe-ipod", datetime(y, 5, 5, 9, tzinfo=PRAGUE), [(10, "Polička", True)]),
    ]
    for slug, when, people in plan:
        term = make_term(slug=slug, capacity=10)
        registrations = []
        for i, place, present in people:
            code, orp_name = place if isinstance(place, tuple) else ("CZ053", place)
            employer = EmployerType.OSPOD if orp_name else EmployerType.REGIONAL_OFFICE
            registrations.append((sign_up(term, i, region_code=code, orp_name=orp_name, employer=employer), present))
        move_to_past(term, 1)
        for registration, present in registrations:
            attend(registration.id, present)
        held_on(term, when)
    cancelled = db.session.scalars(select(Term).where(Term.starts_at == datetime(y, 5, 5, 9, tzinfo=PRAGUE))).one()
    cancelled.state = TermState.CANCELLED
    cancelled.cancelled_at = cancelled.starts_at - timedelta(days=1)
    db.session.commit()
    return datetime(y, 12, 31, 12, tzinfo=PRAGUE)


def test_every_orp_of_the_kraj_with_this_years_participants_and_the_white_spots(year):
    found = coverage(region("CZ053"), now=year)
    assert [p.label for p in found.places] == PARDUBICKY_ORP
    assert {p.label: p.participants for p in found.places if p.participants} == {
        "Litomyšl": 3, "Pardubice": 1, "Svitavy": 1}
    # Chrudim's only participant was there last year; Polička's term was cancelled; Hlinsko did not come.
    assert [p.label for p in found.white_spots] == [
        "Česká Třebová", "Hlinsko", "Holice", "Chrudim", "Králíky", "Lanškroun", "Moravská Třebová",
        "Polička", "Přelouč", "Ústí nad Orlicí", "Vysoké Mýto", "Žamberk"]
    assert found.without_orp == 1
    assert found.total == 6


def test_participants_by_month_in_prague_time_and_by_workshop(year):
    found = coverage(region("CZ053"), now=year)
    # January: 3 on 15 January and Svitavy at half past midnight on the 1st; March: 2.
    assert [(m.label, m.participants) for m in found.by_month] == [
        ("leden", 4), ("únor", 0), ("březen", 2), ("duben", 0), ("květen", 0), ("červen", 0),
        ("červenec", 0), ("srpen", 0), ("září", 0), ("říjen", 0), ("listopad", 0), ("prosinec", 0)]
    assert [(w.label, w.participants) for w in found.by_workshop] == [
        ("Od analýzy k tvorbě IPOD", 4), ("Rodičovské spory", 2)]


def test_a_term_still_to_come_this_year_counts_for_nobody_yet(year):
    term = make_term(capacity=10, starts_in=timedelta(days=3))
    sign_up(term, 11, orp_name="Holice")
    # `year` is the last noon of the year: seen from now, the January and March terms only.
    today = datetime.now(PRAGUE)
    found = coverage(region("CZ053"), now=today)
    assert "Holice" in [p.label for p in found.white_spots]


def test_prague_lists_its_22_districts_in_their_natural_order(app):
    found = coverage(region("CZ010"))
    assert [p.label for p in found.places] == [f"Praha {n}" for n in range(1, 23)]
    assert len(found.white_spots) == 22


def test_the_coordinator_sees_her_kraj_from_her_start_page_with_white_spots_marked(app, year):
    coordinator = browser(app, PARDUBICE)
    start = coordinator.get("/sprava/").get_data(as_text=True)
    assert 'href="/sprava/vykazy/kde-jsme-byli"' in start
    page = coordinator.get("/sprava/vykazy/kde-jsme-byli").get_data(as_text=True)
    assert "<h1>Kde jsme byli: Pardubický kraj</h1>" in page
    # Every ORP in a row, the white spots marked in words, not by their tint alone.
    table = page[page.index('<table class="numbers coverage">'):page.index("</table>")]
    for name in PARDUBICKY_ORP:
        assert f'<th scope="row">{name}</th>' in table
    assert table.count("ano – letos nikdo") == 15 - _places_with_participants_seen_today(year)
    # Both charts are drawn, each hidden from screen readers with its table beside it.
    assert page.count('<svg viewBox=') == 2 and page.count('aria-hidden="true" focusable="false"') == 2
    assert "Účastníci podle měsíců v roce" in page and "Účastníci podle workshopů v roce" in page


def _places_with_participants_seen_today(year_end):
    """The terms of `year` on days that have passed by today: a page counts what took place by now."""
    today = datetime.now(PRAGUE)
    y = today.year
    places = set()
    if today >= datetime(y, 1, 15, 9, tzinfo=PRAGUE):
        places |= {"Litomyšl", "Pardubice"}
    places.add("Svitavy")  # 1 January, 00:30
    if today >= datetime(y, 3, 3, 9, tzinfo=PRAGUE):
        places.add("Litomyšl")
    return len(places)


def test_the_coordinator_is_refused_another_kraj_and_a_lecturer_everything(app, year):
    coordinator = browser(app, PARDUBICE)
    assert coordinator.get("/sprava/vykazy/kde-jsme-byli?kraj=jihomoravsky").status_code == 403
    assert coordinator.get("/sprava/vykazy/kde-jsme-byli.xlsx?kraj=jihomoravsky").status_code == 403
    assert coordinator.get("/sprava/vykazy/kde-jsme-byli?kraj=pardubicky").status_code == 200
    assert coordinator.get("/sprava/vykazy/kde-jsme-byli?kraj=neexistuje").status_code == 404
    # She is offered no other kraj to choose.
    assert "jihomoravsky" not in coordinator.get("/sprava/vykazy/kde-jsme-byli").get_data(as_text=True)
    brno = browser(app, BRNO)
    assert brno.get("/sprava/vykazy/kde-jsme-byli?kraj=pardubicky").status_code == 403
    lecturer = browser(app, "lektorka@coverage.test", StaffRole.LECTURER)
    assert lecturer.get("/sprava/vykazy/kde-jsme-byli").status_code == 403
    assert lecturer.get("/sprava/vykazy/kde-jsme-byli.xlsx?kraj=pardubicky").status_code == 403


def test_an_organiser_chooses_any_kraj(app, year):
    organiser = browser(app, "organizatorka@coverage.test", StaffRole.ORGANISER)
    chooser = organiser.get("/sprava/vykazy/kde-jsme-byli").get_data(as_text=True)
    assert chooser.count("<option ") == 14
    page = organiser.get("/sprava/vykazy/kde-jsme-byli?kraj=praha").get_data(as_text=True)
    assert "<h1>Kde jsme byli: Hlavní město Praha</h1>" in page
    assert page.index('<th scope="row">Praha 2</th>') < page.index('<th scope="row">Praha 10</th>')


def test_the_workbook_holds_the_orp_the_months_and_the_workshops(app, year):
    coordinator = browser(app, PARDUBICE)
    response = coordinator.get("/sprava/vykazy/kde-jsme-byli.xlsx?kraj=pardubicky")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    y = datetime.now(PRAGUE).year
    assert workbook.sheetnames == [f"ORP {y}", "Podle měsíců", "Podle workshopů"]
    places = list(workbook[f"ORP {y}"].iter_rows(values_only=True))
    assert places[0] == ("ORP", "Účastníci", "Poznámka")
    assert [row[0] for row in places[1:16]] == PARDUBICKY_ORP
    assert all((row[2] == "bílé místo") == (row[1] == 0) for row in places[1:16])
    months = list(workbook["Podle měsíců"].iter_rows(values_only=True))
    assert months[0] == ("Měsíc", "Účastníci") and len(months) == 13 and months[1][0] == "leden"
    assert months[1][1] >= 1  # Svitavy on 1 January has taken place whatever the day today


def test_the_page_seen_again_shows_who_was_marked_present_since(app):
    term = make_term(capacity=10)
    registration = sign_up(term, 1, orp_name="Holice")
    move_to_past(term, 0)
    pardubicky = region("CZ053")
    assert "Holice" in [p.label for p in coverage_for(pardubicky).white_spots]
    attend(registration.id)
    assert "Holice" not in [p.label for p in coverage_for(pardubicky).white_spots]
