"""Every e-mail reads on a phone: each HTML template, composed as the outbox writes it, fits a
screen 320-375 px wide without sideways scrolling (long addresses, links and names wrap).

One e-mail of every kind (each capability's templates/<capability>/mail/) is queued through the functions that queue it
in the product, with long values where people type them (an organisation, an e-mail address),
and composed; Chromium (Debian's, driven by Playwright) lays out each body at each width.
A new template fails here until an e-mail of its kind is added to `queue_every_email`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from trainings.catalogue.interest import add_interest
from trainings.extensions import db
from trainings.feedback import notifications as feedback_mail
from trainings.models import InterestEntry, Offer, RequestState, StaffRole, TermForm
from trainings.person import notifications as person_mail
from trainings.registration import notifications as registration_mail
from trainings.registration import handover, service, staff_actions
from trainings.requests import notifications as request_mail
from trainings.requests import service as requests_service
from trainings.people import notifications as people_mail
from trainings.terms import notifications as term_mail

from .helpers import make_term, outbox, region, template_files
from .staff_helpers import applicant, organiser, sign_up, staff_user

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONES = (320, 360, 375)  # px: the widths of the phones people read mail on

LONG_ORGANISATION = "Krajský úřad Pardubického kraje, odbor sociálních věcí, oddělení sociálně-právní ochrany dětí"
LONG_EMAIL = "marie.dvorakovanovotna.socialnipracovnice@krpardubicky.cz"  # no hyphen to break at


def mail_kinds() -> set[str]:
    return {p.stem for p in template_files(".html") if p.parent.name == "mail" and not p.name.startswith("_")}


def queue_every_email():
    """Queue one e-mail of every kind, the way the product queues it; returns the composed rows."""
    in_person = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), capacity=1,
                          venue="Krajský úřad Pardubického kraje, Komenského náměstí 125, Pardubice",
                          lecturer="PhDr. Kristýna Jůzová Kotalová, Ph.D., Mgr. Bc. Petr Dvořák")
    online = make_term(starts_in=timedelta(days=20))
    jana = sign_up(in_person, 1, email=LONG_EMAIL)  # confirmed, with the door code's QR
    eva = sign_up(in_person, 2)  # waiting
    with pytest.raises(service.AlreadyRegistered):  # she signs up again: already_registered
        service.register(in_person.id, applicant(1, email=LONG_EMAIL))
    service.resend_link(in_person.id, LONG_EMAIL)
    person_mail.person_link(LONG_EMAIL, LONG_EMAIL)
    db.session.commit()
    outbox()  # written now, while her seat stands: these go out only to someone with a registration
    registration_mail.reminder(jana, service.issue_link(jana), f"layout-reminder-{jana.id}")
    term_mail.term_changed(jana, service.issue_link(jana), ["Začátek: čtvrtek 12. 3. 2026, 9:00 → 10:00"])
    term_mail.term_cancelled(jana, service.issue_link(jana), "Lektorka onemocněla, nový termín vypíšeme brzy.")
    db.session.commit()
    staff_actions.message_participants(in_person.id, "Parkování u krajského úřadu",
                                       "Parkovat lze na parkovišti za budovou.", organiser())
    handover.offer(jana.id, applicant(3, email="kolegyne.z.odboru.socialnich.veci@mesto-litomysl.cz"))
    registration_mail.registration_handed_over(jana, "Petra Malá")
    db.session.commit()
    staff_actions.move_to_waitlist(jana.id, organiser())
    staff_actions.confirm(eva.id, organiser(), over_capacity=True)  # promoted
    service.cancel(jana.id)
    # A switch: Eva waits for the online term keeping her seat, then moves there.
    entry = sign_up(online, 2)
    registration_mail.registration_switch_pending(entry, eva, service.issue_link(entry), 1)
    registration_mail.registration_switched(entry, eva, service.issue_link(entry))
    db.session.commit()
    feedback_mail.feedback_invitation(eva, service.issue_link(eva), "http://spod4.test/zpetna-vazba/" + "x" * 43,
                                      "30 dní")
    feedback_mail.feedback_reminder(eva, "http://spod4.test/zpetna-vazba/" + "x" * 43)
    db.session.commit()

    planned = db.session.scalars(select(Offer).order_by(Offer.position)).first()
    add_interest(planned, LONG_EMAIL, region("CZ053").id, None)
    interest = db.session.scalars(select(InterestEntry)).first()
    term_mail.interest_term_opened(interest, online, f"layout-interest-{interest.id}")
    people_mail.staff_password_link(organiser(), "http://spod4.test/sprava/heslo/" + "y" * 43, "24 hodin")
    db.session.commit()

    submitted = requests_service.submit_custom_workshop(
        requests_service.Requester(name="Marie Dvořáková Novotná", email=LONG_EMAIL, organisation=LONG_ORGANISATION,
                                   phone="+420 466 026 111"),
        requests_service.CustomWorkshop(
            region_id=region("CZ053").id, participant_needs="Vyhodnocování situace dítěte a práce s rodinou.",
            expected_participants=15, preferred_dates="březen nebo duben 2027, nejlépe úterý či čtvrtek",
            topic_text="Vyhodnocování situace dítěte"))
    request = submitted.request
    coordinator = request.region.coordinator or staff_user("koordinatorka@layout.test", "Koordinátorka",
                                                           StaffRole.COORDINATOR)
    requests_service.requester_message(request.id, "Doplňuji: účastníků bude spíše dvacet.")
    requests_service.transition(request.id, RequestState.IN_PROGRESS, coordinator, "Ozvu se s termíny.")
    closed = make_term(starts_in=timedelta(days=30), public=False, signup_token="layout-closed-term-token-1234")
    request_mail.request_term_created(request, closed, submitted.token)
    db.session.commit()
    return outbox()


@pytest.mark.slow
def test_every_email_fits_a_phone_without_sideways_scrolling(app, backend):
    if backend != "sqlite":
        pytest.skip("the layout does not depend on the database")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    composed = queue_every_email()
    by_kind = {}
    for message in composed:
        by_kind.setdefault(message.kind, message)
    assert mail_kinds() <= set(by_kind), sorted(mail_kinds() - set(by_kind))
    # One calendar object per e-mail at most: clients act on one calendar attachment only.
    assert all(len(m.attachments) <= 1 for m in composed), [(m.kind, len(m.attachments)) for m in composed]

    too_wide = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        for width in PHONES:
            page.set_viewport_size({"width": width, "height": 640})
            for kind in sorted(mail_kinds()):
                page.set_content(by_kind[kind].body_html)
                scroll, client = page.evaluate(
                    "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                if scroll > client:
                    too_wide[(kind, width)] = scroll
        browser.close()
    assert not too_wide, f"(e-mail, screen width): width it needs: {too_wide}"
