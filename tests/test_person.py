"""A person is her e-mail address, proven by a link sent to it (issue 12, items 1 and 10).

Signing up proves nothing about the address typed in, so the page shown after a
sign-up and every registration link show that one registration only. Everything
across an address (its history, hours toward § 111, certificates, the personal
calendar feed) is behind "Moje vzdělávání", whose link only ever travels by
e-mail to that address. Links expire or can be ended, and nobody can make the
system e-mail someone without limit.
"""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import vobject
from sqlalchemy import select

from trainings.extensions import db
from trainings.models import PersonLink, Registration, RegistrationLink, TermForm, utcnow
from trainings.person import service as person
from trainings.registration import service

from .helpers import (
    field_error,
    form_data,
    form_url,
    held_on,
    make_term,
    offer,
    only_message,
    outbox,
    register_via_form,
    token_of,
)
from .helpers import csrf as _csrf
from .helpers import registration_uid as uid
from .staff_helpers import attend, organiser_client, sign_up

PAGE_LINK = re.compile(r"http://spod4\.test/moje-vzdelavani/[A-Za-z0-9_-]+")
SAME_ANSWER = "Pokud u nás tento e-mail má nějaké přihlášky, poslali jsme na něj odkaz"
JANA = "jana.novakova@litomysl.cz"

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def uids(body: bytes) -> set[str]:
    return {e.uid.value for e in vobject.readOne(body.decode("utf-8")).contents.get("vevent", [])}


def janas_history():
    """Jana attended "Rodičovské spory" last March and is signed up for "Syndrom CAN" next month."""
    past = make_term(slug="rodicovske-spory", hours=6)
    attended = sign_up(past, 1, email=JANA, name="Jana Nováková")
    held_on(past, datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc))
    attend(attended.id)
    upcoming = sign_up(make_term(slug="syndrom-can", starts_in=timedelta(days=30)), 1, email=JANA,
                       name="Jana Nováková")
    return attended, upcoming


def ask_for_page_link(client, email):
    page = client.get("/moje-vzdelavani")
    assert page.status_code == 200
    return client.post("/moje-vzdelavani", data={"csrf_token": _csrf(page.get_data(as_text=True)), "email": email})


def page_link_of(email) -> str:
    return PAGE_LINK.search(only_message("person_link", email).body_text).group(0)


# --- the leak: signing up with someone else's address ------------------------------------


def test_signing_up_with_someone_elses_address_shows_nothing_of_her_other_registrations(client, app):
    attended, upcoming = janas_history()
    stranger_term = make_term(slug="od-analyzy-k-tvorbe-ipod")

    # Someone else types Jana's address on another term; neither the answer nor the link of
    # that sign-up (which travels to Jana's mailbox) shows anything else of hers.
    response = register_via_form(client, stranger_term, name="Cizí Osoba", email=JANA)
    token = token_of(response)
    answer = client.get(response.headers["Location"]).get_data(as_text=True)
    page = client.get(f"/prihlaska/{token}").get_data(as_text=True)
    assert "Cizí Osoba" in page and offer("od-analyzy-k-tvorbe-ipod").title in page
    for hers in (offer("rodicovske-spory").title, offer("syndrom-can").title, "Jana Nováková"):
        assert hers not in page and hers not in answer, hers
    assert "osvedceni" not in page and "§ 111" not in page and "6 hodin" not in page and " z 24" not in page
    # No certificate of hers behind this link, whatever id is tried.
    assert client.get(f"/prihlaska/{token}/osvedceni/{attended.id}.pdf").status_code == 404
    # The calendar behind this link holds this one registration only.
    feed = client.get(f"/prihlaska/{token}/kalendar.ics")
    assert feed.status_code == 200
    mine = db.session.scalars(select(Registration).where(Registration.term_id == stranger_term.id)).one()
    assert uids(feed.data) == {uid(mine)}
    # The way to everything of an address is Moje vzdělávání, by e-mail.
    assert "/moje-vzdelavani" in page


def test_the_page_after_sign_up_keeps_what_belongs_to_that_registration(client, app):
    term = make_term(starts_in=timedelta(hours=30), form=TermForm.IN_PERSON, venue="Litomyšl, sál 2")
    token = token_of(register_via_form(client, term))
    page = client.get(f"/prihlaska/{token}").get_data(as_text=True)
    registration = db.session.scalars(select(Registration).where(Registration.email_normalized == JANA)).one()
    assert "Stav: <strong>potvrzená</strong>" in page
    assert registration.check_in_code in page and "<svg" in page  # the door code
    assert "Zrušit přihlášku" in page and "Zneplatnit ostatní odkazy" in page
    assert f"/prihlaska/{token}/kalendar.ics" in page  # this registration's own calendar


# --- Moje vzdělávání ------------------------------------------------------------------------


def test_the_request_form_answers_the_same_for_known_and_unknown_addresses(client, app):
    janas_history()
    answers = []
    for email in (JANA, "nikdo@example.cz"):
        response = ask_for_page_link(client, email)
        assert response.status_code == 302
        answers.append((response.headers["Location"], client.get(response.headers["Location"]).get_data(as_text=True)))
    (known_to, known_page), (unknown_to, unknown_page) = answers
    assert known_to == unknown_to
    assert SAME_ANSWER in known_page and SAME_ANSWER in unknown_page
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - the CSRF token differs
    assert strip(known_page) == strip(unknown_page)
    # Only the known address gets an e-mail, with a link that works.
    assert [m.recipient for m in outbox("person_link")] == [JANA]
    assert client.get(page_link_of(JANA)).status_code == 200


def test_a_wrong_address_gets_a_czech_message_and_keeps_what_was_typed(client):
    response = ask_for_page_link(client, "jana@@litomysl")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "email") == "Zadejte platnou e-mailovou adresu, např. jana.novakova@mesto.cz."
    assert 'value="jana@@litomysl"' in html
    assert outbox() == []


def test_the_page_shows_everything_of_the_address_with_hours_and_certificates(client, app):
    attended, upcoming = janas_history()
    other = sign_up(make_term(slug="rodicovske-spory"), 2, email="petr@example.cz")
    ask_for_page_link(client, JANA)
    link = urlsplit(page_link_of(JANA)).path
    browser = app.test_client()  # her mailbox, another browser
    page = browser.get(link).get_data(as_text=True)
    assert offer("rodicovske-spory").title in page and offer("syndrom-can").title in page
    assert "2026: 6 hodin z 24 – zbývá 18 hodin" in page and "§ 111" in page
    assert "petr@example.cz" not in page

    certificate = f"{link}/osvedceni/{attended.id}.pdf"
    assert certificate in page
    response = browser.get(certificate)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    # Not a certificate of someone else, nor of a workshop not yet attended.
    for registration_id in (other.id, upcoming.id, 99999999999):
        assert browser.get(f"{link}/osvedceni/{registration_id}.pdf").status_code == 404

    # From here she opens the page of one registration (a fresh registration link).
    form = re.search(rf'<form method="post" action="([^"]+/prihlaska/{upcoming.id})"', page).group(1)
    opened = browser.post(form, data={"csrf_token": _csrf(page)})
    assert opened.status_code == 302 and urlsplit(opened.headers["Location"]).path.startswith("/prihlaska/")
    assert offer("syndrom-can").title in browser.get(opened.headers["Location"]).get_data(as_text=True)
    # Not someone else's registration through her page.
    assert browser.post(f"{link}/prihlaska/{other.id}",
                        data={"csrf_token": _csrf(page)}).status_code == 404


def test_the_personal_feed_lists_every_registration_of_the_address_and_outlives_the_page_link(client, app):
    attended, upcoming = janas_history()
    sign_up(make_term(slug="rodicovske-spory"), 2, email="petr@example.cz")
    ask_for_page_link(client, JANA)
    link = urlsplit(page_link_of(JANA)).path
    page = client.get(link).get_data(as_text=True)
    assert "/moje-vzdelavani/kalendar/" not in page  # an address is made only when she asks for one
    response = client.post(f"{link}/kalendar", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    feed_url = re.search(r'href="http://spod4\.test(/moje-vzdelavani/kalendar/[A-Za-z0-9_-]+\.ics)"', page).group(1)
    assert uids(client.get(feed_url).data) == {uid(upcoming)}
    # The address is shown once: a reload does not show it again.
    assert feed_url not in client.get(link).get_data(as_text=True)

    # A week later the page link has expired; the subscribed calendar keeps working.
    later = utcnow() + person.PAGE_LIFETIME + timedelta(minutes=1)
    token = link.rsplit("/", 1)[1]
    assert person.link_for_token(token, person.PAGE, now=later) is None
    feed_token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert person.link_for_token(feed_token, person.FEED, now=later + timedelta(days=3650)) is not None


def test_an_expired_page_link_is_404_and_says_how_to_get_a_new_one(client, app):
    janas_history()
    ask_for_page_link(client, JANA)
    link = page_link_of(JANA)
    stored = db.session.scalars(select(PersonLink).where(PersonLink.purpose == "page")).one()
    assert stored.expires_at - stored.created_at == person.PAGE_LIFETIME == timedelta(days=7)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Odkaz už neplatí" in html and 'href="/moje-vzdelavani"' in html and "platí 7 dnů" in html


def test_she_ends_all_her_page_and_feed_links(client, app):
    janas_history()
    ask_for_page_link(client, JANA)
    link = urlsplit(page_link_of(JANA)).path
    page = client.get(link).get_data(as_text=True)
    feed = person.issue_feed_link(JANA)
    assert client.get(f"/moje-vzdelavani/kalendar/{feed}.ics").status_code == 200

    response = client.post(f"{link}/ukoncit", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/moje-vzdelavani"
    assert "ukončené" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get(link).status_code == 404
    assert client.get(f"/moje-vzdelavani/kalendar/{feed}.ics").status_code == 404
    # A new link can be asked for at any time.
    ask_for_page_link(client, JANA)
    assert client.get(PAGE_LINK.search(outbox("person_link")[-1].body_text).group(0)).status_code == 200


def test_the_old_feed_address_behind_a_registration_link_no_longer_lists_the_other_registrations(client, app):
    attended, upcoming = janas_history()
    third = sign_up(make_term(slug="od-analyzy-k-tvorbe-ipod"), 1, email=JANA)
    token = service.issue_link(db.session.get(Registration, third.id))
    db.session.commit()
    assert uids(client.get(f"/prihlaska/{token}/kalendar.ics").data) == {uid(third)}


# --- links of one registration expire -------------------------------------------------------


def test_registration_links_expire_ninety_days_after_the_term_ends(client, app):
    term = make_term()
    token = token_of(register_via_form(client, term))
    link = db.session.scalars(select(RegistrationLink)).one()
    assert link.expires_at == term.ends_at + service.LINK_LIFETIME_AFTER_TERM
    assert service.LINK_LIFETIME_AFTER_TERM == timedelta(days=90)
    assert service.registration_for_token(token, now=link.expires_at - timedelta(minutes=1)) is not None
    assert service.registration_for_token(token, now=link.expires_at) is None

    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"/prihlaska/{token}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Odkaz už neplatí" in html and 'href="/moje-vzdelavani"' in html and "90 dnů po skončení termínu" in html
    assert client.get(f"/prihlaska/{token}/kalendar.ics").status_code == 404


# --- per-recipient limits ---------------------------------------------------------------------


def test_send_me_my_link_e_mails_at_most_three_links_an_hour_and_answers_the_same(client, app):
    term = make_term()
    register_via_form(client, term)  # the sign-up's own link counts too
    page = client.get(form_url(term)).get_data(as_text=True)
    for _ in range(5):
        response = client.post(f"/termin/{term.id}/odkaz", data={"csrf_token": _csrf(page), "email": JANA})
        assert response.status_code == 302
        assert "poslali jsme na něj odkaz" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(outbox("registration_link")) == 2
    assert len(db.session.scalars(select(RegistrationLink)).all()) == 3
    # An hour later she can be sent one again (the outbox worker decides, when it writes the e-mail).
    registration = db.session.scalars(select(Registration)).one()
    assert service.link_to_send(registration, now=utcnow() + timedelta(hours=1, minutes=1))


def test_moje_vzdelavani_e_mails_an_address_at_most_three_links_an_hour(client, app):
    janas_history()
    for _ in range(5):
        assert SAME_ANSWER in client.get(ask_for_page_link(client, JANA).headers["Location"]).get_data(as_text=True)
    assert len(outbox("person_link")) == 3
    # An hour later she can be sent one again (the outbox worker decides, when it writes the e-mail).
    assert person.page_link_to_send(JANA, now=utcnow() + timedelta(hours=1, minutes=1))


# --- bad input from item 10 ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["n", "no", "0", "false", "off", "", "yes please"])
def test_only_a_checked_box_counts_as_consent(client, value):
    term = make_term()
    page = client.get(form_url(term)).get_data(as_text=True)
    response = client.post(form_url(term), data={"csrf_token": _csrf(page), **form_data(consent=value)})
    assert response.status_code == 422, value
    html = response.get_data(as_text=True)
    assert field_error(html, "consent") == "Bez souhlasu se zpracováním údajů se nelze přihlásit."
    assert 'value="y"' in re.search(r'<input[^>]*name="consent"[^>]*>', html).group(0)  # ticking it works next time
    assert db.session.scalars(select(Registration)).all() == []
    assert token_of(client.post(form_url(term), data={"csrf_token": _csrf(html), **form_data()}))


@pytest.mark.parametrize("field", ["name", "job_title"])
@pytest.mark.parametrize("value", ["Jana\nNováková", "Jana\r\nNováková", "Jana\rNováková", "Jana\u2028Nováková"])
def test_single_line_fields_refuse_line_breaks_next_to_the_field(client, field, value):
    term = make_term()
    response = register_via_form(client, term, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == "Text musí být na jednom řádku."
    assert db.session.scalars(select(Registration)).all() == []


def test_the_csv_download_names_its_charset_once(app):
    term = make_term()
    sign_up(term, 1)
    response = organiser_client(app).get(f"/sprava/terminy/{term.id}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


# --- privacy: erasure and retention leave no usable person link ---------------------------------


def person_links(email):
    db.session.rollback()
    return db.session.scalars(select(PersonLink).where(PersonLink.email_normalized == email)).all()


def test_erasing_an_address_deletes_its_person_links(client, app):
    from trainings.privacy import service as privacy

    janas_history()
    ask_for_page_link(client, JANA)
    link = page_link_of(JANA)
    person.issue_feed_link(JANA)
    assert len(person_links(JANA)) == 2
    privacy.erase_person(JANA, actor=None)
    assert person_links(JANA) == []
    assert client.get(link).status_code == 404


def test_retention_drops_the_links_of_addresses_it_anonymised_and_keeps_those_still_in_use(app):
    from trainings.privacy import service as privacy

    sign_up(make_term(starts_in=timedelta(days=2)), 1, email=JANA)
    sign_up(make_term(starts_in=timedelta(days=2), slug="syndrom-can"), 2, email="petr@example.cz")
    sign_up(make_term(starts_in=timedelta(days=600), slug="rodicovske-spory"), 2, email="petr@example.cz")
    later = utcnow() + timedelta(days=400)
    jana_feed = person.issue_feed_link(JANA, now=later)
    petr_feed = person.issue_feed_link("petr@example.cz", now=later)
    assert person.page_link_to_send(JANA, now=later)  # as the outbox worker makes it
    db.session.commit()

    privacy.run_retention(older_than=timedelta(days=365), now=later)
    # Jana has nothing left under her address: none of her links opens anything.
    assert person_links(JANA) == []
    assert person.link_for_token(jana_feed, person.FEED, now=later) is None
    # Petr still has a registration the retention keeps: his calendar goes on.
    assert person.link_for_token(petr_feed, person.FEED, now=later) is not None
