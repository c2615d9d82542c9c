"""Journey 1 of PRODUCT.md: an OSPOD worker signs up for "Od analýzy k tvorbě IPOD".

She finds the workshop in the catalogue, registers without an account, gets an
e-mail with a private link, lands on the waiting list when the term is full,
moves up when someone cancels, and can cancel from the link in her e-mail.
Everything goes through HTTP the way a browser does (GET the form, take the
CSRF token from the page, POST); the database and the outbox are checked
afterwards. The last tests call the registration service directly.
"""
import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from trainings import timefmt
from trainings.db_session import locked, transaction
from trainings.extensions import db
from trainings.models import (
    EmployerType,
    Registration,
    RegistrationState,
    StaffRole,
    Term,
    TermForm,
    TermState,
    User,
    utcnow,
)
from trainings.registration import service

from .helpers import (
    MANAGE_LINK,
    cancel_via_link,
    field_error,
    form_data,
    form_url,
    make_term,
    manage_link,
    only_message,
    open_link,
    orp,
    outbox,
    person,
    region,
    register_via_form,
    session_csrf,
    token_of,
)
from .helpers import csrf as _csrf
from .staff_helpers import applicant as shared_applicant
from .staff_helpers import fresh, remove_user, staff_user

ONLINE_URL = "https://meet.example.cz/ipod"  # what make_term gives an online term


# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


# --- helpers: what a browser does ---------------------------------------------


messages = outbox  # the journey's word for it


def registration_of(email):
    db.session.rollback()
    return db.session.scalars(select(Registration).where(Registration.email_normalized == email.lower())).one()


def registrations_of(email):
    """Every registration of the address, oldest first."""
    db.session.rollback()
    return db.session.scalars(
        select(Registration).where(Registration.email_normalized == email.lower()).order_by(Registration.id)).all()


def registration_count():
    db.session.rollback()
    return db.session.scalar(select(func.count(Registration.id)))


def flashes(client):
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def selected_option(html, field):
    select_html = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
    match = re.search(r'<option[^>]*\bselected\b[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*\bselected\b',
                      select_html)
    return (match.group(1) or match.group(2)) if match else None


# --- 1. she finds the workshop and registers ----------------------------------


def test_ospod_worker_from_litomysl_finds_the_ipod_workshop_and_registers(client, app):
    term = make_term(capacity=12)

    catalogue = client.get("/").get_data(as_text=True)
    assert "Od analýzy k tvorbě IPOD" in catalogue
    workshop = client.get("/nabidka/od-analyzy-k-tvorbe-ipod").get_data(as_text=True)
    assert "12 míst z 12" in workshop
    assert form_url(term) in workshop

    form = client.get(form_url(term)).get_data(as_text=True)
    assert "Od analýzy k tvorbě IPOD" in form and "12 míst z 12" in form
    assert "Účet nepotřebujete" in form
    assert ONLINE_URL not in form  # the meeting link is for confirmed participants only

    response = register_via_form(client, term)
    token = token_of(response)

    # The answer says where her result went; it shows nothing of the registration itself
    # (it looks the same when the address was already on the term: tests/test_same_answer.py).
    html = open_link(client, response.headers["Location"])
    assert "<h1>Přihláška odeslána</h1>" in html
    assert "Přihlášku jsme přijali. E-mail o ní posíláme na adresu jana.novakova@litomysl.cz." in html
    assert "Od analýzy k tvorbě IPOD" in html and "Poslat odkaz znovu" in html
    assert token not in html and ONLINE_URL not in html

    # Her private page, from the link in her e-mail.
    html = open_link(client, f"/prihlaska/{token}")
    assert "Stav: <strong>potvrzená</strong>" in html
    assert ONLINE_URL in html
    assert "Jana Nováková" in html and "Litomyšl" in html and "Pardubický kraj" in html
    assert "Zrušit přihlášku" in html

    registration = registration_of("jana.novakova@litomysl.cz")
    assert registration.state == RegistrationState.CONFIRMED
    assert registration.term_id == term.id
    assert (registration.name, registration.job_title) == ("Jana Nováková", "sociální pracovnice")
    assert registration.employer_type == EmployerType.OSPOD
    assert (registration.region.code, registration.orp.name) == ("CZ053", "Litomyšl")
    assert registration.consent_at is not None and registration.consent_version

    mail = only_message("registration_confirmed", "jana.novakova@litomysl.cz")
    assert mail.registration_id == registration.id
    assert "Od analýzy k tvorbě IPOD" in mail.subject
    assert "potvrzená" in mail.body_text
    assert ONLINE_URL in mail.body_text
    link = manage_link(mail)
    assert link.startswith("http://spod4.test/prihlaska/")
    assert urlsplit(link).path == f"/prihlaska/{token}"
    assert messages() == [mail]  # nothing else was queued

    # Later, from her mailbox, in another browser.
    html = open_link(app.test_client(), link)
    assert "potvrzená" in html and "Jana Nováková" in html and ONLINE_URL in html


# --- 2. full term, waiting list, cancellation, promotion ----------------------


def test_full_term_puts_people_on_the_waiting_list_and_a_cancellation_promotes_the_first(client, app):
    term = make_term(capacity=2)
    for n in (1, 2):
        token_of(register_via_form(client, term, **person(n, "Svitavy")))
        assert registration_of(f"ucastnice{n}@ospod.cz").state == RegistrationState.CONFIRMED

    form = client.get(form_url(term)).get_data(as_text=True)
    assert "0 míst z 2" in form and "Zapsat se na čekací listinu" in form

    third_browser = app.test_client()
    token = token_of(register_via_form(third_browser, term, **person(3)))
    html = open_link(third_browser, f"/prihlaska/{token}")
    assert "na čekací listině" in html and "jste 1. v pořadí" in html
    assert ONLINE_URL not in html
    assert registration_of("ucastnice3@ospod.cz").state == RegistrationState.WAITLISTED
    waitlisted = only_message("registration_waitlisted", "ucastnice3@ospod.cz")
    assert "1. v pořadí" in waitlisted.body_text
    assert ONLINE_URL not in waitlisted.body_text and ONLINE_URL not in waitlisted.body_html

    token_of(register_via_form(client, term, **person(4)))
    fourth_link = manage_link(only_message("registration_waitlisted", "ucastnice4@ospod.cz"))
    assert "2. v pořadí" in only_message("registration_waitlisted", "ucastnice4@ospod.cz").body_text
    assert "jste 2. v pořadí" in open_link(app.test_client(), fourth_link)

    # The first one cannot come and cancels through the link in her e-mail.
    first_link = manage_link(only_message("registration_confirmed", "ucastnice1@ospod.cz"))
    first_browser = app.test_client()
    response = cancel_via_link(first_browser, first_link)
    assert response.status_code == 302
    html = open_link(first_browser, urljoin(first_link, response.headers["Location"]))
    assert "Přihláška je zrušená. Děkujeme za uvolněné místo." in html
    assert "Stav: <strong>zrušená</strong>" in html and "Zrušit přihlášku" not in html

    first = registration_of("ucastnice1@ospod.cz")
    assert first.state == RegistrationState.CANCELLED and first.cancelled_at is not None
    assert registration_of("ucastnice2@ospod.cz").state == RegistrationState.CONFIRMED
    assert registration_of("ucastnice3@ospod.cz").state == RegistrationState.CONFIRMED
    assert registration_of("ucastnice4@ospod.cz").waitlist_position() == 1
    assert "jste 1. v pořadí" in open_link(app.test_client(), fourth_link)

    cancelled = only_message("registration_cancelled", "ucastnice1@ospod.cz")
    assert "zrušená" in cancelled.body_text
    promoted = only_message("registration_promoted", "ucastnice3@ospod.cz")
    assert ONLINE_URL in promoted.body_text
    html = open_link(app.test_client(), manage_link(promoted))
    assert "Stav: <strong>potvrzená</strong>" in html and "Účastnice 3" in html and ONLINE_URL in html
    assert not messages("registration_promoted", "ucastnice4@ospod.cz")


# --- 3. per-ORP limit ------------------------------------------------------------


def test_per_orp_limit_waitlists_a_second_colleague_from_the_same_orp_until_the_first_cancels(client, app):
    term = make_term(capacity=3, per_orp_limit=1)
    form = client.get(form_url(term)).get_data(as_text=True)
    assert "<dt>Z jedné ORP</dt><dd><strong>nejvýše 1 místo</strong></dd>" in form

    register_via_form(client, term, **person(1, "Litomyšl"))
    register_via_form(client, term, **person(2, "Litomyšl"))
    register_via_form(client, term, **person(3, "Svitavy"))

    assert registration_of("ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    second = registration_of("ucastnice2@ospod.cz")
    assert second.state == RegistrationState.WAITLISTED and second.waitlist_position() == 1
    assert registration_of("ucastnice3@ospod.cz").state == RegistrationState.CONFIRMED
    only_message("registration_waitlisted", "ucastnice2@ospod.cz")

    first_link = manage_link(only_message("registration_confirmed", "ucastnice1@ospod.cz"))
    assert cancel_via_link(app.test_client(), first_link).status_code == 302

    assert registration_of("ucastnice1@ospod.cz").state == RegistrationState.CANCELLED
    assert registration_of("ucastnice2@ospod.cz").state == RegistrationState.CONFIRMED
    only_message("registration_promoted", "ucastnice2@ospod.cz")


def test_the_per_orp_limit_says_what_happened_not_that_the_term_is_full(client, app):
    term = make_term(capacity=20, per_orp_limit=3)
    offer_page = client.get(f"/nabidka/{term.offer.slug}").get_data(as_text=True)
    assert "z jedné ORP nejvýše 3 místa" in offer_page
    form = client.get(form_url(term)).get_data(as_text=True)
    assert "<dt>Volná místa</dt><dd><strong>20 míst z 20</strong></dd>" in form
    assert "<dt>Z jedné ORP</dt><dd><strong>nejvýše 3 místa</strong></dd>" in form

    for n in (1, 2, 3):
        assert service.register(term.id, applicant(n, "Litomyšl")).waitlist_position is None
    first_waiting = service.register(term.id, applicant(4, "Litomyšl"))
    assert (first_waiting.waitlist_position, first_waiting.waitlist_reason) == (1, service.ORP_LIMIT)

    token = token_of(register_via_form(client, term, **person(5, "Litomyšl")))
    # Her page says it whenever she opens it.
    page = open_link(app.test_client(), f"/prihlaska/{token}")
    assert "Termín je obsazený" not in page
    assert "jste 2. v pořadí" in page
    assert "Za vaši ORP jsou obsazena všechna 3 místa, která termín jedné ORP vyhrazuje." in page
    assert "Když se místo pro vaši ORP uvolní, přesuneme vás automaticky" in page

    mail = only_message("registration_waitlisted", "ucastnice5@ospod.cz")
    for body in (mail.body_text, mail.body_html):
        assert "jste 2. v pořadí" in body or "jste <strong>2. v pořadí</strong>" in body
        assert "Za vaši ORP jsou obsazena všechna 3 místa, která termín jedné ORP vyhrazuje." in body
        assert "obsazený" not in body

    # The page still shows 17 of 20 seats free, and someone from another ORP gets one.
    assert "17 míst z 20" in client.get(form_url(term)).get_data(as_text=True)
    assert service.register(term.id, applicant(6, "Svitavy")).waitlist_position is None


@pytest.mark.parametrize(("limit", "words"), [
    (1, "Za vaši ORP je obsazeno jediné místo, které termín jedné ORP vyhrazuje"),
    (2, "Za vaši ORP jsou obsazena všechna 2 místa, která termín jedné ORP vyhrazuje"),
    (5, "Za vaši ORP je obsazeno všech 5 míst, která termín jedné ORP vyhrazuje"),
])
def test_the_per_orp_reason_agrees_with_its_number(limit, words):
    assert service.waitlist_reason_text(service.ORP_LIMIT, limit) == words


def test_a_full_term_still_says_it_is_full(client, app):
    term = make_term(capacity=1, per_orp_limit=1)
    service.register(term.id, applicant(1, "Svitavy"))
    html = open_link(client, f"/prihlaska/{token_of(register_via_form(client, term))}")
    assert "Termín je obsazený. Když se místo uvolní, přesuneme vás automaticky" in html
    assert "jste 1. v pořadí" in html and "Za vaši ORP" not in html
    assert "Termín je obsazený." in only_message("registration_waitlisted", "jana.novakova@litomysl.cz").body_text


# --- 3b. cancelling takes a confirmation, and can be undone ------------------------


def _confirm_and_cancel(client, link):
    html = open_link(client, urlsplit(link).path + "/zrusit")
    return client.post(urlsplit(link).path + "/zrusit", data={"csrf_token": _csrf(html)})


def _undo(client, link):
    page = open_link(client, urlsplit(link).path)
    action = re.search(r'<form method="post" action="([^"]+)" class="undo">', page).group(1)
    assert action == urlsplit(link).path + "/vratit-zruseni"
    return client.post(action, data={"csrf_token": _csrf(page)})


def test_cancelling_asks_first_naming_the_term_and_a_way_back_changes_nothing(client, app):
    term = make_term(capacity=5)
    token = token_of(register_via_form(client, term))
    page = client.get(f"/prihlaska/{token}/zrusit")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    date_and_time = timefmt.term_span(term.starts_at, term.ends_at)
    assert (f"Opravdu zrušit přihlášku na workshop <strong>Od analýzy k tvorbě IPOD</strong>, {date_and_time}?"
            in html)
    assert re.search(rf'<form method="post" action="/prihlaska/{token}/zrusit"', html)
    assert '<button type="submit" class="danger">Ano, zrušit přihlášku</button>' in html
    assert f'<a class="button secondary" href="/prihlaska/{token}">Ne, ponechat přihlášku</a>' in html
    assert "30 minut" in html
    # Opening the page cancels nothing.
    assert registration_of("jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED
    assert not messages("registration_cancelled")


def test_she_cancels_and_undoes_it_while_the_seat_is_free(client, app):
    term = make_term(capacity=1)
    token = token_of(register_via_form(client, term))
    link = f"http://spod4.test/prihlaska/{token}"
    first_sequence = registration_of("jana.novakova@litomysl.cz").calendar_sequence

    assert _confirm_and_cancel(client, link).status_code == 302
    html = open_link(client, f"/prihlaska/{token}")
    assert "Přihláška je zrušená" in html and "Stav: <strong>zrušená</strong>" in html
    deadline = timefmt.date_time(registration_of("jana.novakova@litomysl.cz").cancelled_at
                                 + service.UNDO_WINDOW, "genitive")
    assert f"můžete zrušení vrátit do {deadline}" in html
    assert "Vrátit zrušení" in html

    response = _undo(client, link)
    assert response.status_code == 302
    html = open_link(client, f"/prihlaska/{token}")
    assert "Zrušení je vrácené, přihláška je znovu potvrzená." in html
    assert "Stav: <strong>potvrzená</strong>" in html
    registration = registration_of("jana.novakova@litomysl.cz")
    assert registration.state == RegistrationState.CONFIRMED and registration.cancelled_at is None

    # A new invitation that outranks the CANCEL she got, like a promotion's.
    cancelled, confirmed_again = messages("registration_cancelled")[-1], messages("registration_confirmed")[-1]
    assert len(messages("registration_confirmed")) == 2
    sequence = re.compile(r"SEQUENCE:(\d+)")
    cancel_ics = cancelled.attachments[0]["data"]
    request_ics = confirmed_again.attachments[0]["data"]
    assert "METHOD:REQUEST" in request_ics
    assert int(sequence.search(request_ics).group(1)) > int(sequence.search(cancel_ics).group(1)) > first_sequence
    assert service.registration_for_token(urlsplit(manage_link(confirmed_again)).path.split("/")[-1]) is not None
    # The seat is hers again: the next person waits.
    assert service.register(term.id, applicant(2)).waitlist_position == 1


def test_undo_is_refused_when_someone_took_the_seat_and_offers_a_fresh_sign_up(client, app):
    term = make_term(capacity=1)
    token = token_of(register_via_form(client, term))
    link = f"http://spod4.test/prihlaska/{token}"
    service.register(term.id, applicant(2))  # waiting
    undo_page = open_link(client, f"/prihlaska/{token}")
    assert _confirm_and_cancel(client, link).status_code == 302
    assert registration_of("ucastnice2@ospod.cz").state == RegistrationState.CONFIRMED  # promoted at once

    html = open_link(client, f"/prihlaska/{token}")
    assert "Vrátit zrušení" not in html
    assert f'<a href="/termin/{term.id}/prihlaska">přihláškou na tento termín</a>' in html

    # A page opened before the seat went (another tab) still posts: the refusal says why.
    response = client.post(f"/prihlaska/{token}/vratit-zruseni", data={"csrf_token": _csrf(undo_page)})
    assert response.status_code == 302
    html = open_link(client, f"/prihlaska/{token}")
    assert "Uvolněné místo mezitím obsadil někdo jiný, zrušení proto nelze vrátit." in html
    assert registration_of("jana.novakova@litomysl.cz").state == RegistrationState.CANCELLED
    assert len(messages("registration_confirmed", "jana.novakova@litomysl.cz")) == 1


def test_undo_follows_the_per_orp_limit(app):
    term = make_term(capacity=5, per_orp_limit=1)
    first = service.register(term.id, applicant(1, "Litomyšl"))
    service.cancel(first.registration.id)
    service.register(term.id, applicant(2, "Litomyšl"))
    with pytest.raises(service.UndoRefused, match="Místo za vaši ORP mezitím obsadil někdo jiný"):
        service.undo_cancel(first.registration.id)


def test_undo_only_for_her_own_cancellation_within_the_window_on_an_open_term(app):
    term = make_term(capacity=5)
    late = service.register(term.id, applicant(1))
    service.cancel(late.registration.id)
    after_window = utcnow() + service.UNDO_WINDOW + timedelta(seconds=1)
    with pytest.raises(service.UndoRefused, match="Zrušení šlo vrátit jen 30 minut; ta doba uplynula"):
        service.undo_cancel(late.registration.id, now=after_window)
    service.undo_cancel(late.registration.id, now=utcnow() + service.UNDO_WINDOW - timedelta(seconds=5))

    by_staff = service.register(term.id, applicant(2))
    staff = User(email="org@spod4.test", name="Olga Organizátorová", role=StaffRole.ORGANISER)
    db.session.add(staff)
    db.session.commit()
    service.cancel(by_staff.registration.id, actor=staff, reason="na žádost e-mailem")
    with pytest.raises(service.UndoRefused, match="Zrušení už nelze vrátit"):
        service.undo_cancel(by_staff.registration.id)

    closing = service.register(term.id, applicant(3))
    service.cancel(closing.registration.id)
    with pytest.raises(service.UndoRefused, match="uzavřené"):
        service.undo_cancel(closing.registration.id, now=term.starts_at)
    with pytest.raises(service.UndoRefused):
        service.undo_cancel(999999)


def test_an_online_term_has_no_door_code_and_says_how_attendance_is_taken(client, app):
    online = make_term()
    token = token_of(register_via_form(client, online))
    page = client.get(f"/prihlaska/{token}").get_data(as_text=True)
    mail = only_message("registration_confirmed", "jana.novakova@litomysl.cz")
    code = registration_of("jana.novakova@litomysl.cz").check_in_code
    for shown in (page, mail.body_text, mail.body_html):
        assert "U vstupu" not in shown and "QR kód" not in shown and code not in shown
        assert "Účast na online setkání se zapisuje podle jmen" in shown

    in_person = make_term(form=TermForm.IN_PERSON, venue="Litomyšl, sál 2")
    token = token_of(register_via_form(app.test_client(), in_person, email="petra@litomysl.cz"))
    page = client.get(f"/prihlaska/{token}").get_data(as_text=True)
    mail = only_message("registration_confirmed", "petra@litomysl.cz")
    for shown in (page, mail.body_text, mail.body_html):
        assert "U vstupu" in shown and registration_of("petra@litomysl.cz").check_in_code in shown
        assert "online setkání zapíše" not in shown


# --- 4. the same e-mail twice ---------------------------------------------------


def test_signing_up_again_with_her_address_brings_her_link_by_e_mail(client, app):
    term = make_term()
    token_of(register_via_form(client, term))
    old_link = manage_link(only_message("registration_confirmed", "jana.novakova@litomysl.cz"))

    # She forgot she signed up: the answer is a sign-up's, and her mailbox says the rest.
    response = register_via_form(client, term, email="  Jana.Novakova@LITOMYSL.cz ")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/termin/{term.id}/prihlaska/odeslano"
    assert registration_count() == 1
    told = only_message("already_registered", "jana.novakova@litomysl.cz")
    assert "na tento termín už máte přihlášku" in told.body_text
    assert "Stav přihlášky: potvrzená." in told.body_text
    again_link = manage_link(told)

    # The page after it also offers the link again, should the e-mail not come.
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    resend = re.search(r'<form method="post" action="([^"]+)" class="resend" novalidate>(.*?)</form>', html, re.S)
    action, resend_html = resend.group(1), resend.group(2)
    assert action == f"/termin/{term.id}/odkaz"
    response = client.post(action, data={"csrf_token": _csrf(resend_html), "email": "jana.novakova@litomysl.cz"})
    assert response.status_code == 302
    assert "poslali jsme na něj odkaz" in client.get(response.headers["Location"]).get_data(as_text=True)

    new_link = manage_link(only_message("registration_link", "jana.novakova@litomysl.cz"))
    assert len({old_link, again_link, new_link}) == 3
    for link in (new_link, again_link, old_link):
        html = open_link(app.test_client(), link)
        assert "Jana Nováková" in html and "Stav: <strong>potvrzená</strong>" in html
    assert registration_count() == 1


def test_resend_for_an_unknown_email_answers_the_same_and_sends_nothing(client):
    term = make_term()
    page = client.get(form_url(term)).get_data(as_text=True)
    response = client.post(f"/termin/{term.id}/odkaz", data={"csrf_token": _csrf(page), "email": "nikdo@example.cz"})
    assert response.status_code == 302
    assert any("poslali jsme na něj odkaz" in f for f in flashes(client))
    assert messages() == []


# --- 5. registering again after cancelling -------------------------------------


def test_registering_again_after_cancelling_gives_a_fresh_confirmed_registration(client, app):
    term = make_term(capacity=2)
    register_via_form(client, term)
    first_link = manage_link(only_message("registration_confirmed", "jana.novakova@litomysl.cz"))
    cancel_via_link(app.test_client(), first_link)
    assert registration_of("jana.novakova@litomysl.cz").state == RegistrationState.CANCELLED

    response = register_via_form(client, term, email="JANA.novakova@litomysl.cz", orp=orp("Svitavy").id,
                                 job_title="vedoucí OSPOD")
    token = token_of(response)
    html = open_link(client, f"/prihlaska/{token}")
    assert "Stav: <strong>potvrzená</strong>" in html and "Svitavy" in html and ONLINE_URL in html

    # A registration of its own; the cancelled one stays as it was.
    cancelled, registration = registrations_of("jana.novakova@litomysl.cz")
    assert cancelled.state == RegistrationState.CANCELLED and cancelled.orp.name == "Litomyšl"
    assert registration.state == RegistrationState.CONFIRMED
    assert registration.cancelled_at is None
    assert (registration.orp.name, registration.job_title) == ("Svitavy", "vedoucí OSPOD")
    assert registration_count() == 2
    confirmations = messages("registration_confirmed")
    assert len(confirmations) == 2
    assert urlsplit(manage_link(confirmations[-1])).path == f"/prihlaska/{token}"
    assert [m.kind for m in messages()] == ["registration_confirmed", "registration_cancelled",
                                            "registration_confirmed"]


def test_a_sign_up_after_her_cancellation_is_a_new_registration_and_her_old_link_stays_hers(client, app):
    term = make_term(capacity=5, form=TermForm.IN_PERSON, venue="Litomyšl, sál 2")
    register_via_form(client, term)
    jana_link = manage_link(only_message("registration_confirmed", "jana.novakova@litomysl.cz"))
    jana_code = registration_of("jana.novakova@litomysl.cz").check_in_code
    cancel_via_link(app.test_client(), jana_link)

    # Someone else types her address on the same term.
    register_via_form(app.test_client(), term, name="Cizí Osoba", email="jana.novakova@litomysl.cz",
                      orp=orp("Svitavy").id, job_title="cizí pozice")
    stranger_link = manage_link(messages("registration_confirmed", "jana.novakova@litomysl.cz")[-1])

    old, new = registrations_of("jana.novakova@litomysl.cz")
    assert (old.name, old.state, old.check_in_code) == ("Jana Nováková", RegistrationState.CANCELLED, jana_code)
    assert (new.name, new.state) == ("Cizí Osoba", RegistrationState.CONFIRMED)
    assert new.check_in_code != jana_code
    assert stranger_link != jana_link

    # Her old link shows her own cancelled registration: nothing of the stranger, nothing to act on.
    html = open_link(app.test_client(), jana_link)
    assert "Stav: <strong>zrušená</strong>" in html and "Jana Nováková" in html and "Litomyšl" in html
    for theirs in ("Cizí Osoba", "Svitavy", "cizí pozice", new.check_in_code):
        assert theirs not in html, theirs
    assert "Zrušit přihlášku" not in html and "jiny-termin" not in html and "predat" not in html
    assert "Vrátit zrušení" not in html  # a new registration is active on the term
    # The stranger's link is the new registration's, with its own door code.
    html = open_link(app.test_client(), stranger_link)
    assert "Cizí Osoba" in html and new.check_in_code in html and jana_code not in html


def test_undo_gives_back_her_own_registration_only_while_no_new_one_is_active(app):
    term = make_term(capacity=5)
    first = service.register(term.id, applicant(1))
    service.cancel(first.registration.id)
    again = service.register(term.id, applicant(1))
    assert again.registration.id != first.registration.id

    with pytest.raises(service.UndoRefused):
        service.undo_cancel(first.registration.id)
    assert [r.state for r in registrations_of("ucastnice1@ospod.cz")] == [RegistrationState.CANCELLED,
                                                                         RegistrationState.CONFIRMED]

    # With the new one cancelled too, her first cancellation (within its window) can be undone.
    service.cancel(again.registration.id)
    service.undo_cancel(first.registration.id)
    assert [r.state for r in registrations_of("ucastnice1@ospod.cz")] == [RegistrationState.CONFIRMED,
                                                                         RegistrationState.CANCELLED]


@pytest.fixture
def organiser(app):
    user = staff_user("organizator-znovu@spod4.example", "Olga Organizátorová", StaffRole.ORGANISER)
    yield user
    remove_user(user.id)


def test_staff_a_handover_and_a_switch_onto_a_term_with_her_cancelled_registration_make_a_new_one(organiser):
    from trainings.registration import handover, staff_actions, switching

    term, other = make_term(capacity=5), make_term(capacity=5, starts_in=timedelta(days=21))

    cancelled = service.register(term.id, applicant(1)).registration
    service.cancel(cancelled.id)
    added = staff_actions.add_by_hand(term.id, applicant(1), organiser).registration
    assert added.id != cancelled.id

    petra = service.register(term.id, applicant(2)).registration
    service.cancel(petra.id)
    giver = service.register(term.id, applicant(3)).registration
    offered = handover.offer(giver.id, applicant(2))
    taken = handover.confirm(offered.token).registration
    assert taken.id != petra.id

    moved_away = service.register(other.id, applicant(4)).registration
    service.cancel(moved_away.id)
    seat = service.register(term.id, applicant(4)).registration
    moved = switching.switch(seat.id, other.id).registration
    assert moved.id != moved_away.id

    for email, states in (("ucastnice1@ospod.cz", ["cancelled", "confirmed"]),
                          ("ucastnice2@ospod.cz", ["cancelled", "confirmed"]),
                          ("ucastnice4@ospod.cz", ["cancelled", "cancelled", "confirmed"])):
        assert [r.state.value for r in registrations_of(email)] == states, email


def test_the_database_holds_one_active_registration_per_address_and_term(app):
    from sqlalchemy.exc import IntegrityError

    term = make_term(capacity=5)
    first = service.register(term.id, applicant(1)).registration

    def row(state):
        values = {c: getattr(first, c) for c in ("employer_type", "job_title", "region_id", "orp_id", "consent_at",
                                                  "consent_version", "name", "email", "email_normalized")}
        return Registration(term_id=term.id, state=state, **values)

    db.session.add(row(RegistrationState.CANCELLED))
    db.session.commit()  # a cancelled one beside the active one: history, allowed
    db.session.add(row(RegistrationState.WAITLISTED))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert len(registrations_of("ucastnice1@ospod.cz")) == 2


# --- 6. bad input --------------------------------------------------------------

REQUIRED_FIELDS = {
    "name": "Vyplňte prosím toto pole.",
    "email": "Vyplňte prosím toto pole.",
    "employer_type": "Vyberte typ zaměstnavatele.",
    "region": "Vyberte kraj.",
    "job_title": "Vyplňte prosím toto pole.",
    "consent": "Bez souhlasu se zpracováním údajů se nelze přihlásit.",
}


def submit_again(client, term, page_html, **overrides):
    """Send the form once more from the page she is looking at (e.g. the one with errors)."""
    return client.post(form_url(term), data={"csrf_token": _csrf(page_html), **form_data(**overrides)})


def refused(response, field):
    """The Czech message next to `field` of a refused form (status 422)."""
    assert response.status_code == 422, (field, response.status_code)
    html = response.get_data(as_text=True)
    assert "Formulář obsahuje chyby" in html
    return field_error(html, field)


def test_each_missing_required_field_gets_a_czech_message_next_to_it_and_the_rest_is_kept(client):
    term = make_term()
    html = client.get(form_url(term)).get_data(as_text=True)
    for missing, message in REQUIRED_FIELDS.items():
        response = submit_again(client, term, html, **{missing: None})
        assert refused(response, missing) == message, missing
        html = response.get_data(as_text=True)
        if missing != "name":
            assert 'value="Jana Nováková"' in html, missing
        if missing != "email":
            assert 'value="jana.novakova@litomysl.cz"' in html, missing
        if missing != "job_title":
            assert 'value="sociální pracovnice"' in html, missing
        if missing != "region":
            assert selected_option(html, "region") == str(region("CZ053").id), missing
            assert selected_option(html, "orp") == str(orp("Litomyšl").id), missing
        if missing != "employer_type":
            assert re.search(r'<input[^>]*checked[^>]*value="ospod"|<input[^>]*value="ospod"[^>]*checked', html)
    assert registration_count() == 0
    assert messages() == []


def test_an_invalid_email_is_refused_in_czech_and_kept_in_the_field(client):
    term = make_term()
    html = client.get(form_url(term)).get_data(as_text=True)
    invalid = "Zadejte platnou e-mailovou adresu, např. jana.novakova@mesto.cz."
    for email, message in [
        ("jana@", invalid),
        ("bez zavinace", invalid),
        ("jana@@litomysl.cz", invalid),
        ("x" * 250 + "@litomysl.cz", "Nejvýše 254 znaků."),
    ]:
        response = submit_again(client, term, html, email=email)
        assert message in refused(response, "email"), email
        html = response.get_data(as_text=True)
        assert f'value="{email}"' in html
    assert registration_count() == 0


def test_an_orp_outside_the_chosen_kraj_is_refused(client):
    term = make_term()
    response = register_via_form(client, term, orp=orp("Benešov").id)
    assert refused(response, "orp") == "Vybraná ORP nepatří do zvoleného kraje."
    assert selected_option(response.get_data(as_text=True), "orp") == str(orp("Benešov").id)
    assert registration_count() == 0


def test_an_ospod_worker_must_choose_her_orp_but_others_need_not(client):
    term = make_term()
    response = register_via_form(client, term, orp="")
    assert refused(response, "orp") == "Vyberte ORP svého pracoviště (v Praze městskou část); u OSPOD je povinná."
    assert registration_count() == 0

    token_of(submit_again(client, term, response.get_data(as_text=True), orp="", employer_type="socialni_sluzba"))
    registration = registration_of("jana.novakova@litomysl.cz")
    assert registration.orp_id is None and registration.employer_type == EmployerType.SOCIAL_SERVICE


def test_garbage_or_unknown_ids_get_a_message_not_a_server_error(client):
    term = make_term()
    html = client.get(form_url(term)).get_data(as_text=True)
    cases = [
        ("region", "abc"),
        ("region", "999999"),
        ("region", "99999999999999999999"),
        ("orp", "abc"),
        ("orp", "999999"),
        ("orp", "<script>alert(1)</script>"),
        ("employer_type", "ministr"),
    ]
    for field, value in cases:
        response = submit_again(client, term, html, **{field: value})
        assert refused(response, field), (field, value)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert registration_count() == 0


def test_an_orp_id_too_large_for_the_database_gets_a_message_not_a_server_error(client):
    term = make_term()
    response = register_via_form(client, term, orp="99999999999999999999")
    assert refused(response, "orp")
    assert registration_count() == 0


def test_a_ten_thousand_character_name_is_refused_and_kept(client):
    term = make_term()
    name = "Jana " * 2000
    response = register_via_form(client, term, name=name)
    assert refused(response, "name") == "Nejvýše 200 znaků."
    assert name.strip() in response.get_data(as_text=True)

    response = submit_again(client, term, response.get_data(as_text=True), name="Jana\x00Nováková")
    assert refused(response, "name") == "Text obsahuje neviditelné nebo řídicí znaky; napište jej prosím znovu."
    assert registration_count() == 0


def test_a_field_of_only_spaces_counts_as_missing(client):
    term = make_term()
    html = client.get(form_url(term)).get_data(as_text=True)
    for field in ("name", "email", "job_title"):
        response = submit_again(client, term, html, **{field: "   "})
        assert registration_count() == 0, f"{field} of spaces was accepted"
        assert refused(response, field) == "Vyplňte prosím toto pole."


def test_a_missing_or_forged_csrf_token_stores_nothing_and_explains_in_czech_keeping_her_data(client):
    term = make_term()
    for token in (None, "podvrh"):
        response = client.post(form_url(term), data={"csrf_token": token, **form_data()} if token else form_data())
        assert 400 <= response.status_code < 500
        html = response.get_data(as_text=True)
        assert "Platnost formuláře vypršela" in html
        assert 'value="Jana Nováková"' in html
    assert registration_count() == 0
    assert messages() == []


def test_a_term_that_does_not_exist_is_404(client):
    term = make_term()
    token = session_csrf(client, term)
    assert client.get(form_url(999999)).status_code == 404
    assert client.post(form_url(999999), data={"csrf_token": token, **form_data()}).status_code == 404
    assert client.get("/termin/abc/prihlaska").status_code == 404
    assert registration_count() == 0


def test_a_term_not_listed_publicly_is_404(client):
    term = make_term(public=False)
    assert client.get(form_url(term)).status_code == 404
    assert registration_count() == 0


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"registration_deadline": utcnow() - timedelta(hours=1)}, id="deadline-passed"),
        pytest.param({"starts_in": timedelta(hours=-1)}, id="already-started"),
        pytest.param({"state": TermState.CANCELLED}, id="term-cancelled"),
    ],
)
def test_a_closed_term_says_uzavrene_and_a_post_stores_nothing(client, values):
    term = make_term(**values)
    page = client.get(form_url(term))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Přihlašování na tento termín je uzavřené." in html
    assert "Odeslat přihlášku" not in html

    # A form left open in another tab, or a crafted request.
    open_term = make_term()
    response = client.post(form_url(term), data={"csrf_token": session_csrf(client, open_term), **form_data()})
    assert 400 <= response.status_code < 500
    assert "uzavřené" in response.get_data(as_text=True)
    assert registration_count() == 0
    assert messages() == []


def test_unknown_or_tampered_private_links_are_404(client):
    term = make_term()
    token = token_of(register_via_form(client, term))
    csrf = session_csrf(client, term)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "neexistuje", "x" * 300, token.upper() if token.upper() != token else token + "x"):
        assert client.get(f"/prihlaska/{bad}").status_code == 404
        assert client.get(f"/prihlaska/{bad}/zrusit").status_code == 404
        assert client.post(f"/prihlaska/{bad}/zrusit", data={"csrf_token": csrf}).status_code == 404
        assert client.post(f"/prihlaska/{bad}/vratit-zruseni", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/prihlaska/").status_code == 404
    # "Undo" on a registration that is not cancelled changes nothing.
    assert client.post(f"/prihlaska/{token}/vratit-zruseni", data={"csrf_token": csrf}).status_code == 302
    assert "Přihláška není zrušená." in flashes(client)
    assert registration_of("jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED
    assert [m.kind for m in messages()] == ["registration_confirmed"]


def test_cancelling_without_csrf_token_changes_nothing(client):
    term = make_term()
    token = token_of(register_via_form(client, term))
    response = client.post(f"/prihlaska/{token}/zrusit", data={})
    assert 400 <= response.status_code < 500
    assert "Platnost formuláře vypršela" in response.get_data(as_text=True)
    assert registration_of("jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED
    assert not messages("registration_cancelled")


def test_cancelling_twice_does_not_send_a_second_cancellation(client):
    term = make_term()
    token = token_of(register_via_form(client, term))
    page = client.get(f"/prihlaska/{token}").get_data(as_text=True)
    for _ in range(2):  # e.g. the form sent twice, from two tabs
        response = client.post(f"/prihlaska/{token}/zrusit", data={"csrf_token": _csrf(page)})
        assert response.status_code == 302
    assert "Tuto přihlášku už nelze zrušit." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(messages("registration_cancelled")) == 1


# --- 7. Prague ------------------------------------------------------------------


def test_a_worker_from_prague_chooses_her_district_as_orp(client):
    term = make_term()
    form = client.get(form_url(term)).get_data(as_text=True)
    praha = re.search(r'<optgroup label="Hlavní město Praha">(.*?)</optgroup>', form, re.S).group(1)
    assert f'value="{orp("Praha 5").id}"' in praha and ">Praha 5<" in praha

    response = register_via_form(client, term, email="petra@praha5.cz", region=region("CZ010").id,
                                 orp=orp("Praha 5").id)
    token_of(response)
    registration = registration_of("petra@praha5.cz")
    assert (registration.region.name, registration.orp.name) == ("Hlavní město Praha", "Praha 5")
    assert registration.state == RegistrationState.CONFIRMED

    # Praha 5 is not an ORP of Pardubický kraj.
    response = register_via_form(client, term, email="eva@example.cz", orp=orp("Praha 5").id)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "orp") == "Vybraná ORP nepatří do zvoleného kraje."


# --- 8. the service directly ------------------------------------------------------


def applicant(n, orp_name="Litomyšl"):
    return shared_applicant(n, orp_name, email=f"ucastnice{n}@ospod.cz", name=f"Účastnice {n}")


def test_raising_capacity_and_filling_free_seats_promotes_in_queue_order(app):
    term = make_term(capacity=1)
    outcomes = [service.register(term.id, applicant(n, orp_name))
                for n, orp_name in enumerate(["Litomyšl", "Svitavy", "Chrudim", "Polička"], 1)]
    assert [o.waitlist_position for o in outcomes] == [None, 1, 2, 3]

    with transaction(), locked(Term, term.id) as locked_term:
        locked_term.capacity = 3
        promoted = service.fill_free_seats(locked_term)
    assert [r.email for r in promoted] == ["ucastnice2@ospod.cz", "ucastnice3@ospod.cz"]

    assert registration_of("ucastnice4@ospod.cz").waitlist_position() == 1
    assert [m.recipient for m in messages("registration_promoted")] == ["ucastnice2@ospod.cz",
                                                                        "ucastnice3@ospod.cz"]
    # Each promotion e-mail carries its own working link.
    for message in messages("registration_promoted"):
        token = urlsplit(manage_link(message)).path.removeprefix("/prihlaska/")
        assert service.registration_for_token(token).email == message.recipient


def test_filling_free_seats_skips_a_full_orp_and_keeps_that_place_in_the_queue(app):
    term = make_term(capacity=2, per_orp_limit=1)
    for n, orp_name in enumerate(["Litomyšl", "Litomyšl", "Svitavy", "Chrudim"], 1):
        service.register(term.id, applicant(n, orp_name))

    with transaction(), locked(Term, term.id) as locked_term:
        locked_term.capacity = 3
        promoted = service.fill_free_seats(locked_term)
    assert [r.email for r in promoted] == ["ucastnice4@ospod.cz"]
    assert registration_of("ucastnice2@ospod.cz").waitlist_position() == 1


def test_fill_free_seats_on_a_full_term_promotes_nobody(app):
    term = make_term(capacity=1)
    service.register(term.id, applicant(1))
    service.register(term.id, applicant(2))
    with transaction(), locked(Term, term.id) as locked_term:
        assert service.fill_free_seats(locked_term) == []
    assert messages("registration_promoted") == []


def test_cancelling_after_the_term_started_is_not_possible(app):
    term = make_term()
    outcome = service.register(term.id, applicant(1))
    with pytest.raises(service.NotCancellable):
        service.cancel(outcome.registration.id, now=term.starts_at + timedelta(minutes=5))
    assert registration_of("ucastnice1@ospod.cz").state == RegistrationState.CONFIRMED
    assert messages("registration_cancelled") == []


def test_cancel_promotes_and_a_second_cancel_is_refused(app):
    term = make_term(capacity=1)
    first = service.register(term.id, applicant(1))
    service.register(term.id, applicant(2))
    promoted = service.cancel(first.registration.id)
    assert [r.email for r in promoted] == ["ucastnice2@ospod.cz"]
    with pytest.raises(service.NotCancellable):
        service.cancel(first.registration.id)
    with pytest.raises(service.NotCancellable):
        service.cancel(999999)


def test_registering_again_after_cancelling_on_a_full_term_joins_the_end_of_the_queue(app):
    term = make_term(capacity=1)
    service.register(term.id, applicant(1))
    second = service.register(term.id, applicant(2))
    assert second.waitlist_position == 1
    service.cancel(second.registration.id)
    service.register(term.id, applicant(3))  # now first in line

    again = service.register(term.id, applicant(2))
    assert again.registration.id != second.registration.id  # a registration of its own
    assert again.waitlist_position == 2  # the old place is not given back
    assert registration_of("ucastnice3@ospod.cz").waitlist_position() == 1
    assert "2. v pořadí" in messages("registration_waitlisted", "ucastnice2@ospod.cz")[-1].body_text
    assert service.registration_for_token(again.token).id == again.registration.id


def test_service_refuses_unknown_closed_and_duplicate_registrations(app):
    term = make_term()
    with pytest.raises(service.TermNotFound):
        service.register(999999, applicant(1))
    with pytest.raises(service.TermClosed):
        service.register(term.id, applicant(1), now=term.starts_at)
    service.register(term.id, applicant(1))
    with pytest.raises(service.AlreadyRegistered):
        service.register(term.id, applicant(1))
    assert registration_count() == 1


def test_she_can_end_every_other_private_link_and_keep_the_one_she_uses(client):
    term = make_term()
    first = service.register(term.id, service.Applicant(
        name="Jana Nováková", email="jana@example.cz", employer_type=EmployerType.OSPOD,
        job_title="sociální pracovnice", region_id=region("CZ053").id, orp_id=orp("Litomyšl").id,
    ))
    service.resend_link(term.id, "jana@example.cz")
    [resent] = [m for m in messages() if m.kind == "registration_link"]
    newer = urlsplit(MANAGE_LINK.search(resent.body_text).group(0)).path
    older = f"/prihlaska/{first.token}"
    page = client.get(newer).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(newer + "/odkazy", data={"csrf_token": token}, follow_redirects=True)
    assert "Ostatní odkazy na tuto přihlášku už neplatí" in response.get_data(as_text=True), response.status_code
    assert client.get(older).status_code == 404
    assert client.get(newer).status_code == 200


def test_her_cancellation_e_mail_says_until_when_she_can_undo_it_and_links_her_page(app, client):
    term = make_term(capacity=5)
    mine = service.register(term.id, shared_applicant(1, email="jana@ospod.cz")).registration
    service.cancel(mine.id)
    cancelled = only_message("registration_cancelled", "jana@ospod.cz")
    deadline = timefmt.date_time(service.undo_deadline(fresh(Registration, mine.id)), "genitive")
    assert f"můžete zrušení vrátit do {deadline} na stránce přihlášky" in cancelled.body_text
    page = open_link(client, manage_link(cancelled))
    assert "Vrátit zrušení" in page


def test_a_cancellation_by_staff_e_mail_offers_a_new_sign_up_not_an_undo(app):
    from .staff_helpers import organiser
    from trainings.registration import staff_actions

    term = make_term(capacity=5)
    theirs = service.register(term.id, shared_applicant(2, email="eva@ospod.cz")).registration
    staff_actions.cancel_on_behalf(theirs.id, organiser())
    cancelled = only_message("registration_cancelled", "eva@ospod.cz")
    assert "vrátit do" not in cancelled.body_text
    assert "přihlaste se prosím znovu v nabídce workshopů" in cancelled.body_text
    assert "/nabidka/od-analyzy-k-tvorbe-ipod" in cancelled.body_text and "Stránka zrušené přihlášky" in cancelled.body_text
    assert "Odkaz na online setkání pošleme" not in cancelled.body_text  # not to someone who gave the seat up
