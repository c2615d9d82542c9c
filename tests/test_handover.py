"""Handing a seat over to a colleague.

Jana cannot come; her colleague Petra can. From her private page Jana names
Petra with the sign-up's fields; Petra gets an e-mail and, with her consent,
takes the seat over within the set time. Only then does the seat move: Jana's
registration is cancelled (CANCEL to her calendar), Petra gets her own link and
invitation, and nobody on the waiting list is skipped or moved. Not confirmed
in time, nothing changes. Through HTTP as the browsers of both do it.
"""
import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from trainings.extensions import db
from trainings.models import AuditEntry, EmployerType, RegistrationState, SeatHandover, utcnow
from trainings.registration import handover, service

from .helpers import (
    calendar_objects,
    field_error,
    form_data,
    make_term,
    manage_link,
    only_message,
    open_link,
    orp,
    outbox,
    region,
    registration_on,
    session_csrf,
)
from .helpers import csrf as _csrf
from .helpers import registration_uid as uid

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

OFFER_LINK = re.compile(r"http://spod4\.test/predani-mista/[A-Za-z0-9_-]+")
PETRA = {"name": "Petra Malá", "email": "petra.mala@litomysl.cz"}


def seat(term, email="jana.novakova@litomysl.cz", orp_name="Litomyšl", name="Jana Nováková"):
    """Someone signed up (through the service); returns her private link."""
    applicant = service.Applicant(name=name, email=email, employer_type=EmployerType.OSPOD,
                                  job_title="sociální pracovnice", region_id=region("CZ053").id,
                                  orp_id=orp(orp_name).id)
    outcome = service.register(term.id, applicant, signup_token=term.signup_token)  # a closed term's link
    return f"http://spod4.test/prihlaska/{outcome.token}"


def name_colleague(client, link, **overrides):
    """On her page: "Předat místo kolegovi nebo kolegyni", fill in the colleague, "Nabídnout místo"."""
    html = open_link(client, link)
    href = re.search(r'<a href="([^"]+/predat)">Předat místo kolegovi nebo kolegyni</a>', html).group(1)
    page = open_link(client, urljoin(link, href))
    assert "Lhůta na potvrzení: <strong>48 hodin</strong>" in page
    data = {"csrf_token": _csrf(page), **form_data(**{**PETRA, "consent": None, **overrides})}
    return client.post(urljoin(link, href), data=data)


def offer_link():
    message = outbox("handover_offer")[-1]
    return OFFER_LINK.search(message.body_text).group(0)


def test_the_colleague_confirms_and_the_seat_moves_with_her_own_link_and_invitation(app):
    term = make_term(capacity=1)
    jana_link = seat(term)
    seat(term, "eva@ospod.cz", "Svitavy", "Eva Dlouhá")  # waits; a handover passes her by rightly: no seat is freed
    jana = app.test_client()

    response = name_colleague(jana, jana_link)

    assert response.status_code == 302
    html = open_link(jana, urljoin(jana_link, response.headers["Location"]))
    assert "Nabídku místa jsme poslali na petra.mala@litomysl.cz." in html
    assert "Místo nabízíte: Petra Malá" in html and "Stav: <strong>potvrzená</strong>" in html
    offered = only_message("handover_offer", "petra.mala@litomysl.cz")
    assert "Jana Nováková vám nabízí své místo" in offered.body_text and not offered.attachments
    assert "https://meet.example.cz" not in offered.body_text  # not hers before she takes it
    # She never asked for the seat: the e-mail says that doing nothing is fine, not "if you did not ask".
    assert "nežádali" not in offered.body_text
    assert "Pokud místo nechcete, nemusíte nic dělat" in offered.body_text
    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED

    petra = app.test_client()
    page = open_link(petra, offer_link())
    assert "Jana Nováková vám předává své místo" in page and "Souhlasím se zpracováním osobních údajů" in page
    # Without consent nothing moves, and she is told why.
    refused = petra.post(offer_link(), data={"csrf_token": _csrf(page)})
    assert refused.status_code == 422 and "Bez souhlasu" in refused.get_data(as_text=True)
    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED

    response = petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": PETRA["name"], "consent": "y"})

    assert response.status_code == 302
    petra_page = open_link(petra, urljoin(offer_link(), response.headers["Location"]))
    assert "Místo je vaše, přihláška je potvrzená." in petra_page and "Petra Malá" in petra_page
    old = registration_on(term, "jana.novakova@litomysl.cz")
    new = registration_on(term, "petra.mala@litomysl.cz")
    assert (old.state, new.state) == (RegistrationState.CANCELLED, RegistrationState.CONFIRMED)
    assert new.consent_version == app.config["CONSENT_VERSION"] and new.orp_id == orp("Litomyšl").id
    assert registration_on(term, "eva@ospod.cz").state == RegistrationState.WAITLISTED
    assert not outbox("registration_promoted")

    confirmed = only_message("registration_confirmed", "petra.mala@litomysl.cz")
    assert [(m, u) for m, u, _s, _st in calendar_objects(confirmed)] == [("REQUEST", uid(new))]
    assert urlsplit(manage_link(confirmed)).path != urlsplit(jana_link).path
    assert "Petra Malá" in open_link(app.test_client(), manage_link(confirmed))
    handed = only_message("registration_handed_over", "jana.novakova@litomysl.cz")
    assert "převzala osoba, které bylo nabídnuto (Petra Malá)" in handed.body_text
    assert [(m, u) for m, u, _s, _st in calendar_objects(handed)] == [("CANCEL", uid(old))]
    old_page = open_link(app.test_client(), jana_link)
    assert "Stav: <strong>zrušená</strong>" in old_page
    # Her old link says where the seat went, not only "zrušená" (she would sign up again).
    assert "Místo převzala osoba, které bylo nabídnuto: <strong>Petra Malá</strong>" in old_page
    assert "Přihlásit se můžete znovu" not in old_page

    # The link has done its work; the organiser sees the handover on both registrations.
    assert open_link_status(app, offer_link()) == 410
    trail = {(e.object_id, e.action) for e in db.session.scalars(select(AuditEntry))}
    assert {(old.id, "registration.handover_offered"), (old.id, "registration.handed_over"),
            (new.id, "registration.taken_over")} <= trail


def open_link_status(app, link):
    return app.test_client().get(link).status_code


def test_the_organiser_sees_the_handover_in_the_registrations_history(app):
    from .staff_helpers import organiser_client

    term = make_term(capacity=2)
    jana_link = seat(term)
    name_colleague(app.test_client(), jana_link)
    petra = app.test_client()
    page = open_link(petra, offer_link())
    petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": PETRA["name"], "consent": "y"})
    old = registration_on(term, "jana.novakova@litomysl.cz")
    new = registration_on(term, "petra.mala@litomysl.cz")

    staff = organiser_client(app)
    html = staff.get(f"/sprava/prihlasky/{old.id}").get_data(as_text=True)
    assert "místo nabídnuto k předání" in html and "místo předáno" in html and "komu: Petra Malá" in html
    html = staff.get(f"/sprava/prihlasky/{new.id}").get_data(as_text=True)
    assert "místo převzato předáním" in html and "od koho: Jana Nováková" in html
    # Jana cannot take the seat back by undoing the cancellation.
    assert "Vrátit zrušení" not in open_link(app.test_client(), jana_link)


def test_not_confirmed_in_time_nothing_changes_and_the_link_says_the_offer_lapsed(app):
    term = make_term(capacity=1)
    jana_link = seat(term)
    name_colleague(app.test_client(), jana_link)
    link = offer_link()
    offer = db.session.scalars(select(SeatHandover)).one()
    offer.expires_at = utcnow() - timedelta(minutes=1)  # 48 hours have passed
    db.session.commit()

    petra = app.test_client()
    response = petra.get(link)
    assert response.status_code == 410
    assert "Nabídka místa už neplatí" in response.get_data(as_text=True)
    path = urlsplit(link).path
    assert petra.post(path, data={"csrf_token": session_csrf(petra, term), "consent": "y"}).status_code == 410
    with pytest.raises(handover.HandoverRefused):
        handover.confirm(urlsplit(link).path.rsplit("/", 1)[1])

    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED
    assert not outbox("registration_handed_over") and not outbox("registration_confirmed", "petra.mala@litomysl.cz")
    html = open_link(app.test_client(), jana_link)
    assert "Místo nabízíte" not in html and "Stav: <strong>potvrzená</strong>" in html


def test_a_withdrawn_offer_cannot_be_taken(app):
    term = make_term(capacity=1)
    jana_link = seat(term)
    jana = app.test_client()
    name_colleague(jana, jana_link)
    html = open_link(jana, jana_link)
    action = re.search(r'action="([^"]+/predat/zrusit)"', html).group(1)
    response = jana.post(urljoin(jana_link, action), data={"csrf_token": _csrf(html)})
    assert "Nabídka místa je zrušená. Místo zůstává vaše." in open_link(jana, urljoin(jana_link, response.headers["Location"]))

    assert open_link_status(app, offer_link()) == 410
    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED


def test_refused_when_the_colleague_is_already_registered(app):
    term = make_term(capacity=3)
    jana_link = seat(term)
    seat(term, PETRA["email"], "Litomyšl", PETRA["name"])

    response = name_colleague(app.test_client(), jana_link)

    assert response.status_code == 409
    assert field_error(response.get_data(as_text=True), "email") == handover.ALREADY
    assert not outbox("handover_offer")


def test_refused_at_confirmation_when_she_signed_up_herself_meanwhile(app):
    term = make_term(capacity=3)
    jana_link = seat(term)
    name_colleague(app.test_client(), jana_link)
    seat(term, PETRA["email"], "Litomyšl", PETRA["name"])
    petra = app.test_client()
    page = open_link(petra, offer_link())

    response = petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": PETRA["name"], "consent": "y"})

    assert response.status_code == 409 and handover.ALREADY in response.get_data(as_text=True)
    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED


def test_refused_outside_a_closed_terms_area(app):
    term = make_term(capacity=3, public=False, restricted_orp=orp("Litomyšl"), signup_token="litomysl-ipod")
    jana_link = seat(term)

    response = name_colleague(app.test_client(), jana_link, orp=orp("Svitavy").id)

    assert response.status_code == 409
    assert field_error(response.get_data(as_text=True), "orp") == \
        "Tento termín je určen jen pro pracovníky z ORP Litomyšl."
    assert not outbox("handover_offer")


def test_the_per_orp_limit_counts_the_seat_being_given_up_as_free(app):
    term = make_term(capacity=3, per_orp_limit=1)
    jana_link = seat(term)  # Litomyšl's one seat
    assert name_colleague(app.test_client(), jana_link).status_code == 302  # Petra, also Litomyšl: a transfer
    seat(term, "eva@svitavy.cz", "Svitavy", "Eva Dlouhá")
    other = seat(term, "hana@ospod.cz", "Polička", "Hana Krátká")
    # Hana may not pass her seat to a second person from Litomyšl: Jana holds its one seat.
    response = name_colleague(app.test_client(), other, email="dalsi@litomysl.cz")
    assert response.status_code == 409 and field_error(response.get_data(as_text=True), "orp")


def test_the_colleague_corrects_her_name_before_the_seat_is_hers(app):
    """Jana typed "Petra Malá"; Petra's certificate must read "Mgr. Petra Malá, DiS.". She corrects
    it as she confirms: the registration, Jana's e-mail and page and the organiser's history say so."""
    from .staff_helpers import organiser_client

    term = make_term(capacity=2)
    jana_link = seat(term)
    name_colleague(app.test_client(), jana_link)
    petra = app.test_client()
    page = open_link(petra, offer_link())
    assert re.search(r'<input[^>]*id="name"[^>]*value="Petra Malá"', page), "the name as offered, to correct"

    # A cleared name is refused next to the field; nothing moves.
    refused = petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": "  ", "consent": "y"})
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "name") == "Vyplňte prosím toto pole."
    assert registration_on(term, "jana.novakova@litomysl.cz").state == RegistrationState.CONFIRMED

    response = petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": "Mgr. Petra Malá, DiS.",
                                              "consent": "y"})

    assert response.status_code == 302
    new = registration_on(term, "petra.mala@litomysl.cz")
    assert new.name == "Mgr. Petra Malá, DiS."
    old = registration_on(term, "jana.novakova@litomysl.cz")
    handed = only_message("registration_handed_over", "jana.novakova@litomysl.cz")
    assert "(Mgr. Petra Malá, DiS.)" in handed.body_text
    assert "<strong>Mgr. Petra Malá, DiS.</strong>" in open_link(app.test_client(), jana_link)
    taken = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == new.id,
                                                        AuditEntry.action == "registration.taken_over")).one()
    assert taken.data["name"] == ["Petra Malá", "Mgr. Petra Malá, DiS."]
    history = organiser_client(app).get(f"/sprava/prihlasky/{new.id}").get_data(as_text=True)
    assert "jméno: Petra Malá → Mgr. Petra Malá, DiS." in history
    assert old.state == RegistrationState.CANCELLED


def test_a_name_left_as_offered_records_no_correction(app):
    term = make_term(capacity=2)
    name_colleague(app.test_client(), seat(term))
    petra = app.test_client()
    page = open_link(petra, offer_link())
    assert petra.post(offer_link(), data={"csrf_token": _csrf(page), "name": "Petra Malá",
                                          "consent": "y"}).status_code == 302
    new = registration_on(term, "petra.mala@litomysl.cz")
    taken = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == new.id,
                                                        AuditEntry.action == "registration.taken_over")).one()
    assert "name" not in taken.data and new.name == "Petra Malá"
