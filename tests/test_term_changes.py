"""The organiser changes or cancels a term: everyone on it hears, and calendars follow."""
from datetime import timedelta

import pytest
import vobject
from sqlalchemy import select

from trainings.catalogue.interest import add_interest
from trainings.extensions import db
from trainings.mail import dispatch
from trainings.models import AuditEntry, TermForm
from trainings.registration import service
from trainings.registration.reminders import send_reminders
from trainings.terms import service as terms
from trainings.terms.service import TermData, TermError

from .helpers import make_term, offer, orp, outbox, region
from .staff_helpers import applicant


def sign_up(term, i, orp_name="Litomyšl"):
    return service.register(term.id, applicant(i, orp_name, name=f"Účastnice {i}")).registration.id


def mails(kind):
    return outbox(kind)


def invitation(message):
    [attachment] = message.attachments
    return vobject.readOne(attachment["data"])


def test_moving_a_term_sends_an_update_with_the_same_uid_and_a_higher_sequence(app):
    term = make_term(capacity=1)
    sign_up(term, 1)
    sign_up(term, 2)  # waitlisted
    first = invitation(mails("registration_confirmed")[0])

    data = TermData.of(term)
    data.starts_at += timedelta(days=1)
    data.ends_at += timedelta(days=1)
    terms.update_term(term.id, data, actor=None)

    changed = mails("term_changed")
    assert sorted(m.recipient for m in changed) == ["ucastnice1@example.cz", "ucastnice2@example.cz"]
    confirmed_update = next(m for m in changed if m.recipient == "ucastnice1@example.cz")
    update = invitation(confirmed_update)
    assert update.method.value == "REQUEST"
    assert update.vevent.uid.value == first.vevent.uid.value
    assert int(update.vevent.sequence.value) > int(first.vevent.sequence.value)
    assert update.vevent.dtstart.value == first.vevent.dtstart.value + timedelta(days=1)
    assert "Čas:" in confirmed_update.body_text and "→" in confirmed_update.body_text
    # The waitlisted person hears of the change but gets no calendar event.
    assert next(m for m in changed if m.recipient == "ucastnice2@example.cz").attachments == []
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "term.updated")).all()
    assert set(entry.data) == {"starts_at", "ends_at"}


def test_cancelling_a_term_withdraws_the_event_with_the_same_uid(app):
    term = make_term()
    sign_up(term, 1)
    first = invitation(mails("registration_confirmed")[0])
    assert terms.cancel_term(term.id, actor=None, reason="onemocnění lektorky") == 1

    [message] = mails("term_cancelled")
    cancel = invitation(message)
    assert cancel.method.value == "CANCEL"
    assert cancel.vevent.uid.value == first.vevent.uid.value
    assert int(cancel.vevent.sequence.value) > int(first.vevent.sequence.value)
    assert "onemocnění lektorky" in message.body_text


def test_raising_capacity_promotes_from_the_waiting_list_at_once(app):
    term = make_term(capacity=1)
    for i in range(3):
        sign_up(term, i)
    data = TermData.of(term)
    data.capacity = 2
    promoted = terms.update_term(term.id, data, actor=None)
    assert [r.email for r in promoted] == ["ucastnice1@example.cz"]
    assert [m.recipient for m in mails("registration_promoted")] == ["ucastnice1@example.cz"]
    # Capacity alone is no news to the people already on the term.
    assert mails("term_changed") == []


def test_a_term_with_end_before_start_or_no_place_is_refused_in_czech(app):
    term = make_term()
    data = TermData.of(term)
    data.ends_at = data.starts_at - timedelta(hours=1)
    try:
        terms.update_term(term.id, data, actor=None)
    except TermError as exc:
        assert (exc.field, exc.message) == ("ends_at", "Konec musí být po začátku.")
    else:
        raise AssertionError("accepted")
    in_person = TermData.of(term)
    in_person.form = TermForm.IN_PERSON
    try:
        terms.create_term(in_person, actor=None)
    except TermError as exc:
        assert exc.field == "venue"
    else:
        raise AssertionError("accepted")


def test_reminders_go_once_however_often_cron_runs(app):
    soon = make_term(starts_in=timedelta(days=1))
    later = make_term(starts_in=timedelta(days=10))
    sign_up(soon, 1)
    sign_up(later, 2)
    assert send_reminders(days_before=2) == 1
    assert send_reminders(days_before=2) == 0
    [reminder] = mails("reminder")
    assert reminder.recipient == "ucastnice1@example.cz"
    assert reminder.subject.startswith("Připomínka: Od analýzy k tvorbě IPOD")
    dispatch.send_due()
    assert send_reminders(days_before=2) == 0


def test_a_new_term_of_a_planned_workshop_tells_the_interest_list_once(app):
    planned = offer("syndrom-can")
    add_interest(planned, "jana@example.cz", region("CZ053").id, orp("Litomyšl").id)
    add_interest(planned, "petr@example.cz", region("CZ064").id, None)
    first = make_term(slug="syndrom-can")
    terms.notify_interest_list(first)
    db.session.commit()
    second = make_term(slug="syndrom-can", starts_in=timedelta(days=30))
    terms.notify_interest_list(second)
    db.session.commit()
    assert sorted(m.recipient for m in mails("interest_term_opened")) == ["jana@example.cz", "petr@example.cz"]
    assert f"/termin/{first.id}/prihlaska" in mails("interest_term_opened")[0].body_text


def test_create_term_for_a_planned_workshop_notifies_and_audits(app):
    planned = offer("syndrom-can")
    add_interest(planned, "jana@example.cz", region("CZ053").id, None)
    template = make_term(slug="syndrom-can")
    data = TermData.of(template)
    term = terms.create_term(data, actor=None)
    assert [m.recipient for m in mails("interest_term_opened")] == ["jana@example.cz"]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "terms", AuditEntry.object_id == term.id)
    ).one()
    assert entry.action == "term.created"


def test_a_closed_term_gets_a_private_sign_up_token(app):
    data = TermData.of(make_term())
    data.public = False
    term = terms.create_term(data, actor=None)
    assert term.signup_token and len(term.signup_token) >= 24


def test_a_term_that_took_place_cannot_be_called_off_and_its_page_offers_no_such_thing(app):
    from .staff_helpers import move_to_past, organiser_client

    term = make_term()
    person = service.register(term.id, applicant(1)).registration
    move_to_past(term, days=1)
    # Calling it off now would void the attendance and the certificates of people who were there.
    with pytest.raises(terms.TermTookPlace):
        terms.cancel_term(term.id, actor=None)
    staff = organiser_client(app)
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert f"/sprava/terminy/{term.id}/zrusit" not in page
    assert f"/sprava/terminy/{term.id}/osvedceni.pdf" in page
    answer = staff.post(f"/sprava/terminy/{term.id}/zrusit", data={"csrf_token": staff.token, "reason": "omyl"})
    assert answer.status_code == 302
    assert "Termín už proběhl" in staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert db.session.get(type(term), term.id, populate_existing=True).state.value == "scheduled"
    assert db.session.get(type(person), person.id, populate_existing=True).state.value == "confirmed"


def test_a_term_running_now_offers_no_certificates_yet_and_can_no_longer_be_called_off(app):
    from .staff_helpers import organiser_client

    term = make_term(starts_in=timedelta(hours=1))
    person = service.register(term.id, applicant(1)).registration
    term = db.session.get(type(term), term.id)
    term.starts_at -= timedelta(hours=1, minutes=30)  # she signed up; it began half an hour ago
    db.session.commit()
    # People are already in the room and checked in; a cancellation now would void what they attended.
    with pytest.raises(terms.TermTookPlace) as refused:
        terms.cancel_term(term.id, actor=None)
    assert "Termín už začal" in refused.value.message
    staff = organiser_client(app)
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert f"/sprava/terminy/{term.id}/osvedceni.pdf" not in page
    assert f"/sprava/terminy/{term.id}/zrusit" not in page
    answer = staff.post(f"/sprava/terminy/{term.id}/zrusit", data={"csrf_token": staff.token, "reason": "omyl"})
    assert answer.status_code == 302
    assert "Termín už začal" in staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert db.session.get(type(term), term.id, populate_existing=True).state.value == "scheduled"
    assert db.session.get(type(person), person.id, populate_existing=True).state.value == "confirmed"


def test_seat_usage_in_the_term_list_stays_on_one_line(app):
    from .staff_helpers import organiser_client

    term = make_term(capacity=20)
    sign_up(term, 1)
    page = organiser_client(app).get("/sprava/terminy/").get_data(as_text=True)
    # Non-breaking spaces throughout: "1 / 20 (5 %)" never breaks inside a narrow column.
    assert "1&nbsp;/&nbsp;20&nbsp;(5&nbsp;%)" in page
