"""Certificates for people marked present, none for no-shows, and hours per calendar
year against the 24 hours of zákon 108/2006 Sb., § 111: on the registration's private
page its own certificate, on Moje vzdělávání (a link e-mailed to the address) all of them."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from trainings.certificates.rule import can_issue
from trainings.exports.pdf import certificate_pdf
from trainings.extensions import db
from trainings.models import Registration, Term, TermForm
from trainings.person import hours
from trainings.registration import service

from .helpers import held_on, make_term, outbox
from .staff_helpers import attend, fresh, move_to_past, organiser_client, sign_up

ESF = "Spolufinancováno Evropskou unií"
REG_NO = "CZ.03.02.02/00/25_110/0006346"


# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def private_link(email, term_id):
    """A fresh private link, as a registration e-mail would carry."""
    registration = db.session.scalars(db.select(Registration).where(
        Registration.email_normalized == email, Registration.term_id == term_id)).one()
    token = service.issue_link(registration)
    db.session.commit()
    return f"/prihlaska/{token}"


def moje_vzdelavani(email):
    """The Moje vzdělávání page link, as the e-mail she asked for carries it."""
    from trainings.person import service as person

    person.request_page_link(email)
    return re.search(r"http://spod4\.test(/moje-vzdelavani/[A-Za-z0-9_-]+)", outbox("person_link")[-1].body_text).group(1)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_certificate_for_the_attended_person_and_none_for_the_no_show(app):
    term = make_term(hours=3.5, lecturer="Mgr. Jana Lektorová")
    present = sign_up(term, 1, name="Hana Přítomná")
    absent = sign_up(term, 2, name="Olga Nepřišla")
    held_on(term, datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc))
    attend(present.id, True)
    attend(absent.id, False)

    present, absent = fresh(Registration, present.id), fresh(Registration, absent.id)
    assert can_issue(present) and not can_issue(absent)
    text = pdf_text(certificate_pdf(present))
    for expected in ["OSVĚDČENÍ", "Hana Přítomná", "Od analýzy k tvorbě IPOD", "čtvrtek 12. 3. 2026, 9:00–12:30",
                     "3,5 hodiny", "Mgr. Jana Lektorová", REG_NO, ESF, "OSPOD ORP Litomyšl",
                     f"SPOD4-{term.id}-{present.id}"]:
        assert expected in text, expected

    staff = organiser_client(app)
    response = staff.get(f"/sprava/prihlasky/{present.id}/osvedceni.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Hana Přítomná" in pdf_text(response.data)
    assert staff.get(f"/sprava/prihlasky/{absent.id}/osvedceni.pdf").status_code == 404
    assert "Osvědčení (PDF)" in staff.get(f"/sprava/prihlasky/{present.id}").get_data(as_text=True)
    assert "Osvědčení (PDF)" not in staff.get(f"/sprava/prihlasky/{absent.id}").get_data(as_text=True)

    # From the person's own private link, which works until 90 days after the term.
    move_to_past(term, 3)
    client = app.test_client()
    link = private_link("ucastnice1@example.cz", term.id)
    page = client.get(link).get_data(as_text=True)
    certificate_url = f"{link}/osvedceni/{present.id}.pdf"
    assert certificate_url in page
    response = client.get(certificate_url)
    assert response.status_code == 200 and "Hana Přítomná" in pdf_text(response.data)
    assert response.headers["Cache-Control"] == "private, no-store"
    # Nobody else's certificate behind this link, and none for the no-show behind hers.
    assert client.get(f"{link}/osvedceni/{absent.id}.pdf").status_code == 404
    assert client.get(f"{link}/osvedceni/99999999999.pdf").status_code == 404
    absent_link = private_link("ucastnice2@example.cz", term.id)
    assert client.get(f"{absent_link}/osvedceni/{absent.id}.pdf").status_code == 404
    assert "osvedceni" not in client.get(absent_link).get_data(as_text=True)
    # And from Moje vzdělávání, however long ago.
    held_on(term, datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc))
    mine = moje_vzdelavani("ucastnice1@example.cz")
    assert f"{mine}/osvedceni/{present.id}.pdf" in client.get(mine).get_data(as_text=True)
    assert "Hana Přítomná" in pdf_text(client.get(f"{mine}/osvedceni/{present.id}.pdf").data)
    assert client.get(f"{mine}/osvedceni/{absent.id}.pdf").status_code == 404


def test_hours_per_calendar_year_add_up_against_the_yearly_24(app):
    email = "jana@example.cz"
    plan = [  # (start in UTC, hours on the term, attended)
        (datetime(2024, 2, 10, 8, 0, tzinfo=timezone.utc), 3.5, True),
        (datetime(2024, 6, 3, 7, 0, tzinfo=timezone.utc), 8.0, True),
        (datetime(2024, 10, 20, 8, 0, tzinfo=timezone.utc), 6.0, False),  # a no-show earns nothing
        # 23:30 UTC on New Year's Eve is already 0:30 on 1 January in Prague: it counts for 2025.
        (datetime(2024, 12, 31, 23, 30, tzinfo=timezone.utc), 2.0, True),
        (datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc), 24.0, True),
    ]
    terms = []
    for i, (starts, length, came) in enumerate(plan):
        term = make_term(hours=length)
        registration = sign_up(term, i, email=email, name="Jana Nováková")
        held_on(term, starts)
        attend(registration.id, came)
        terms.append(term)
    other = make_term(hours=5)
    stranger = sign_up(other, 99, email="petr@example.cz")
    held_on(other, datetime(2024, 5, 5, 8, 0, tzinfo=timezone.utc))
    attend(stranger.id)

    years = {y.year: y for y in hours.hours_by_year(hours.attended_registrations(email))}
    assert set(years) == {2024, 2025}
    assert years[2024].hours == 11.5 and years[2024].remaining == 12.5 and not years[2024].complete
    assert years[2025].hours == 26.0 and years[2025].remaining == 0 and years[2025].complete
    assert len(years[2024].registrations) == 2

    page = app.test_client().get(moje_vzdelavani(email)).get_data(as_text=True)
    assert "2024: 11,5 hodiny z 24 – zbývá 12,5 hodiny" in page
    assert "2025: 26 hodin z 24 – splněno" in page
    assert page.index("2025: 26 hodin") < page.index("2024: 11,5 hodiny")  # the current year first
    assert "108/2006 Sb., § 111" in page
    assert page.count("/osvedceni/") == 4  # one per attended workshop, none for the no-show
    assert "petr@example.cz" not in page and f"/osvedceni/{stranger.id}.pdf" not in page


def test_length_defaults_to_the_terms_duration_and_czech_hour_words():
    assert hours.format_hours(1) == "1 hodina"
    assert hours.format_hours(3) == "3 hodiny"
    assert hours.format_hours(3.5) == "3,5 hodiny"
    assert hours.format_hours(24) == "24 hodin"
    assert hours.format_hours(0.75) == "0,75 hodiny"


def test_term_without_hours_counts_its_length(app):
    term = make_term(hours=4.0)
    term.hours = None
    db.session.commit()
    assert db.session.get(Term, term.id).length_hours == 4.0


def test_the_private_page_shows_the_door_code_as_qr_until_she_is_checked_in(app):
    term = make_term(starts_in=timedelta(hours=2), form=TermForm.IN_PERSON, venue="Litomyšl, sál 2")
    person = sign_up(term, 1)
    link = private_link("ucastnice1@example.cz", term.id)
    page = app.test_client().get(link).get_data(as_text=True)
    assert person.check_in_code in page
    assert re.search(r"<svg[^>]*class=\"qr\"", page)
    attend(person.id)
    assert "<svg" not in app.test_client().get(link).get_data(as_text=True)
