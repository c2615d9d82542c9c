"""Journey 3 of PRODUCT.md through HTTP: an organiser manages terms and registrations,
checks people in at the door and exports the lists.

Every step goes through the pages the way a browser does (GET the form, take
its CSRF token, POST); the database, the outbox and the audit trail are read
afterwards, after a rollback, since each request runs in its own session.
"""
import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from trainings import check_in
from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    Registration,
    RegistrationState,
    Term,
    TermForm,
    TermState,
    utcnow,
)
from trainings.registration import service
from trainings.timefmt import PRAGUE

from .helpers import make_term, offer, orp, outbox, post_form, region, register_via_form
from .staff_helpers import (
    applicant,
    fresh,
    log_in,
    organiser,
    organiser_client,
    registrations_of,
    sign_up,
    token_of,
)

ESF = "Spolufinancováno Evropskou unií"
REG_NO = "CZ.03.02.02/00/25_110/0006346"


# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


@pytest.fixture
def staff(app):
    return organiser_client(app)


def local_input(moment: datetime) -> str:
    """What a datetime-local picker sends: Prague wall-clock time."""
    return moment.astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M")


def term_form(**overrides):
    starts = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    data = {
        "offer_id": offer().id,
        "starts_at": local_input(starts),
        "ends_at": local_input(starts + timedelta(hours=3, minutes=30)),
        "term_form": "prezencni",
        "venue": "Krajský úřad Pardubického kraje, zasedací místnost 2",
        "region_id": region("CZ053").id,
        "online_url": "",
        "capacity": "2",
        "per_orp_limit": "",
        "registration_deadline": "",
        "lecturer": "Mgr. Petra Lektorová",
        "hours": "3,5",
        "public": "y",
        "restricted_region_id": "",
        "restricted_orp_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register_publicly(client, term_id, i, orp_name="Litomyšl", name=None):
    response = register_via_form(client, term_id, name=name or f"Účastnice Nováková {i}",
                                 email=f"ucastnice{i}@example.cz", orp=orp(orp_name).id)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def mails(kind):
    return outbox(kind)


def tap(client, registration_id, value, term_id, q=""):
    page = client.get(f"/sprava/terminy/{term_id}/prichody", query_string={"q": q} if q else None)
    return client.post(f"/sprava/prihlasky/{registration_id}/dochazka",
                       data={"csrf_token": token_of(page), "attended": value, "q": q})


# --- the journey ------------------------------------------------------------------------


def test_journey_3_create_term_register_promote_check_in_and_export(app, staff):
    # She creates a prezenční term starting in two hours, for two people.
    form = term_form()
    response = post_form(staff, "/sprava/terminy/novy", form)
    assert response.status_code == 302
    term_id = int(re.search(r"/sprava/terminy/(\d+)$", response.headers["Location"]).group(1))
    term = fresh(Term, term_id)
    assert term.capacity == 2 and term.lecturer == "Mgr. Petra Lektorová" and term.hours == 3.5
    # The form's local time is stored as the same instant in UTC.
    assert term.starts_at.astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M") == form["starts_at"]
    assert term.starts_at.utcoffset() == timedelta(0)

    # Three people register on the public form; the third lands on the waiting list.
    public = app.test_client()
    for i, name in enumerate(["Jana Nováková", "Petr Šťastný", "Zuzana Řeháková"]):
        register_publicly(public, term_id, i, name=name)
    people = {r.name: r for r in registrations_of(term)}
    assert people["Zuzana Řeháková"].state == RegistrationState.WAITLISTED

    # Raising the capacity promotes her at once and tells her.
    response = post_form(staff, f"/sprava/terminy/{term_id}/upravit", term_form(
        capacity="3", starts_at=form["starts_at"], ends_at=form["ends_at"]))
    assert response.status_code == 302
    assert fresh(Registration, people["Zuzana Řeháková"].id).state == RegistrationState.CONFIRMED
    [promoted] = mails("registration_promoted")
    assert promoted.recipient == "ucastnice2@example.cz"
    # Her e-mail carries the door code and the check-in link in text, and the QR code in HTML.
    code = fresh(Registration, people["Zuzana Řeháková"].id).check_in_code
    assert f"Kód pro příchod: {code}" in promoted.body_text
    assert f"http://spod4.test/sprava/prichod/{code}" in promoted.body_text
    assert 'aria-label="QR kód pro příchod na workshop"' in promoted.body_html
    # Capacity is no news to the others: nobody got a "term changed" e-mail.
    assert mails("term_changed") == []

    # The term page shows the change in its history.
    page = staff.get(f"/sprava/terminy/{term_id}").get_data(as_text=True)
    assert "termín upraven" in page and "kapacita: 2 → 3" in page
    assert "posunuta z čekací listiny" in staff.get(
        f"/sprava/prihlasky/{people['Zuzana Řeháková'].id}").get_data(as_text=True)

    # At the door: a search without diacritics finds Petr; one tap marks him present, undo, tap again.
    page = staff.get(f"/sprava/terminy/{term_id}/prichody", query_string={"q": "stastny"}).get_data(as_text=True)
    assert "Petr Šťastný" in page and "Jana Nováková" not in page
    petr = people["Petr Šťastný"].id
    response = tap(staff, petr, "ano", term_id, q="stastny")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#r{petr}") and "q=stastny" in response.headers["Location"]
    assert fresh(Registration, petr).attended is True
    tap(staff, petr, "zpet", term_id)
    assert fresh(Registration, petr).attended is None and fresh(Registration, petr).attendance_marked_at is None
    tap(staff, petr, "ano", term_id)
    # The QR code from Zuzana's e-mail opens her row.
    response = staff.get(f"/sprava/prichod/{code}")
    assert response.status_code == 302
    assert f"q={code}" in response.headers["Location"] and response.headers["Location"].endswith(
        f"#r{people['Zuzana Řeháková'].id}")
    row_page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zuzana Řeháková" in row_page and "is-highlighted" in row_page and "Jana Nováková" not in row_page
    tap(staff, people["Zuzana Řeháková"].id, "ano", term_id, q=code)
    page = staff.get(f"/sprava/terminy/{term_id}/prichody").get_data(as_text=True)
    assert re.search(r"Přítomnost: <strong>2</strong> z 3", page)

    confirmed = ["Jana Nováková", "Petr Šťastný", "Zuzana Řeháková"]

    # CSV for Czech Excel: BOM, semicolons, every confirmed participant.
    response = staff.get(f"/sprava/terminy/{term_id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    names = [row[header.index("Jméno a příjmení")] for row in body]
    assert sorted(names) == sorted(confirmed)
    by_name = {row[header.index("Jméno a příjmení")]: row for row in body}
    assert by_name["Petr Šťastný"][header.index("Docházka")] == "přítomnost"
    assert by_name["Jana Nováková"][header.index("Organizace")] == "OSPOD ORP Litomyšl"

    # XLSX: a header row, dates as dates.
    response = staff.get(f"/sprava/terminy/{term_id}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["Účastníci"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "Jméno a příjmení"
    assert sorted(row[1] for row in values[1:]) == sorted(confirmed)
    assert all(isinstance(row[9], datetime) for row in values[1:])

    # The prezenční listina for signing at the door.
    response = staff.get(f"/sprava/terminy/{term_id}/prezencni-listina.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for name in confirmed:
        assert name in text
    assert ESF in text and REG_NO in text and "PREZENČNÍ LISTINA" in text
    assert "Mgr. Petra Lektorová" in text and "Krajský úřad Pardubického kraje" in text


def test_new_term_form_shows_czech_errors_next_to_fields_and_keeps_what_was_typed(app, staff):
    bad_date = term_form(starts_at="zítra ráno", capacity="0", venue="", lecturer="Jana <b>Lektorka</b>")
    response = post_form(staff, "/sprava/terminy/novy", bad_date)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Zadejte datum a čas, např. 12. 3. 2026 9:00." in page
    assert "Zadejte číslo od 1 do 500." in page
    assert 'value="zítra ráno"' in page
    assert "Jana &lt;b&gt;Lektorka&lt;/b&gt;" in page  # kept, and escaped
    assert 'id="starts_at-error"' in page and 'aria-invalid="true"' in page

    # A rule of the service (end before start) lands on its field too.
    starts = utcnow() + timedelta(days=3)
    response = post_form(staff, "/sprava/terminy/novy", term_form(
        starts_at=local_input(starts), ends_at=local_input(starts - timedelta(hours=1))))
    assert response.status_code == 422
    assert re.search(r'id="ends_at-error">Konec musí být po začátku.', response.get_data(as_text=True))
    # A prezenční term without a place.
    response = post_form(staff, "/sprava/terminy/novy", term_form(venue=""))
    assert re.search(r'id="venue-error">U prezenčního termínu vyplňte místo', response.get_data(as_text=True))
    # Czech typing works where there is no date picker, and the hours take a comma.
    response = post_form(staff, "/sprava/terminy/novy", term_form(
        starts_at="12. 3. 2030 9:00", ends_at="12.3.2030 12:30", hours="3,5"))
    assert response.status_code == 302
    term = db.session.scalars(select(Term).order_by(Term.id.desc())).first()
    assert term.starts_at.astimezone(PRAGUE).strftime("%d.%m.%Y %H:%M") == "12.03.2030 09:00"
    assert term.hours == 3.5
    assert db.session.scalar(select(db.func.count(Term.id))) == 1


def test_a_term_has_at_most_500_seats_in_both_term_forms(app, staff):
    """The prezenční listina of the largest term must render well inside the web worker's timeout."""
    response = post_form(staff, "/sprava/terminy/novy", term_form(capacity="501"))
    assert response.status_code == 422
    assert "Zadejte číslo od 1 do 500." in response.get_data(as_text=True)


def test_a_time_skipped_by_daylight_saving_and_odd_input_are_refused_in_czech(app, staff):
    response = post_form(staff, "/sprava/terminy/novy", term_form(
        starts_at="2030-03-31T02:30", ends_at="2030-03-31T05:00"))
    assert response.status_code == 422
    assert "neexistuje" in response.get_data(as_text=True)
    response = post_form(staff, "/sprava/terminy/novy", term_form(
        starts_at="0001-01-01T00:00", hours="nan", capacity="99999999999999999999999", term_form="jinak",
        offer_id="abc", per_orp_limit="-3"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Zadejte rok 2000 až 2100." in page and "Zadejte číslo, např. 3,5." in page
    assert "Zadejte číslo od 1 do 500." in page
    # Ids no database integer can hold are simply not found.
    for url in ("/sprava/terminy/99999999999", "/sprava/prihlasky/99999999999",
                "/sprava/terminy/novy?z=999999999999999999999", "/sprava/terminy/99999999999/prichody",
                "/sprava/terminy/99999999999/export.csv"):
        assert staff.get(url).status_code == 404, url
    response = staff.get("/sprava/vykazy/", query_string={"od": "0001-01-01", "do": "9999-12-31"})
    assert response.status_code == 422 and "Zadejte rok 2000 až 2100." in response.get_data(as_text=True)


def test_a_capacity_of_hundreds_of_digits_is_refused_not_a_server_error(app, staff):
    """Found by the fuzz: NumberRange turned a 400-digit int into a float and overflowed."""
    response = post_form(staff, "/sprava/terminy/novy", term_form(capacity="9" * 400, per_orp_limit="-" + "9" * 400))
    assert response.status_code == 422
    # Next to each of the two fields and again in the error summary.
    assert response.get_data(as_text=True).count("Zadejte menší číslo.") == 4


def test_duplicate_copies_the_term_a_week_later_and_the_trail_says_so(app, staff):
    source = make_term(lecturer="Mgr. Eva Lektorka", per_orp_limit=2)
    page = staff.get(f"/sprava/terminy/novy?z={source.id}").get_data(as_text=True)
    week_later = local_input(source.starts_at + timedelta(days=7))
    assert f'value="{week_later}"' in page and 'value="Mgr. Eva Lektorka"' in page
    assert "kopie" in page.lower()
    response = staff.post(f"/sprava/terminy/novy?z={source.id}", data={"csrf_token": token_of(page), **term_form(
        term_form="online", online_url="https://meet.example.cz/kopie", starts_at=week_later,
        ends_at=local_input(source.ends_at + timedelta(days=7)), lecturer="Mgr. Eva Lektorka",
        per_orp_limit="2", venue="", region_id="")})
    assert response.status_code == 302
    copy = db.session.scalars(select(Term).where(Term.id != source.id)).one()
    assert copy.per_orp_limit == 2
    assert copy.starts_at == (source.starts_at + timedelta(days=7)).replace(second=0)  # the form has minutes
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == copy.id,
                                                        AuditEntry.object_type == "terms")).one()
    assert entry.data["copied_from"] == source.id and entry.actor_id == organiser().id


def test_moving_a_term_through_the_form_tells_everyone_on_it(app, staff):
    term = make_term(capacity=1, form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 1")
    sign_up(term, 1)
    sign_up(term, 2)
    later = term.starts_at + timedelta(days=1)
    response = post_form(staff, f"/sprava/terminy/{term.id}/upravit", term_form(
        capacity="1", starts_at=local_input(later), ends_at=local_input(later + timedelta(hours=3)),
        venue="Pardubice, sál 2", hours="", lecturer=""))
    assert response.status_code == 302
    changed = mails("term_changed")
    assert sorted(m.recipient for m in changed) == ["ucastnice1@example.cz", "ucastnice2@example.cz"]
    assert "Místo: Pardubice, sál 2" in changed[0].body_text
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert "místo: Pardubice, sál 1 → Pardubice, sál 2" in page


def test_cancelling_a_term_tells_everyone_on_it(app, staff):
    term = make_term(capacity=1)
    sign_up(term, 1)
    sign_up(term, 2)
    response = post_form(staff, f"/sprava/terminy/{term.id}/zrusit", {"reason": "nemoc lektorky"})
    assert response.status_code == 302
    assert fresh(Term, term.id).state == TermState.CANCELLED
    assert sorted(m.recipient for m in mails("term_cancelled")) == ["ucastnice1@example.cz", "ucastnice2@example.cz"]
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert "termín zrušen" in page and "nemoc lektorky" in page


# --- registrations of a term ------------------------------------------------------------------


def test_registrations_list_search_filter_add_move_cancel_and_notes(app, staff):
    term = make_term(capacity=2)
    first, second = sign_up(term, 1), sign_up(term, 2, orp_name="Pardubice")
    waiting = sign_up(term, 3, name="Karolína Čekající")
    url = f"/sprava/terminy/{term.id}/prihlasky"

    page = staff.get(url, query_string={"stav": "cekaci"}).get_data(as_text=True)
    assert "Karolína Čekající" in page and "Účastnice Nováková 1" not in page
    page = staff.get(url, query_string={"q": "pardubice"}).get_data(as_text=True)
    assert "Účastnice Nováková 2" in page and "Účastnice Nováková 1" not in page

    # Added by hand: the term is full, so the waiting list, and the usual e-mail with a link.
    add = f"{url}/nova"
    response = post_form(staff, add, {
        "name": "Ruční Přidaná", "email": "rucne@example.cz", "employer_type": "krajsky_urad",
        "region": region("CZ053").id, "orp": "", "job_title": "metodička", "consent": "y",
        "note": "volala 12. 3.",
    })
    assert response.status_code == 302
    added = db.session.scalars(select(Registration).where(Registration.email == "rucne@example.cz")).one()
    assert added.state == RegistrationState.WAITLISTED and added.added_by_id == organiser().id
    assert added.internal_note == "volala 12. 3." and added.check_in_code
    assert [m.recipient for m in mails("registration_waitlisted")][-1] == "rucne@example.cz"
    # Twice the same e-mail: a Czech message at the field, no second row.
    response = post_form(staff, add, {
        "name": "Ruční Přidaná", "email": "RUCNE@example.cz", "employer_type": "krajsky_urad",
        "region": region("CZ053").id, "job_title": "metodička", "consent": "y"})
    assert response.status_code == 409
    assert "S touto e-mailovou adresou už na termínu přihláška je." in response.get_data(as_text=True)
    # Without the person's consent the form refuses.
    response = post_form(staff, add, {"name": "Bez Souhlasu", "email": "bez@example.cz", "employer_type": "jine",
                                      "region": region("CZ053").id, "job_title": "x"})
    assert response.status_code == 422 and "souhlasem" in response.get_data(as_text=True)

    # Confirming from the waiting list over capacity needs the explicit choice.
    detail = staff.get(f"/sprava/prihlasky/{waiting.id}")
    token = token_of(detail)
    staff.post(f"/sprava/prihlasky/{waiting.id}/potvrdit", data={"csrf_token": token})
    assert fresh(Registration, waiting.id).state == RegistrationState.WAITLISTED
    assert "Na termínu není volné místo" in staff.get(f"/sprava/prihlasky/{waiting.id}").get_data(as_text=True)
    staff.post(f"/sprava/prihlasky/{waiting.id}/potvrdit", data={"csrf_token": token, "over_capacity": "y"})
    assert fresh(Registration, waiting.id).state == RegistrationState.CONFIRMED
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.confirmed")).one()
    assert entry.data["over_capacity"] is True

    # Moving a confirmed person to the waiting list withdraws her calendar event; the seat stays free.
    staff.post(f"/sprava/prihlasky/{first.id}/na-cekaci-listinu", data={"csrf_token": token})
    moved = fresh(Registration, first.id)
    assert moved.state == RegistrationState.WAITLISTED and moved.waitlist_position() == 2
    [message] = mails("registration_moved_to_waitlist")
    assert message.attachments[0]["content_type"].startswith("text/calendar; method=CANCEL")

    # Cancelling on someone's behalf hands the seat to the head of the queue (the hand-added person).
    staff.post(f"/sprava/prihlasky/{second.id}/zrusit", data={"csrf_token": token, "reason": "telefonovala"})
    assert fresh(Registration, second.id).state == RegistrationState.CANCELLED
    assert fresh(Registration, added.id).state == RegistrationState.CONFIRMED
    assert [m.recipient for m in mails("registration_cancelled")] == ["ucastnice2@example.cz"]

    # Notes, and the trail on the registration's page and in the list row.
    staff.post(f"/sprava/prihlasky/{second.id}/poznamka", data={"csrf_token": token, "note": "omluvena, přijde příště"})
    assert fresh(Registration, second.id).internal_note == "omluvena, přijde příště"
    page = staff.get(f"/sprava/prihlasky/{second.id}").get_data(as_text=True)
    assert "zrušena v administraci" in page and "telefonovala" in page and "Ukázková organizátorka" in page
    assert "poznámka: — → omluvena, přijde příště" in page
    page = staff.get(url, query_string={"stav": "vse"}).get_data(as_text=True)
    assert "Historie (2)" in page


def test_fill_from_waitlist_after_a_move_hands_the_seat_on_in_queue_order(app, staff):
    term = make_term(capacity=1)
    first, second = sign_up(term, 1), sign_up(term, 2)
    token = token_of(staff.get(f"/sprava/terminy/{term.id}"))
    staff.post(f"/sprava/prihlasky/{first.id}/na-cekaci-listinu", data={"csrf_token": token})
    assert fresh(Registration, second.id).state == RegistrationState.WAITLISTED  # not handed on by itself
    assert "Doplnit z čekací listiny" in staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    staff.post(f"/sprava/terminy/{term.id}/doplnit", data={"csrf_token": token})
    assert fresh(Registration, second.id).state == RegistrationState.CONFIRMED
    assert fresh(Registration, first.id).state == RegistrationState.WAITLISTED


def test_writing_to_all_confirmed_participants_goes_through_the_outbox(app, staff):
    term = make_term(capacity=2)
    for i in range(3):
        sign_up(term, i)
    response = post_form(staff, f"/sprava/terminy/{term.id}/zprava",
                         {"subject": "Podklady k workshopu", "body": "Dobrý den,\n\npřineste si prosím kazuistiku."})
    assert response.status_code == 302
    sent = mails("term_message")
    assert sorted(m.recipient for m in sent) == ["ucastnice0@example.cz", "ucastnice1@example.cz"]
    assert sent[0].subject.startswith("Podklady k workshopu: Od analýzy k tvorbě IPOD")
    assert "přineste si prosím kazuistiku." in sent[0].body_text and "/prihlaska/" in sent[0].body_text
    assert "zpráva účastníkům" in staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    empty = post_form(staff, f"/sprava/terminy/{term.id}/zprava", {"subject": "", "body": ""})
    assert empty.status_code == 422 and "Vyplňte prosím toto pole." in empty.get_data(as_text=True)


def test_interest_list_is_counted_per_kraj(app, staff):
    from trainings.catalogue.interest import add_interest

    planned = offer("syndrom-can")
    add_interest(planned, "a@example.cz", region("CZ053").id, None)
    add_interest(planned, "b@example.cz", region("CZ053").id, None)
    add_interest(planned, "c@example.cz", region("CZ064").id, None)
    page = staff.get("/sprava/terminy/zajem").get_data(as_text=True)
    section = page[page.index(planned.title):]
    assert re.search(r"<td>Pardubický kraj</td><td>2</td><td>2</td>", section)
    assert re.search(r"<td>Jihomoravský kraj</td><td>1</td><td>1</td>", section)


def test_dashboard_rows_link_to_the_term_pages_and_past_terms_are_listed(app, staff):
    term = make_term()
    page = staff.get("/sprava/").get_data(as_text=True)
    assert f'href="/sprava/terminy/{term.id}"' in page
    assert "Termíny a docházka" in page and "Výkazy" in page
    from .staff_helpers import move_to_past

    move_to_past(term, days=10)
    assert f"/sprava/terminy/{term.id}" not in staff.get("/sprava/terminy/").get_data(as_text=True)
    past = staff.get("/sprava/terminy/", query_string={"obdobi": "probehle"}).get_data(as_text=True)
    assert f'href="/sprava/terminy/{term.id}"' in past


def test_a_closed_term_page_shows_its_sign_up_link(app, staff):
    from trainings.terms import service as terms
    from trainings.terms.service import TermData

    data = TermData.of(make_term())
    data.public = False
    closed = terms.create_term(data, actor=None)
    page = staff.get(f"/sprava/terminy/{closed.id}").get_data(as_text=True)
    link = f"http://spod4.test/prihlaska-na-termin/{closed.signup_token}"
    # A link to open, and a read-only field to copy it from even without JavaScript; the copy
    # button waits hidden for the external script (the CSP allows no inline one).
    assert f'<a href="{link}">' in page
    copy_field = re.search(rf'<input[^>]*value="{re.escape(link)}"[^>]*>', page).group(0)
    assert "readonly" in copy_field and 'id="odkaz-k-prihlaseni"' in copy_field
    assert '<label class="visually-hidden" for="odkaz-k-prihlaseni">' in page
    assert re.search(r'<button type="button"[^>]*data-copy="odkaz-k-prihlaseni" hidden>Kopírovat odkaz</button>', page)
    assert '<script src="/static/js/copy.js" defer></script>' in page
    assert "<script>" not in page
    public = staff.get(f"/sprava/terminy/{make_term().id}").get_data(as_text=True)
    assert "copy.js" not in public and "Odkaz k přihlášení" not in public


# --- the door -----------------------------------------------------------------------------------


def test_a_lecturer_checks_in_at_her_own_terms_only(app, petra_lecturer):
    hers = make_term(starts_in=timedelta(hours=1), lecturer="Mgr. Petra LEKTOROVÁ, Jan Druhý",
                     lecturers=[petra_lecturer])
    other = make_term(starts_in=timedelta(hours=1), lecturer="Jiný Lektor")
    mine = sign_up(hers, 1)
    theirs = sign_up(other, 2)
    client = app.test_client()
    assert log_in(client, petra_lecturer.email, "dlouhe-heslo-pro-test").status_code == 302

    assert client.get(f"/sprava/terminy/{hers.id}/prichody").status_code == 200
    assert client.get(f"/sprava/terminy/{other.id}/prichody").status_code == 403
    assert client.get(f"/sprava/terminy/{hers.id}").status_code == 403  # the term page is the organiser's
    assert client.get(f"/sprava/prichod/{theirs.check_in_code}").status_code == 403
    assert client.get(f"/sprava/terminy/{hers.id}/prezencni-listina.pdf").status_code == 200
    assert tap(client, mine.id, "ano", hers.id).status_code == 302
    assert fresh(Registration, mine.id).attended is True
    token = token_of(client.get(f"/sprava/terminy/{hers.id}/prichody"))
    client.post(f"/sprava/prihlasky/{theirs.id}/dochazka", data={"csrf_token": token, "attended": "ano"})
    assert fresh(Registration, theirs.id).attended is None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.attendance")).one()
    assert entry.actor_id == petra_lecturer.id and entry.data == {"attended": [None, True]}
    # Her list of terms holds only hers.
    page = client.get("/sprava/terminy/").get_data(as_text=True)
    assert f"/sprava/terminy/{hers.id}/prichody" in page and f"/sprava/terminy/{other.id}/prichody" not in page


def test_the_qr_link_asks_for_a_login_and_then_opens_the_row(app):
    term = make_term(starts_in=timedelta(hours=1))
    person = sign_up(term, 1)
    client = app.test_client()
    response = client.get(f"/sprava/prichod/{person.check_in_code}")
    assert response.status_code == 302 and "/sprava/prihlaseni" in response.headers["Location"]
    from trainings.demo import seed_demo_organiser

    email, password = seed_demo_organiser()
    response = log_in(client, email, password, next_url=f"/sprava/prichod/{person.check_in_code}")
    assert response.headers["Location"] == f"/sprava/prichod/{person.check_in_code}"
    response = client.get(response.headers["Location"])
    assert response.headers["Location"].endswith(f"#r{person.id}")
    assert client.get("/sprava/prichod/NEEXISTUJE").status_code == 404


def test_check_in_page_fits_a_phone_and_works_without_javascript(app, staff):
    term = make_term(starts_in=timedelta(hours=1))
    sign_up(term, 1)
    page = staff.get(f"/sprava/terminy/{term.id}/prichody").get_data(as_text=True)
    assert '<form method="get" role="search"' in page and 'type="search"' in page
    # One small form per tap, each with its token; no script on the page.
    assert page.count('name="attended" value="ano"') == 1 and page.count('name="csrf_token"') >= 3
    assert "<script>" not in page
    css = app.test_client().get("/static/css/app.css").get_data(as_text=True)
    assert "button.tap { width: 100%; min-height: 3rem;" in css


def test_nothing_is_marked_before_check_in_opens_and_no_shows_come_after_the_end(app, staff):
    term = make_term(starts_in=timedelta(days=5))
    person = sign_up(term, 1)
    response = tap(staff, person.id, "ano", term.id)
    assert response.status_code == 302 and fresh(Registration, person.id).attended is None
    assert "nejdříve 24 hodin před začátkem" in staff.get(response.headers["Location"]).get_data(as_text=True)

    from .staff_helpers import move_to_past

    term = move_to_past(term, days=1)
    second = service_sign_up_after_the_fact(term, 2)
    tap(staff, person.id, "ano", term.id)
    page = staff.get(f"/sprava/terminy/{term.id}/prichody").get_data(as_text=True)
    assert "Zapsat jim neúčast" in page
    staff.post(f"/sprava/terminy/{term.id}/neucast", data={"csrf_token": token_of(page)})
    assert fresh(Registration, second.id).attended is False
    assert fresh(Registration, person.id).attended is True


def service_sign_up_after_the_fact(term, i):
    """A person added by hand after the term (sign-up is closed by then)."""
    from trainings.registration import staff_actions

    return staff_actions.add_by_hand(term.id, applicant(i), organiser()).registration


def test_someone_added_at_the_door_is_not_asked_to_cancel_if_unable_to_come(app):
    """The organiser adds a walk-in while the workshop runs (or afterwards, from the paper list): her
    confirmation fits someone who is already there and offers no cancellation, which the term's start
    has closed (service.can_cancel). Someone added days ahead is still asked to free the seat."""
    from trainings.registration import staff_actions

    running = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2", starts_in=timedelta(hours=-1))
    over = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2", starts_in=timedelta(days=-1))
    ahead = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2", starts_in=timedelta(days=3))
    for term in (running, over, ahead):
        staff_actions.add_by_hand(term.id, applicant(1), organiser())
    by_term = {m.registration.term_id: m for m in mails("registration_confirmed")}

    walk_in, after_the_fact, early = by_term[running.id], by_term[over.id], by_term[ahead.id]
    for body in (walk_in.body_text, walk_in.body_html):
        assert "Pokud nemůžete přijít" not in body and "zrušit" not in body and "zrušte" not in body
        assert "Workshop už probíhá, přihlásili jsme vás přímo na místě." in body
    for body in (after_the_fact.body_text, after_the_fact.body_html):
        assert "Pokud nemůžete přijít" not in body and "zrušit" not in body
        assert "Workshop už proběhl, přihlášku jsme zapsali dodatečně." in body
    for body in (early.body_text, early.body_html):
        assert "Pokud nemůžete přijít, přihlášku prosím zrušte" in body and "Workshop už" not in body

    # Written after she cancelled again at once (the worker writes it when it sends it): the term is
    # ahead, so it neither claims the workshop is under way nor offers to cancel what she cancelled.
    later = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2", starts_in=timedelta(days=5))
    quick = staff_actions.add_by_hand(later.id, applicant(4), organiser()).registration
    service.cancel(quick.id)
    (written,) = [m for m in mails("registration_confirmed") if m.registration_id == quick.id]
    for body in (written.body_text, written.body_html):
        assert "Workshop už" not in body and "nemůžete přijít" not in body and "/prihlaska/" in body

    # Someone waiting who came anyway, confirmed by the organiser while the workshop runs.
    small = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2", capacity=1, starts_in=timedelta(hours=-1))
    staff_actions.add_by_hand(small.id, applicant(2), organiser())
    waiting = staff_actions.add_by_hand(small.id, applicant(3), organiser()).registration
    staff_actions.confirm(waiting.id, organiser(), over_capacity=True)
    (promoted,) = [m for m in mails("registration_promoted") if m.registration_id == waiting.id]
    for body in (promoted.body_text, promoted.body_html):
        assert "nemůžete přijít" not in body and "zrušit" not in body
        assert "Workshop už probíhá, přihlásili jsme vás přímo na místě." in body


def test_someone_from_the_waiting_list_at_the_door_is_let_in_with_one_tap(app, staff):
    term = make_term(capacity=1, starts_in=timedelta(minutes=30))
    sign_up(term, 1)
    waiting = sign_up(term, 2, name="Marta Čekatelka")
    page = staff.get(f"/sprava/terminy/{term.id}/prichody", query_string={"q": "marta"}).get_data(as_text=True)
    assert "Na čekací listině" in page and "Vpustit a zapsat příchod" in page
    staff.post(f"/sprava/prihlasky/{waiting.id}/vpustit", data={"csrf_token": token_of(page), "q": "marta"})
    admitted = fresh(Registration, waiting.id)
    assert admitted.state == RegistrationState.CONFIRMED and admitted.attended is True
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.admitted")).one()
    assert entry.data["over_capacity"] is True


def test_the_qr_code_in_the_e_mail_is_the_check_in_url(app):
    """The e-mail's table of cells, read back, is the very QR symbol of the check-in URL."""
    term = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2")  # online terms have no door
    person = sign_up(term, 1)
    [message] = mails("registration_confirmed")
    url = check_in.check_in_url(person)
    assert url == f"http://spod4.test/sprava/prichod/{person.check_in_code}"
    start = message.body_html.index('aria-label="QR kód pro příchod na workshop"')
    html = message.body_html[start:message.body_html.index("</div>", start)]
    rows = []
    for line in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        row = []
        for width, colour in re.findall(r'<td width="(\d+)" height="\d+" bgcolor="(#\w+)"></td>', line):
            row += [colour == "#000"] * (int(width) // check_in.MODULE_PX)
        rows.append(row)
    assert rows == check_in.qr_rows(url)
    assert max(len(line) for line in message.body_html.splitlines()) < 998  # SMTP's line limit
    assert len(message.body_html) < 60_000


def test_the_start_page_shows_today_first_and_the_terms_list_a_page_at_a_time(app, staff, monkeypatch):
    from trainings.staff import views as staff_views
    from trainings.terms import staff_views as term_views

    monkeypatch.setattr(staff_views, "DASHBOARD_TERMS", 2)
    monkeypatch.setattr(term_views, "TERMS_PER_PAGE", 2)
    now = datetime.now(PRAGUE)
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    running = make_term(starts_in=-min(timedelta(hours=1), since_midnight / 2))  # began today: today's work
    later = [make_term(starts_in=timedelta(days=3 + i)) for i in range(3)]

    def linked(page):
        return [t for t in (running, *later) if f'href="/sprava/terminy/{t.id}"' in page]

    home = staff.get("/sprava/").get_data(as_text=True)
    assert linked(home) == [running, later[0]]
    assert "(ještě 2 termíny)" in home
    first = staff.get("/sprava/terminy/").get_data(as_text=True)
    assert linked(first) == [running, later[0]] and "Strana 1 z 2" in first
    assert linked(staff.get("/sprava/terminy/?strana=2").get_data(as_text=True)) == later[1:]


def test_a_term_that_ended_an_hour_ago_is_among_the_past_ones_at_once(app, staff):
    ended = make_term(starts_in=timedelta(hours=-4), hours=3)  # ended an hour ago, today or yesterday
    running = make_term(starts_in=timedelta(hours=-1), hours=3)
    current = staff.get("/sprava/terminy/").get_data(as_text=True)
    past = staff.get("/sprava/terminy/", query_string={"obdobi": "probehle"}).get_data(as_text=True)
    assert f'href="/sprava/terminy/{running.id}"' in current and f'href="/sprava/terminy/{running.id}"' not in past
    assert f'href="/sprava/terminy/{ended.id}"' in past and f'href="/sprava/terminy/{ended.id}"' not in current
