"""Every export is read back with a reader: the csv module (with the BOM), openpyxl,
and pypdf's text extraction; and the reporting numbers add up."""
import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from trainings.exports import csv_export, pdf, xlsx
from trainings.extensions import db
from trainings.models import EmployerType, RegistrationState, Term, TermForm
from trainings.registration import service, staff_actions
from trainings.reporting import Period, build_report
from trainings.timefmt import PRAGUE

from .helpers import make_term, region
from .staff_helpers import applicant, attend, move_to_past, organiser, organiser_client, sign_up

ESF = "Spolufinancováno Evropskou unií"
PROJECT = "Podpora systému sociálně-právní ochrany dětí a rozvoj kompetencí pracovníků SPOD"
REG_NO = "CZ.03.02.02/00/25_110/0006346"


@pytest.fixture
def term(app):
    """A full prezenční term: three confirmed (one with a formula for a name), one waiting, one cancelled."""
    term = make_term(capacity=4, form=TermForm.IN_PERSON, region=region("CZ053"), lecturer="PhDr. Jana Lektorová",
                     venue="Krajský úřad Pardubického kraje, Komenského nám. 125, Pardubice")
    sign_up(term, 1, name="Jana Nováková")
    sign_up(term, 2, name="=HYPERLINK(\"http://zlo.example\")", orp_name="Pardubice")
    sign_up(term, 3, name="Řehoř Šťastný", employer=EmployerType.REGIONAL_OFFICE, orp_name=None)
    cancelled = sign_up(term, 5, name="Zrušená Osoba")
    sign_up(term, 4, name="Čekatelka Druhá")  # waitlisted, until:
    service.cancel(cancelled.id)
    sign_up(term, 6, name="Waitlist Poslední")
    return db.session.get(Term, term.id)


CONFIRMED = ["Jana Nováková", "=HYPERLINK(\"http://zlo.example\")", "Řehoř Šťastný", "Čekatelka Druhá"]


def test_csv_opens_in_czech_excel_and_holds_the_participants(term):
    data = csv_export.participants_csv(term)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Czech letters right
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Stav", "Jméno a příjmení", "E-mail"]
    by_name = {row[1]: row for row in body}
    # The formula comes out as text, never as something a spreadsheet would run.
    assert "'=HYPERLINK(\"http://zlo.example\")" in by_name
    names = {name.lstrip("'") for name in by_name}
    assert names == set(CONFIRMED) | {"Waitlist Poslední"}
    assert "Zrušená Osoba" not in names
    assert by_name["Waitlist Poslední"][0] == "na čekací listině"
    assert by_name["Řehoř Šťastný"][header.index("Organizace")] == "Krajský úřad, Pardubický kraj"
    # Dates as Czech Excel parses them.
    registered = by_name["Jana Nováková"][header.index("Přihlášeno")]
    assert datetime.strptime(registered, "%d.%m.%Y %H:%M")
    # Confirmed people first, the waiting list last.
    assert [row[0] for row in body][-1] == "na čekací listině"


def test_xlsx_has_a_header_row_widths_and_real_dates(term):
    attend_id = next(r.id for r in term_registrations(term) if r.name == "Jana Nováková")
    no_show_id = next(r.id for r in term_registrations(term) if r.name == CONFIRMED[1])
    move_to_past(term, days=0)
    attend(attend_id)
    attend(no_show_id, False)
    workbook = load_workbook(io.BytesIO(xlsx.participants_xlsx(db.session.get(Term, term.id))))
    sheet = workbook["Účastníci"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[1] == "Jméno a příjmení" and sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == set(CONFIRMED) | {"Waitlist Poslední"}
    formula_cell = next(c for c in sheet["B"] if c.value == CONFIRMED[1])
    assert formula_cell.data_type == "s"  # stored as text
    registered = by_name["Jana Nováková"][header.index("Přihlášeno")]
    assert isinstance(registered, datetime)
    cell = sheet.cell(row=2, column=header.index("Přihlášeno") + 1)
    assert cell.is_date and "yyyy" in cell.number_format
    assert by_name["Jana Nováková"][header.index("Docházka")] == "přítomnost"
    assert by_name[CONFIRMED[1]][header.index("Docházka")] == "neúčast"  # a noun: no gendered "nepřítomen/a"
    marked = by_name["Jana Nováková"][header.index("Docházka zapsána")]
    # Prague wall-clock time, as the organiser reads it.
    now_local = datetime.now(PRAGUE).replace(tzinfo=None)
    assert abs(marked - now_local) < timedelta(minutes=2)
    facts = dict(workbook["Termín"].iter_rows(min_row=2, values_only=True))
    assert facts["Registrační číslo"] == REG_NO and facts["Lektorské vedení"] == "PhDr. Jana Lektorová"
    assert workbook["Termín"]["A1"].value == ESF


def term_registrations(term):
    from trainings.exports.roster import term_registrations as rows

    return rows(term.id)


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_attendance_sheet_lists_every_confirmed_participant_with_the_esf_line(term):
    text, _pages = pdf_text(pdf.attendance_sheet_pdf(term))
    for name in CONFIRMED:
        assert name in text
    assert "Waitlist Poslední" not in text and "Zrušená Osoba" not in text
    assert ESF in text and REG_NO in text
    assert " ".join(PROJECT.split()[:4]) in text
    assert "PREZENČNÍ LISTINA" in text and "Od analýzy k tvorbě IPOD" in text
    assert "PhDr. Jana Lektorová" in text and "Komenského nám. 125" in text
    assert "OSPOD ORP Litomyšl" in text and "OSPOD ORP Pardubice" in text
    assert "Podpis" in text and "Počet přihlášených: 4" in text


def test_a_long_attendance_sheet_repeats_its_header_on_every_page(app):
    term = make_term(capacity=80)
    for i in range(60):
        sign_up(term, i, name=f"Účastník Číslo {i:02d}")
    text, pages = pdf_text(pdf.attendance_sheet_pdf(term))
    assert pages >= 3
    assert text.count(ESF) == pages and text.count("Jméno a příjmení") == pages
    assert all(f"Účastník Číslo {i:02d}" in text for i in range(60))
    assert f"strana {pages}/{pages}" in text


# --- reporting ------------------------------------------------------------------------------


@pytest.fixture
def season(app):
    """Two workshops in one period: Jana attends both, Petr one, Eva is a no-show; and one term outside."""
    ipod = make_term(capacity=10)
    other = make_term(slug="rodicovske-spory", capacity=10)
    outside = make_term(capacity=10)
    jana_1 = sign_up(ipod, 1, email="jana@example.cz", name="Jana")
    petr = sign_up(ipod, 2, email="petr@example.cz", name="Petr", orp_name="Pardubice")
    eva = sign_up(ipod, 3, email="eva@example.cz", name="Eva", employer=EmployerType.SOCIAL_SERVICE,
                  region_code="CZ064", orp_name="Brno")
    jana_2 = sign_up(other, 1, email="jana@example.cz", name="Jana")
    far = sign_up(outside, 4, email="daleko@example.cz", name="Daleko")
    for term in (ipod, other):
        move_to_past(term, days=3)
    move_to_past(outside, days=400)
    for registration in (jana_1, petr, jana_2, far):
        attend(registration.id)
    attend(eva.id, False)
    today = datetime.now(PRAGUE).date()
    return Period(today - timedelta(days=30), today)


def test_report_counts_participants_and_unique_persons_per_breakdown(season):
    report = build_report(season)
    assert (report.totals.terms, report.totals.confirmed, report.totals.participants,
            report.totals.unique_persons) == (2, 4, 3, 2)
    workshops = {r.label: (r.confirmed, r.participants, r.unique_persons) for r in report.by_workshop}
    assert workshops["Od analýzy k tvorbě IPOD"] == (3, 2, 2)
    assert len(workshops) == 2
    regions = {r.label: (r.participants, r.unique_persons) for r in report.by_region}
    assert regions == {"Pardubický kraj": (3, 2), "Jihomoravský kraj": (0, 0)}
    orps = {r.label: (r.participants, r.unique_persons) for r in report.by_orp}
    assert orps["Litomyšl (Pardubický kraj)"] == (2, 1)
    assert orps["Pardubice (Pardubický kraj)"] == (1, 1)
    employers = {r.label: (r.confirmed, r.participants) for r in report.by_employer}
    assert employers == {"OSPOD": (3, 3), "sociální služba": (1, 0)}


def test_report_page_and_workbook(app, season):
    staff = organiser_client(app)
    query = {"od": season.start.isoformat(), "do": season.end.isoformat()}
    page = staff.get("/sprava/vykazy/", query_string=query).get_data(as_text=True)
    assert "Podle krajů" in page and "Litomyšl (Pardubický kraj)" in page
    response = staff.get("/sprava/vykazy/vykaz.xlsx", query_string=query)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Souhrn", "Podle workshopů", "Podle krajů", "Podle ORP", "Podle zaměstnavatele",
                                   "Podle měsíců", "Hodiny podle osob"]
    summary = dict(workbook["Souhrn"].iter_rows(min_row=2, values_only=True))
    assert summary["Účastníci (přítomní)"] == 3 and summary["Unikátní osoby"] == 2
    assert summary["Registrační číslo"] == REG_NO
    rows = list(workbook["Podle krajů"].iter_rows(values_only=True))
    assert rows[0] == ("Kraj (pracoviště)", "Termíny", "Potvrzené přihlášky", "Účastníci (přítomní)", "Unikátní osoby")
    assert ("Pardubický kraj", 2, 3, 3, 2) in rows
    # A wrong period gets Czech messages, not an error page.
    bad = staff.get("/sprava/vykazy/", query_string={"od": "2026-05-01", "do": "2026-01-01"})
    assert bad.status_code == 422 and "Konec období musí být po jeho začátku." in bad.get_data(as_text=True)
    bad = staff.get("/sprava/vykazy/", query_string={"od": "včera", "do": ""})
    assert bad.status_code == 422
    # This year by default.
    assert str(date.today().year) in staff.get("/sprava/vykazy/").get_data(as_text=True)


def test_add_by_hand_follows_the_capacity_rule_unless_overridden(app):
    term = make_term(capacity=1, per_orp_limit=1)
    sign_up(term, 1)
    same_orp = staff_actions.add_by_hand(term.id, applicant(2), organiser())
    assert same_orp.registration.state == RegistrationState.WAITLISTED
    forced = staff_actions.add_by_hand(term.id, applicant(3), organiser(), over_capacity=True)
    assert forced.registration.state == RegistrationState.CONFIRMED
    assert service.seat_usage(term).confirmed == 2
