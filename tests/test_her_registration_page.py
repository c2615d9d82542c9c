"""Her registration's page (the private link from her e-mails) tells her where she stands:
on the waiting list what to expect, after cancelling why undo is gone, after the workshop
whether her attendance was recorded, and then the questionnaire and the osvědčení."""
from datetime import timedelta

import pytest

from trainings.extensions import db
from trainings.feedback import service as feedback
from trainings.models import Registration, RegistrationState, Term, utcnow
from trainings.registration import service

from .helpers import make_term, only_message, open_link
from .staff_helpers import applicant, attend, move_to_past

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def page_of(client, registration_id) -> str:
    registration = db.session.get(Registration, registration_id)
    token = service.issue_link(registration)
    db.session.commit()
    return " ".join(open_link(client, f"/prihlaska/{token}").split())


def test_waiting_for_her_orps_seat_she_reads_her_place_the_e_mail_and_that_the_limit_is_per_orp(client, app):
    term = make_term(capacity=10, per_orp_limit=1)
    service.register(term.id, applicant(1, "Litomyšl"))
    waiting = service.register(term.id, applicant(2, "Litomyšl")).registration
    assert waiting.state == RegistrationState.WAITLISTED

    page = page_of(client, waiting.id)
    assert "jste 1. v pořadí" in page
    assert "Za vaši ORP je obsazeno jediné místo, které termín jedné ORP vyhrazuje" in page
    assert "Když se místo pro vaši ORP uvolní, přesuneme vás automaticky a napíšeme vám e-mail" in page
    # She has no seat to give up, and the term is not full: neither may the page suggest it.
    assert "místo dostane první z čekací listiny" not in page
    assert "Termín je obsazený" not in page
    assert "Pokud o místo už nestojíte, přihlášku zrušte: z čekací listiny vás vyškrtneme." in page


def test_when_undo_is_gone_her_page_says_why(client, app):
    term = make_term(capacity=1)
    late = service.register(term.id, applicant(1)).registration
    service.cancel(late.id)
    cancelled = db.session.get(Registration, late.id)
    cancelled.cancelled_at = utcnow() - service.UNDO_WINDOW - timedelta(minutes=1)
    db.session.commit()
    page = page_of(client, late.id)
    assert "Vrátit zrušení" not in page
    assert "Zrušení šlo vrátit jen 30 minut; ta doba uplynula." in page

    taken = service.register(term.id, applicant(2)).registration
    service.cancel(taken.id)
    service.register(term.id, applicant(3))  # the freed seat goes to someone else
    page = page_of(client, taken.id)
    assert "Uvolněné místo mezitím obsadil někdo jiný, zrušení proto nelze vrátit." in page

    closing = make_term(capacity=5)
    gone = service.register(closing.id, applicant(4)).registration
    service.cancel(gone.id)
    move_to_past(closing, days=1)
    page = page_of(client, gone.id)
    assert "Přihlašování na tento termín je už uzavřené, zrušení nelze vrátit." in page


def test_after_the_workshop_her_page_shows_her_attendance_then_the_questionnaire_and_osvedceni(client, app):
    term = make_term()
    present = service.register(term.id, applicant(1)).registration
    absent = service.register(term.id, applicant(2)).registration
    move_to_past(term, days=1)
    attend(present.id, True)
    attend(absent.id, False)

    page = page_of(client, present.id)
    assert "Stav: <strong>potvrzená</strong>, účast zapsána" in page
    assert "Stáhnout osvědčení (PDF)" in page
    assert "dotazník" not in page.lower()  # not sent yet

    assert feedback.send_invitations(term_id=term.id) == 1
    page = page_of(client, present.id)
    assert f'<a href="{feedback.questionnaire_url(present.id)}">Vyplnit dotazník</a>' in page
    assert "Stáhnout osvědčení (PDF)" in page

    page = page_of(client, absent.id)
    assert "Stav: <strong>potvrzená</strong>, neúčast zapsána" in page
    assert "Stáhnout osvědčení (PDF)" not in page and "Vyplnit dotazník" not in page
    assert db.session.get(Term, term.id).has_ended


def test_after_an_online_workshop_her_page_and_e_mails_no_longer_offer_the_meeting_link(client, app):
    term = make_term(capacity=5)
    seat = service.register(term.id, applicant(1)).registration
    assert "https://meet.example.cz/ipod" in page_of(client, seat.id)  # while it stands, she may join

    move_to_past(db.session.get(Term, term.id), days=1)
    page = page_of(client, seat.id)
    assert "https://meet.example.cz/ipod" not in page
    assert "Odkaz na online setkání" not in page
    # Nor does an e-mail composed after the workshop (held back by an SMTP outage: e-mails are
    # composed when sent) give the link or promise one that will never come.
    confirmation = only_message("registration_confirmed", seat.email)
    for body in (confirmation.body_html, confirmation.body_text):
        assert "https://meet.example.cz/ipod" not in body
        assert "odkaz pošleme" not in body
