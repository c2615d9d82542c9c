"""Výkazy: what the organiser reports to the ministry over a period. Every term that took place
counts (also one nobody came to), none that is still to come, and each person's hours are there
for the 24 hours a year."""
import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from sqlalchemy import func, select, update

from trainings.extensions import db
from trainings import reporting
from trainings.models import EmployerType, Registration, Term, TermState, utcnow
from trainings.reporting import Period, build_report, hours_per_person, report_for
from trainings.timefmt import PRAGUE

from .helpers import held_on, make_term
from .staff_helpers import attend, move_to_past, organiser_client, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def this_month() -> Period:
    """A period reaching into the future, as "this year" does by default."""
    today = datetime.now(PRAGUE).date()
    return Period(today - timedelta(days=30), today + timedelta(days=30))


@pytest.fixture
def month(app):
    """Three terms that took place (one with nobody on it) and one still to come, all in the period.

    Chalupová attends two workshops (3,5 + 2 hours); she retyped her name the second time.
    Cibulková, Čermáková and Hronová attend one each; Dvořák is a no-show.
    """
    ipod = make_term(capacity=10)
    short = make_term(slug="rodicovske-spory", capacity=10, hours=2)
    empty = make_term(capacity=10)
    coming = make_term(capacity=10, starts_in=timedelta(days=7))
    people = {
        "chalupova": sign_up(ipod, 1, name="Mgr. Hana Chalupová", email="hana@example.cz"),
        "cibulkova": sign_up(ipod, 2, name="Eva Cibulková", email="eva@example.cz", orp_name="Pardubice"),
        "cermakova": sign_up(ipod, 3, name="Iva Čermáková", email="iva@example.cz", orp_name=None,
                             employer=EmployerType.REGIONAL_OFFICE),
        "dvorak": sign_up(ipod, 4, name="Petr Dvořák", email="petr@example.cz"),
        "chalupova_2": sign_up(short, 1, name="Hana Chalupová, DiS.", email="HANA@example.cz"),
        "hronova": sign_up(short, 5, name="Jana Hronová", email="jana@example.cz", region_code="CZ064",
                           orp_name="Brno"),
    }
    sign_up(coming, 6, name="Budoucí Přihlášená", email="budouci@example.cz")
    for term, days in ((ipod, 3), (short, 2), (empty, 1)):
        move_to_past(term, days)
    for key, registration in people.items():
        attend(registration.id, key != "dvorak")
    return this_month()


def test_every_term_that_took_place_counts_and_none_still_to_come(month):
    report = build_report(month)
    # ipod, short and the empty one; not the coming term, though it lies in the period.
    assert report.totals.terms == 3
    assert (report.totals.confirmed, report.totals.participants, report.totals.unique_persons) == (6, 5, 4)
    workshops = {r.label: (r.terms, r.confirmed, r.participants) for r in report.by_workshop}
    assert workshops == {"Od analýzy k tvorbě IPOD": (2, 4, 3), "Rodičovské spory": (1, 2, 2)}


def test_a_period_wholly_in_the_future_has_nothing_yet(month):
    today = datetime.now(PRAGUE).date()
    future = Period(today + timedelta(days=1), today + timedelta(days=30))
    report = build_report(future)
    assert report.totals.terms == 0 and report.by_workshop == [] and report.by_month == []
    assert hours_per_person(future) == []


def test_hours_per_person_by_surname_in_czech_order(month):
    people = hours_per_person(month)
    # C before Č before H before Ch: Czech order, by surname, titles left out.
    assert [p.name for p in people] == ["Eva Cibulková", "Iva Čermáková", "Jana Hronová", "Hana Chalupová, DiS."]
    chalupova = people[-1]
    # One person is one e-mail address, whatever its case; her latest name and place are shown.
    assert (chalupova.email, chalupova.workshops, chalupova.hours, chalupova.place) == (
        "HANA@example.cz", 2, 5.5, "Litomyšl")
    assert (people[0].place, people[0].workshops, people[0].hours) == ("Pardubice", 1, 3.5)
    assert people[1].place == "bez ORP (Pardubický kraj)"
    assert "Petr Dvořák" not in [p.name for p in people]  # a no-show has no hours


def test_report_page_aligns_numbers_with_their_headings_and_leaves_the_people_to_the_workbook(app, month):
    staff = organiser_client(app)
    query = {"od": month.start.isoformat(), "do": month.end.isoformat()}
    page = staff.get("/sprava/vykazy/", query_string=query).get_data(as_text=True)
    summary = page[page.index("Souhrn za"):page.index("</ul>", page.index("Souhrn za"))]
    assert "3</strong> termíny<" in summary
    headings = re.findall(r'<th scope="col"( class="num")?>([^<]+)</th>', page)
    numeric = {"Termíny", "Potvrzené přihlášky", "Účastníci (přítomní)", "Unikátní osoby"}
    for css_class, text in headings:
        assert bool(css_class) == (text in numeric), text
    # Tens of thousands of people over a whole period: the page names how many, the XLSX lists them.
    hours = page[page.index('id="hodiny"'):]
    assert "(celkem 4 osoby)" in hours
    assert "Chalupová" not in page and "HANA@example.cz" not in page


def test_the_workbook_has_the_hours_per_person(app, month):
    staff = organiser_client(app)
    response = staff.get("/sprava/vykazy/vykaz.xlsx", query_string={"od": month.start.isoformat(),
                                                                       "do": month.end.isoformat()})
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[-1] == "Hodiny podle osob"
    rows = list(workbook["Hodiny podle osob"].iter_rows(values_only=True))
    assert rows[0] == ("Jméno", "E-mail", "ORP", "Workshopy", "Hodiny")
    assert rows[1:] == [
        ("Eva Cibulková", "eva@example.cz", "Pardubice", 1, 3.5),
        ("Iva Čermáková", "iva@example.cz", "bez ORP (Pardubický kraj)", 1, 3.5),
        ("Jana Hronová", "jana@example.cz", "Brno", 1, 2),
        ("Hana Chalupová, DiS.", "HANA@example.cz", "Litomyšl", 2, 5.5),
    ]
    summary = dict(workbook["Souhrn"].iter_rows(min_row=2, values_only=True))
    assert summary["Termíny"] == 3


def test_hours_are_summed_by_the_database_as_the_term_counts_them(month):
    # Term.length_hours in SQL: the set hours of "short" (2) and start-to-end of the others (3,5).
    people = {p.email: p.hours for p in hours_per_person(month)}
    assert people == {"eva@example.cz": 3.5, "iva@example.cz": 3.5, "jana@example.cz": 2, "HANA@example.cz": 5.5}


def test_months_are_prague_calendar_months_and_only_those_with_terms(app):
    """Last year: IPOD at 23:30 on 31 January and Rodičovské spory at 00:30 on 1 February, Prague
    time (both still 31 January in UTC), and IPOD on 15 April; two present on each, one absent in April."""
    last_year = datetime.now(PRAGUE).year - 1
    plan = [("od-analyzy-k-tvorbe-ipod", datetime(last_year, 1, 31, 23, 30, tzinfo=PRAGUE), [True, True]),
            ("rodicovske-spory", datetime(last_year, 2, 1, 0, 30, tzinfo=PRAGUE), [True, True]),
            ("od-analyzy-k-tvorbe-ipod", datetime(last_year, 4, 15, 9, tzinfo=PRAGUE), [True, True, False])]
    person = 0
    for slug, when, present in plan:
        term = make_term(slug=slug, capacity=10)
        registrations = []
        for _ in present:
            person += 1
            registrations.append(sign_up(term, person))
        move_to_past(term, 1)
        for registration, was_there in zip(registrations, present):
            attend(registration.id, was_there)
        held_on(term, when)
    expected = [(f"leden {last_year}", 1, 2, 2, 2), (f"únor {last_year}", 1, 2, 2, 2),
                (f"duben {last_year}", 1, 3, 2, 2)]
    report = build_report(Period(date(last_year, 1, 1), date(last_year, 12, 31)))
    assert [(r.label, r.terms, r.confirmed, r.participants, r.unique_persons) for r in report.by_month] == expected
    workbook = load_workbook(io.BytesIO(organiser_client(app).get("/sprava/vykazy/vykaz.xlsx", query_string={
        "od": f"{last_year}-01-01", "do": f"{last_year}-12-31"}).data))
    rows = list(workbook["Podle měsíců"].iter_rows(values_only=True))
    assert rows == [("Měsíc (začátek termínu)", "Termíny", "Potvrzené přihlášky", "Účastníci (přítomní)",
                     "Unikátní osoby"), *expected]


def test_a_report_seen_again_shows_what_changed_since(app, month):
    """The report is kept between views; a change of attendance, and a term that has started since,
    are in the next one."""
    before = report_for(month)
    assert report_for(month).totals.participants == before.totals.participants == 5
    registrations = {r.email: r for r in db.session.scalars(select(Registration))}
    attend(registrations["eva@example.cz"].id, False)
    assert report_for(month).totals.participants == 4
    coming = db.session.scalars(select(Term).where(Term.starts_at > utcnow())).one()
    attend_later = sign_up(coming, 7, name="Pozdní Přihlášená", email="pozdni@example.cz")
    assert report_for(month).totals.confirmed == before.totals.confirmed  # still to come: not counted
    # The term starts: its row is not touched, only the clock moves past its start.
    assert report_for(month, now=coming.starts_at + timedelta(minutes=1)).totals.terms == before.totals.terms + 1
    assert attend_later.term_id == coming.id


def test_a_programme_without_any_term_yet_has_a_report_of_nothing(app):
    """The first day after launch: no term at all, and the page still answers with zeros."""
    response = organiser_client(app).get("/sprava/vykazy/")
    assert response.status_code == 200
    report = build_report(this_month(), utcnow())
    assert report.by_month == [] and report.by_workshop == []


def test_a_workshop_renamed_in_the_back_office_is_reported_under_its_new_title(app, month):
    from sqlalchemy import delete

    from trainings.catalogue import editing
    from trainings.models import OfferRevision, StaffRole

    from .staff_helpers import remove_user, staff_user

    before = report_for(month)
    offer = db.session.scalars(select(Term)).first().offer
    assert offer.title in [row.label for row in before.by_workshop]
    organiser = staff_user("katalog.vykazy@example.cz", "Olga Katalogová", StaffRole.ORGANISER)
    try:
        editing.save_draft(offer, {**editing.values_of(offer), "title": "Workshop přejmenovaný ve správě"}, organiser)
        editing.publish(offer, organiser)
        db.session.commit()
        assert "Workshop přejmenovaný ve správě" in [row.label for row in report_for(month).by_workshop]
    finally:
        db.session.execute(delete(OfferRevision))
        db.session.commit()
        remove_user(organiser.id)


def test_postgresql_counts_in_one_pass_what_the_grouped_queries_count(app, month):
    """On PostgreSQL the report comes from one pass (GROUPING SETS, persons numbered once); SQLite
    runs a grouped query per breakdown. Both give the same numbers in every breakdown, here with a
    person who works in two kraje, a term of an earlier month, a cancelled term and a waiting list."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("GROUPING SETS run on PostgreSQL; SQLite's grouped queries are what they are compared with")
    earlier = make_term(slug="rodicovske-spory", capacity=2)
    called_off = make_term(capacity=10)
    moved = sign_up(earlier, 8, name="Hana Chalupová", email="hana@example.cz", region_code="CZ064", orp_name="Brno")
    other = sign_up(earlier, 9, name="Olga Nová", email="olga@example.cz", orp_name=None,
                    employer=EmployerType.REGIONAL_OFFICE)
    sign_up(earlier, 10, name="Čekající Osoba", email="ceka@example.cz")  # waiting: not confirmed
    gone = sign_up(called_off, 11, name="Zrušená Osoba", email="zrusena@example.cz")
    for term, days in ((earlier, 20), (called_off, 5)):
        move_to_past(term, days)
    for registration in (moved, other, gone):
        attend(registration.id)
    called_off = db.session.get(Term, called_off.id)
    called_off.state = TermState.CANCELLED
    db.session.commit()

    now = utcnow()
    months = reporting._months(month, now)

    def ordered(result):
        totals, (*lists, month_rows) = result
        return totals, [sorted(rows, key=lambda r: r.label) for rows in lists], month_rows

    one_pass = ordered(reporting._in_one_pass(month, now, months))
    assert one_pass == ordered(reporting._grouped_apart(month, now, months))
    totals, (by_workshop, by_region, by_orp, by_employer), _ = one_pass
    # Hana counts once in the whole report, and once in each kraj she worked in.
    assert (totals.terms, totals.confirmed, totals.participants, totals.unique_persons) == (4, 8, 7, 5)
    assert {r.label: r.unique_persons for r in by_region} == {"Pardubický kraj": 4, "Jihomoravský kraj": 2}


def _saved_an_hour_ago():
    """Every registration as if last changed an hour ago, long before the report is looked at."""
    db.session.execute(update(Registration).values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()


def test_a_sign_up_for_a_term_still_to_come_keeps_the_report(app, month):
    """Only terms that have started count, so a sign-up for one to come changes no number: the kept
    report stays (staff would otherwise meet the full count after every sign-up)."""
    _saved_an_hour_ago()
    coming = db.session.scalars(select(Term).where(Term.starts_at > utcnow())).one()
    sign_up(coming, 7, name="Pozdní Přihlášená", email="pozdni@example.cz")
    before = report_for(month)
    sign_up(coming, 8, name="Další Přihlášená", email="dalsi@example.cz")
    assert report_for(month) is before
    registrations = {r.email: r for r in db.session.scalars(select(Registration))}
    attend(registrations["eva@example.cz"].id, False)
    assert report_for(month).totals.participants == before.totals.participants - 1


def test_a_change_that_became_visible_after_a_later_stamped_one_is_counted(app, month):
    """A transaction stamps updated_at before it commits: a change to a term that took place, seen
    only after a later-stamped sign-up for a term to come, still makes the report new."""
    _saved_an_hour_ago()
    before = report_for(month)
    assert before.totals.participants == 5
    eva = db.session.scalars(select(Registration).where(Registration.email == "eva@example.cz")).one()
    latest = db.session.scalar(select(func.max(Registration.updated_at)))
    # Stamped before the latest change the report has seen, and committed only now.
    db.session.execute(update(Registration).where(Registration.id == eva.id)
                       .values(attended=False, updated_at=latest - timedelta(seconds=30)))
    db.session.commit()
    coming = db.session.scalars(select(Term).where(Term.starts_at > utcnow())).one()
    sign_up(coming, 7, name="Pozdní Přihlášená", email="pozdni@example.cz")
    assert report_for(month).totals.participants == 4
