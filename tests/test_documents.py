"""What people print: the osvědčení (one page, no gendered forms, only after the term), all
osvědčení of a term in one file, and the EU emblem on the PDFs and the site, drawn from one
geometry (trainings/emblem.py)."""
import io
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import func, select

from trainings import demo, emblem
from trainings.catalogue import seed
from trainings.certificates.rule import can_issue
from trainings.exports import pdf
from trainings.extensions import db
from trainings.models import Offer, Registration, Term, TermForm
from trainings.privacy.service import erase_person
from trainings.timefmt import term_span

from .helpers import make_term, region
from .staff_helpers import attend, fresh, log_in, move_to_past, organiser, organiser_client, sign_up

PRINT_CSS = Path(__file__).resolve().parent.parent / "templates/exports/print.css"

ESF = "Spolufinancováno Evropskou unií"
REG_NO = "CZ.03.02.02/00/25_110/0006346"
SVG_FILE = Path(__file__).resolve().parent.parent / "static" / "img" / "eu-emblem.svg"
# "absolvoval/a", "přítomen/a", "Lektor/ka": any slash between letters is a gendered form.
SLASH_FORM = re.compile(r"[^\W\d_]/[^\W\d_]")


def slash_forms(text: str) -> list[str]:
    """SLASH_FORM's matches outside web addresses (the osvědčení prints its verification address)."""
    return SLASH_FORM.findall(re.sub(r"https?://\S+", "", text))
# The emblem's fill colours as the PDF's content stream sets them: #003399 and #FFCC00.
EMBLEM_BLUE, EMBLEM_GOLD = b"0 0.2 0.6 rg", b"1 0.8 0 rg"

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def content_of(data: bytes) -> bytes:
    return b"".join(page.get_contents().get_data() for page in PdfReader(io.BytesIO(data)).pages)


def ended(term: Term) -> Term:
    """The term took place a week ago (people registered while it was open)."""
    return move_to_past(term, days=7)


# --- osvědčení ---------------------------------------------------------------------------------


def test_the_osvedceni_is_one_page_for_the_longest_title_venue_and_name_in_the_data(app):
    longest_title = db.session.scalars(select(Offer).order_by(func.length(Offer.title).desc())).first()
    longest_venue = max((venue for _, venue in demo._DEMO_PLACES), key=len)
    longest_name = max((item["coordinator"]["name"] for item in seed._regions_document()["regions"]), key=len)
    term = make_term(slug=longest_title.slug, form=TermForm.IN_PERSON, region=region("CZ064"), hours=8,
                     venue=longest_venue, lecturer="PhDr. Kristýna Jůzová Kotalová, Ph.D., Mgr. Bc. Petr Dvořák")
    person = sign_up(term, 1, name=f"Mgr. {longest_name}, DiS.", orp_name="Ústí nad Orlicí")
    ended(term)
    attend(person.id)

    data = pdf.certificate_pdf(fresh(Registration, person.id))
    pages = pages_of(data)
    assert len(pages) == 1
    text = " ".join(pages[0].split())  # lines joined: long values wrap
    for expected in ["OSVĚDČENÍ", "o účasti na vzdělávací akci", f"Mgr. {longest_name}, DiS.", longest_title.title,
                     longest_venue, "OSPOD ORP Ústí nad Orlicí", "8 hodin", "účast na workshopu",
                     "Účast potvrzuje Ministerstvo práce a sociálních věcí", ESF, REG_NO,
                     f"Číslo osvědčení: SPOD4-{term.id}-{person.id}"]:
        assert expected in text, expected
    assert "absolvoval" not in text and not slash_forms(text), slash_forms(text)
    assert EMBLEM_BLUE in content_of(data) and EMBLEM_GOLD in content_of(data)


def test_the_osvedceni_stays_on_one_page_at_the_column_limits(app):
    """What the forms let staff type: a 200-character name, 300-character venue and lecturers."""
    longest_title = db.session.scalars(select(Offer).order_by(func.length(Offer.title).desc())).first()
    term = make_term(slug=longest_title.slug, form=TermForm.IN_PERSON, region=region("CZ053"),
                     venue=("Sál " + "velmi dlouhé místo " * 16)[:300],
                     lecturer=("Mgr. Lektorka Dlouhého Jména, " * 10)[:300])
    person = sign_up(term, 1, name=("Marie Terezie Nováková Dlouhá " * 7)[:200])
    ended(term)
    attend(person.id)
    pages = pages_of(pdf.certificate_pdf(fresh(Registration, person.id)))
    assert len(pages) == 1
    # The footer with the number made it onto that one page.
    assert f"SPOD4-{term.id}-{person.id}" in pages[0] and REG_NO in pages[0]


def test_no_osvedceni_while_the_term_is_still_running(app):
    term = make_term(hours=4)
    person = sign_up(term, 1, name="Hana Včasná")
    term = fresh(Term, term.id)
    term.starts_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    term.ends_at = term.starts_at + timedelta(hours=4)  # began an hour ago, three more to go
    db.session.commit()
    attend(person.id)
    person = fresh(Registration, person.id)
    assert person.attended is True
    assert not can_issue(person)
    assert can_issue(person, now=term.ends_at)  # from the end on
    assert not can_issue(person, now=term.ends_at - timedelta(minutes=1))

    staff = organiser_client(app)
    assert staff.get(f"/sprava/prihlasky/{person.id}/osvedceni.pdf").status_code == 404
    assert "Osvědčení (PDF)" not in staff.get(f"/sprava/prihlasky/{person.id}").get_data(as_text=True)
    # The term's download explains why there is nothing yet.
    response = staff.get(f"/sprava/terminy/{term.id}/osvedceni.pdf", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Osvědčení lze stáhnout až po skončení termínu." in response.get_data(as_text=True)


def test_all_osvedceni_of_a_term_in_one_file_a_page_each_by_surname(app):
    term = make_term(lecturer="Mgr. Petra Lektorová")
    people = {name: sign_up(term, i, name=name) for i, name in enumerate(
        ["Žofie Žáková", "Ondřej Chalupa", "Petr Čech", "Marie Horáková", "Olga Nepřišla", "Ema Nezapsaná"])}
    ended(term)
    for name, person in people.items():
        if name == "Olga Nepřišla":
            attend(person.id, False)
        elif name != "Ema Nezapsaná":
            attend(person.id)

    staff = organiser_client(app)
    assert "Osvědčení přítomných (PDF)" in staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    response = staff.get(f"/sprava/terminy/{term.id}/osvedceni.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "osvedceni-" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    pages = pages_of(response.data)
    names = [next(n for n in people if n in page) for page in pages]
    assert names == ["Petr Čech", "Marie Horáková", "Ondřej Chalupa", "Žofie Žáková"]
    for page, name in zip(pages, names):
        assert f"SPOD4-{term.id}-{people[name].id}" in page and ESF in page
        assert not slash_forms(page), slash_forms(page)


def test_the_lecturer_of_the_term_downloads_them_too_and_nobody_else(app, petra_lecturer):
    hers = make_term(lecturer="Mgr. Petra Lektorová", lecturers=[petra_lecturer])
    other = make_term(lecturer="Jiný Lektor")
    for term in (hers, other):
        person = sign_up(term, term.id, name="Jana Nováková")
        ended(term)
        attend(person.id)
    client = app.test_client()
    assert log_in(client, petra_lecturer.email, "dlouhe-heslo-pro-test").status_code == 302
    assert client.get(f"/sprava/terminy/{hers.id}/osvedceni.pdf").mimetype == "application/pdf"
    assert client.get(f"/sprava/terminy/{other.id}/osvedceni.pdf").status_code == 403
    anonymous = app.test_client().get(f"/sprava/terminy/{hers.id}/osvedceni.pdf")
    assert anonymous.status_code == 302 and "/sprava/prihlaseni" in anonymous.headers["Location"]


def test_no_file_for_a_term_where_nobody_was_present(app):
    term = make_term()
    absent = sign_up(term, 1)
    ended(term)
    attend(absent.id, False)
    assert pdf.term_certificates_pdf(fresh(Term, term.id)) is None
    page = organiser_client(app).get(f"/sprava/terminy/{term.id}/osvedceni.pdf", follow_redirects=True)
    assert "Nikdo není zapsaný jako přítomný" in page.get_data(as_text=True)


# --- prezenční listina ------------------------------------------------------------------------


def test_the_prezencni_listina_carries_the_emblem_and_no_slash_forms(app):
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2",
                     lecturer="Mgr. Jana Lektorová")
    sign_up(term, 1, name="Jana Nováková")
    data = pdf.attendance_sheet_pdf(fresh(Term, term.id))
    text = "\n".join(pages_of(data))
    assert ESF in text and "Lektorské vedení" in text and "Mgr. Jana Lektorová" in text
    assert not SLASH_FORM.search(text), SLASH_FORM.findall(text)
    assert EMBLEM_BLUE in content_of(data) and EMBLEM_GOLD in content_of(data)
    assert f"{term.offer.title} {term_span(term.starts_at, term.ends_at)} · strana 1/1" in text  # not cut


def sheet_table_margins_mm(data: bytes) -> tuple[float, float]:
    """Left and right margin of the table on page 1, from the header row's fills (WeasyPrint draws
    each as a rectangle in CSS px under a 0.75 scale: 96 px an inch)."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    fills = [[float(x) for x in operands] for operands, op in ContentStream(page.get_contents(), page.pdf).operations
             if op == b"re"]
    header = [(x, x + w) for x, _y, w, h in fills if 20 < h < 40]  # the 7 mm header cells, not the emblem
    page_px = float(page.mediabox.width) / 0.75
    px_mm = 25.4 / 96
    return min(a for a, _ in header) * px_mm, (page_px - max(b for _, b in header)) * px_mm


def test_the_sheet_has_equal_margins_a_plain_footer_and_shows_the_attendance_already_recorded(app):
    """At the door some are marked present or absent before the sheet is printed: their row says so
    in the signature cell, small enough to leave the room to sign."""
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2",
                     starts_in=timedelta(hours=1))
    present, absent, unmarked = (sign_up(term, i, name=name) for i, name in
                                 enumerate(["Jana Nováková", "Petr Svoboda", "Marie Dvořáková"], start=1))
    attend(present.id, True)
    attend(absent.id, False)
    data = pdf.attendance_sheet_pdf(fresh(Term, term.id))

    left, right = sheet_table_margins_mm(data)
    assert abs(left - 12) < 0.5 and abs(right - left) < 0.5, (left, right)

    text = "\n".join(pages_of(data))
    span = term_span(term.starts_at, term.ends_at)
    assert f"{span} · strana 1/1" in text and f"· {span}" not in text

    page = PdfReader(io.BytesIO(data)).pages[0]
    runs = []  # (text, y) of each piece of text on the page
    page.extract_text(visitor_text=lambda run, cm, tm, *_: runs.append((run.strip(), tm[5])) if run.strip() else None)
    heights = {t: y for t, y in runs}
    marks = {t: y for t, y in runs if t in ("přítomnost zapsána", "nepřítomnost zapsána")}
    assert sorted(marks) == ["nepřítomnost zapsána", "přítomnost zapsána"], runs
    row_mm = 9 * 72 / 25.4
    assert abs(marks["přítomnost zapsána"] - heights["Jana Nováková"]) < row_mm / 2
    assert abs(marks["nepřítomnost zapsána"] - heights["Petr Svoboda"]) < row_mm / 2
    assert all(abs(y - heights["Marie Dvořáková"]) > row_mm / 2 for y in marks.values())


def test_a_long_title_gives_way_to_the_page_number_in_the_sheets_footer(app):
    longest_title = db.session.scalars(select(Offer).order_by(func.length(Offer.title).desc())).first()
    term = make_term(slug=longest_title.slug)
    text = "\n".join(pages_of(pdf.attendance_sheet_pdf(fresh(Term, term.id))))
    assert f"… {term_span(term.starts_at, term.ends_at)} · strana 1/1" in text


def test_a_term_over_midnight_still_prints_both_dates_and_the_page_number(app):
    longest_title = db.session.scalars(select(Offer).order_by(func.length(Offer.title).desc())).first()
    term = make_term(slug=longest_title.slug)
    term = fresh(Term, term.id)
    term.starts_at = term.starts_at.replace(hour=20, minute=0)  # 21:00 or 22:00 in Prague, ending after midnight
    term.ends_at = term.starts_at + timedelta(hours=4)
    db.session.commit()
    data = pdf.attendance_sheet_pdf(fresh(Term, term.id))
    text = "\n".join(pages_of(data))
    assert f"… {term_span(term.starts_at, term.ends_at)} · strana 1/1" in text and " – " in text.splitlines()[-1]
    # Right-aligned and nowrap, the footer overflows its box (and runs off the page, taking the page
    # number) exactly when it has to start at the box's left edge: it must start to the right of it.
    css = PRINT_CSS.read_text()
    box_mm = float(re.search(r"@bottom-right \{[^}]*?width: ([\d.]+)mm", css).group(1))
    right_margin_mm = float(re.search(r"@page sheet \{[^}]*?margin: \S+ ([\d.]+)mm", css).group(1))
    page = PdfReader(io.BytesIO(data)).pages[0]
    starts = []
    page.extract_text(visitor_text=lambda run, cm, tm, *_: starts.append(tm[4] * cm[0]) if "strana" in run else None)
    box_left = float(page.mediabox.width) - (right_margin_mm + box_mm) * 72 / 25.4
    assert starts and starts[0] > box_left + 1, (starts, box_left)


# --- the EU emblem -----------------------------------------------------------------------------


def test_the_emblem_follows_the_eu_geometry():
    height = 540
    shape = emblem.emblem(height)
    assert shape.width / shape.height == 1.5
    assert len(shape.stars) == 12
    cx, cy = shape.width / 2, shape.height / 2
    centres = []
    for corners in shape.stars:
        assert len(corners) == 10
        outer = corners[::2]
        x = sum(p[0] for p in outer) / 5
        y = sum(p[1] for p in outer) / 5
        centres.append((x, y))
        # Each star's points lie on a circle of a ninth of the ring's diameter, 1/18 of the height...
        for px, py in outer:
            assert math.dist((px, py), (x, y)) == pytest.approx(height / 18)
        # ...and it stands upright: its first point straight above its centre, whatever its place.
        assert corners[0][0] == pytest.approx(x) and corners[0][1] < y
    # The stars' centres: on a circle of a third of the height, at the hours of a clock face.
    for hour, (x, y) in enumerate(centres):
        assert math.dist((x, y), (cx, cy)) == pytest.approx(height / 3)
        assert math.degrees(math.atan2(x - cx, cy - y)) % 360 == pytest.approx(30 * hour)


def test_the_committed_svg_is_what_the_generator_draws():
    assert SVG_FILE.read_text(encoding="utf-8") == emblem.emblem_svg(), \
        "regenerate it: .venv/bin/python -m trainings.emblem > static/img/eu-emblem.svg"
    assert f'fill="{emblem.BLUE}"' in emblem.emblem_svg() and f'fill="{emblem.GOLD}"' in emblem.emblem_svg()


def test_every_page_shows_the_emblem_beside_the_funding_line(app):
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">'):]
    img = re.search(r'<img src="(/static/img/eu-emblem\.svg)"[^>]*>\s*<strong>Spolufinancováno Evropskou unií\.',
                    footer)
    assert img and 'alt=""' in img.group(0)  # the text beside it says what it is
    svg = client.get(img.group(1))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True) == emblem.emblem_svg()


def test_an_erased_person_gets_no_page_in_the_terms_osvedceni(app):
    """Her page would print "anonymizováno" and a code the public page calls not valid."""
    term = make_term(lecturer="Mgr. Petra Lektorová")
    kept = sign_up(term, 1, name="Petr Čech")
    erased = sign_up(term, 2, name="Jana Nováková", email="jana.erased@example.cz")
    ended(term)
    attend(kept.id)
    attend(erased.id)
    erase_person("jana.erased@example.cz", organiser())

    response = organiser_client(app).get(f"/sprava/terminy/{term.id}/osvedceni.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pages_of(response.data)
    assert len(pages) == 1 and "Petr Čech" in pages[0]
    assert not any("anonymizováno" in page for page in pages)
    assert fresh(Registration, erased.id).certificate_code is None  # no code drawn for her either


def test_a_terms_codes_are_issued_in_a_few_statements_however_many_people(app):
    """One UPDATE for the whole term and one SELECT reading the rows back, not two per person."""
    from sqlalchemy import event

    counts = {}
    for size in (3, 30):
        term = make_term(capacity=40)
        term_id = term.id
        people = [sign_up(term, i, name=f"Jana Nováková {i}") for i in range(size)]
        ended(term)
        for person in people:
            attend(person.id)
        db.session.expunge_all()
        statements = []
        # The document's own statements: the project facts' "is there a newer version" check runs
        # at most every few seconds per process on a connection of its own (with the set-up of a
        # new connection, on SQLite), whatever the document; it is not part of what a term's size costs.
        own = db.session.connection()
        listener = lambda connection, *args: connection is own and statements.append(args[1])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            text = "\n".join(pages_of(pdf.term_certificates_pdf(db.session.get(Term, term_id))))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert not any("project_facts_versions" in statement for statement in statements)
        counts[size] = len(statements)
        codes = db.session.scalars(select(Registration.certificate_code).where(Registration.term_id == term_id)).all()
        assert len(set(codes)) == size and all(codes)
        assert all(f"{code[:4]}-{code[4:8]}-{code[8:]}" in text for code in codes)
    assert counts[30] == counts[3] and counts[3] <= 8, counts


def test_an_osvedceni_of_a_term_without_a_named_lecturer_prints_no_empty_lecturer_line(app):
    term = make_term(lecturer=None)
    person = sign_up(term, 1, name="Ondřej Chalupa")
    term = move_to_past(term, days=2)
    attend(person.id)
    (page,) = pages_of(pdf.term_certificates_pdf(fresh(Term, term.id)))
    assert "Ondřej Chalupa" in page and "Rozsah:" in page
    assert "Lektorské vedení" not in page
