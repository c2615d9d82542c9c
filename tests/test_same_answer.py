"""The public forms that take an e-mail address answer alike for every address (issue 20, item 9).

"Moje vzdělávání", "send me my link" and the sign-up itself must not tell whoever types an
address whether it is known: not by the page, the status or the redirect, and not by the time
the request takes. So each request does the same work for every address (it queues one
outbox row), and whether anything is sent, and what, is decided by the outbox worker when it
writes the e-mail. What the requests ran is compared statement by statement; what arrived is
read from a real SMTP server.
"""
import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, func, select

from trainings.extensions import db
from trainings.mail import dispatch
from trainings.models import OutboxMessage, Registration, RegistrationLink, RegistrationState
from trainings.registration import service

from .helpers import MANAGE_LINK, csrf, form_data, form_url, make_term, open_link, outbox, register_via_form
from .staff_helpers import applicant

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

JANA = "jana.novakova@litomysl.cz"
PAGE_LINK = re.compile(r"http://spod4\.test/moje-vzdelavani/[A-Za-z0-9_-]+")


@contextmanager
def statements():
    """The SQL the requests inside run, as text (the values travel apart, as bound parameters)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def answer(client, response, typed):
    """What the browser shows after a POST: status, where it leads, and that page with what
    differs by nature (the CSRF token, the address she typed herself) taken out."""
    location = response.headers.get("Location")
    page = client.get(location).get_data(as_text=True) if location else response.get_data(as_text=True)
    page = re.sub(r'value="[^"]*"', "", page).replace(typed, "<adresa>")
    return response.status_code, location, page


def post(client, url, data, form_page):
    return client.post(url, data={"csrf_token": csrf(client.get(form_page).get_data(as_text=True)), **data})


def jana_on(term):
    return service.register(term.id, applicant(1, name="Jana Nováková", email=JANA)).registration


def registrations_of(email):
    db.session.rollback()
    return db.session.scalars(select(Registration).where(Registration.email_normalized == email)).all()


# --- Moje vzdělávání -------------------------------------------------------------------------


def test_moje_vzdelavani_does_the_same_work_for_a_known_and_an_unknown_address(app):
    jana_on(make_term())
    answers, work = [], []
    for email in (JANA, "nikdo@example.cz"):
        browser = app.test_client()
        page = browser.get("/moje-vzdelavani").get_data(as_text=True)
        with statements() as ran:
            response = browser.post("/moje-vzdelavani", data={"csrf_token": csrf(page), "email": email})
        answers.append(answer(browser, response, email))
        work.append(ran)
    assert answers[0] == answers[1] and answers[0][0] == 302
    assert work[0] == work[1]
    writes_and_reads = [s.split()[:3] for s in work[0] if s.startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]
    assert writes_and_reads == [["INSERT", "INTO", "outbox_messages"]]

    # The worker decides: the known address gets its link, the other leaves no trace.
    [sent] = outbox("person_link")
    assert sent.recipient == JANA and outbox(to="nikdo@example.cz") == []
    assert app.test_client().get(PAGE_LINK.search(sent.body_text).group(0)).status_code == 200


# --- "send me my link" on a sign-up page ---------------------------------------------------


def test_send_me_my_link_does_the_same_work_for_every_address(app):
    term = make_term()
    jana_on(term)
    answers, work = [], []
    for email in (JANA, "nikdo@example.cz"):
        browser = app.test_client()
        page = browser.get(form_url(term)).get_data(as_text=True)
        with statements() as ran:
            response = browser.post(f"/termin/{term.id}/odkaz", data={"csrf_token": csrf(page), "email": email})
        answers.append(answer(browser, response, email))
        work.append(ran)
    assert answers[0] == answers[1] and answers[0][0] == 302
    assert work[0] == work[1]

    sent = [m for m in outbox() if m.kind == "registration_link"]
    assert [m.recipient for m in sent] == [JANA]
    html = open_link(app.test_client(), MANAGE_LINK.search(sent[0].body_text).group(0))
    assert "Jana Nováková" in html and "Stav: <strong>potvrzená</strong>" in html


# --- the sign-up -----------------------------------------------------------------------------


def test_signing_up_with_an_address_already_on_the_term_answers_like_a_new_sign_up(app):
    term = make_term()
    jana = jana_on(term)
    confirmation = outbox("registration_confirmed")[0]

    stranger, newcomer = app.test_client(), app.test_client()
    stranger_form, newcomer_form = (csrf(browser.get(form_url(term)).get_data(as_text=True))
                                    for browser in (stranger, newcomer))
    with statements() as again_ran:
        again = stranger.post(form_url(term), data={"csrf_token": stranger_form,
                                                    **form_data(name="Cizí Osoba", email=JANA)})
    with statements() as new_ran:
        new = newcomer.post(form_url(term), data={"csrf_token": newcomer_form,
                                                  **form_data(name="Nová Osoba", email="nova.osoba@example.cz")})
    assert answer(stranger, again, JANA) == answer(newcomer, new, "nova.osoba@example.cz")
    assert again.status_code == 302
    # As much work either way (lock, count, then three rows written or one read and two written).
    assert len(again_ran) == len(new_ran)
    assert "Jana Nováková" not in stranger.get(again.headers["Location"]).get_data(as_text=True)

    # Her registration stands as it was; the stranger made none.
    [hers] = registrations_of(JANA)
    assert (hers.id, hers.name, hers.state) == (jana.id, "Jana Nováková", RegistrationState.CONFIRMED)

    # She, the owner of the address, is told, with a link to her registration.
    [told] = outbox("already_registered", JANA)
    assert told.subject.startswith("Na tento termín už máte přihlášku: Od analýzy k tvorbě IPOD")
    assert told.body_text.startswith("Dobrý den, paní Nováková,\n\nna tento termín už máte přihlášku.")
    assert "Stav přihlášky: potvrzená." in told.body_text and "Cizí Osoba" not in told.body_text
    link = MANAGE_LINK.search(told.body_text).group(0)
    assert link != MANAGE_LINK.search(confirmation.body_text).group(0)
    html = open_link(app.test_client(), link)
    assert "Jana Nováková" in html and "Stav: <strong>potvrzená</strong>" in html


def test_a_closed_term_answers_alike_too_and_keeps_its_link_secret(app):
    term = make_term(public=False, signup_token="odkaz-na-klic-1234567890")
    service.register(term.id, applicant(1, name="Jana Nováková", email=JANA), signup_token=term.signup_token)
    signup = f"/prihlaska-na-termin/{term.signup_token}"
    answers = []
    for email in (JANA, "nova.osoba@example.cz"):
        browser = app.test_client()
        response = post(browser, signup, form_data(name="Někdo", email=email), signup)
        answers.append(answer(browser, response, email))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, f"{signup}/odeslano")
    page = app.test_client().get(f"{signup}/odeslano")  # it shows the typed address: kept out of caches
    assert (page.headers["Cache-Control"], page.headers["X-Robots-Tag"]) == ("private, no-store", "noindex")
    assert app.test_client().get(f"/termin/{term.id}/prihlaska/odeslano").status_code == 404
    assert len(outbox("already_registered", JANA)) == 1


def test_signing_up_again_and_again_with_her_address_does_not_fill_her_mailbox(app):
    term = make_term()
    jana_on(term)  # her sign-up's own link counts toward the hour's LINKS_PER_HOUR
    for n in range(4):
        register_via_form(app.test_client(), term, name=f"Cizí Osoba {n}", email=JANA)
    assert len(outbox("already_registered", JANA)) == service.LINKS_PER_HOUR - 1
    assert db.session.scalar(select(func.count(RegistrationLink.id))) == service.LINKS_PER_HOUR
    # The rows that found nothing to send are gone, not left waiting.
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.body_text.is_(None))) == 0


# --- through a real SMTP server --------------------------------------------------------------


def test_the_worker_sends_only_what_is_due_and_forgets_the_addresses_it_did_not_write_to(smtp_app, smtp):
    term = make_term()
    jana_on(term)
    browser = smtp_app.test_client()
    for email in (JANA, "nikdo@example.cz", JANA, JANA, JANA):
        post(browser, "/moje-vzdelavani", {"email": email}, "/moje-vzdelavani")
    post(browser, f"/termin/{term.id}/odkaz", {"email": "nikdo@example.cz"}, form_url(term))

    # Her sign-up's confirmation and three Moje vzdělávání links (the hour's limit); nothing to anyone else.
    assert dispatch.send_due() == {"sent": 4, "retry": 0, "failed": 0, "dropped": 3}
    assert [m["To"] for m in smtp.recorder.messages] == [JANA] * 4
    links = [PAGE_LINK.search(m.get_body(("plain",)).get_content()).group(0)
             for m in smtp.recorder.messages if m["Subject"] == "Odkaz na Moje vzdělávání"]
    assert len(links) == 3
    for link in links:
        assert smtp_app.test_client().get(urlsplit(link).path).status_code == 200
    # No row keeps the address nothing was sent to.
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == [JANA] * 4
