"""Each domain rule lives in one place; these tests call the services and rules directly,
so a caller that is not the form (CLI, API, another service) gets the same answer."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from trainings import ics
from trainings.errors import ServiceError
from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    EmployerType,
    Registration,
    RegistrationState,
    RequestState,
    StaffRole,
    Term,
    TermForm,
    TermState,
)
from trainings.privacy import service as privacy
from trainings.registration import service
from trainings.requests import service as requests
from trainings.people import accounts
from trainings.terms import service as terms

from .helpers import make_term, only_message, orp, region

MEETING = "https://meet.example.cz/ipod"  # what make_term gives an online term


def sign_up(term, email, name="Jana Nováková"):
    return service.register(term.id, service.Applicant(
        name=name, email=email, employer_type=EmployerType.OSPOD, job_title="sociální pracovnice",
        region_id=region("CZ053").id, orp_id=orp("Litomyšl").id,
    ))


# --- cancellability: one rule for the person, staff and the erasure -----------------


def test_erasing_a_person_with_a_seat_on_a_cancelled_future_term_anonymises_without_cancelling(app):
    cancelled_term = make_term()
    held = sign_up(cancelled_term, "jana@mesto.cz").registration.id
    terms.cancel_term(cancelled_term.id, actor=None, reason="Lektorka onemocněla.")
    standing = make_term(starts_in=timedelta(days=20))
    active = sign_up(standing, "jana@mesto.cz").registration.id

    outcome = privacy.erase_person("jana@mesto.cz", actor=None)

    # The seat on the standing term is given up; the cancelled term's row is only anonymised.
    assert outcome.cancelled == [active]
    assert outcome.registrations == 2
    db.session.rollback()
    kept = db.session.get(Registration, held)
    assert kept.term.state == TermState.CANCELLED
    assert kept.state == RegistrationState.CONFIRMED and kept.name == privacy.ANONYMOUS_NAME
    assert db.session.get(Registration, active).state == RegistrationState.CANCELLED
    erase = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).one()
    assert (erase.object_type, erase.object_id, erase.data["registrations"]) == ("privacy", 0, 2)


# --- who sees the online link and the door code ------------------------------------------


def test_the_online_link_is_for_a_confirmed_seat_while_the_term_stands_on_every_channel(client):
    term = make_term(capacity=1)
    confirmed = sign_up(term, "jana@mesto.cz")
    waiting = sign_up(term, "petr@mesto.cz", name="Petr Čekající")
    assert confirmed.registration.online_link() == MEETING
    assert waiting.registration.online_link() is None
    assert MEETING in client.get(f"/prihlaska/{confirmed.token}").get_data(as_text=True)
    assert MEETING not in client.get(f"/prihlaska/{waiting.token}").get_data(as_text=True)

    terms.cancel_term(term.id, actor=None, reason="Lektorka onemocněla.")
    db.session.rollback()
    jana = db.session.get(Registration, confirmed.registration.id)
    assert jana.state == RegistrationState.CONFIRMED and jana.online_link() is None
    # The cancellation e-mail, her page and her calendar no longer hand out the meeting.
    told = only_message("term_cancelled", "jana@mesto.cz")
    assert "Lektorka onemocněla." in told.body_text
    assert MEETING not in told.body_text and MEETING not in told.body_html
    assert "pošleme potvrzeným" not in told.body_text
    page = client.get(f"/prihlaska/{confirmed.token}").get_data(as_text=True)
    assert "Tento termín jsme zrušili." in page and MEETING not in page
    assert MEETING not in ics.registration_invitation(jana, "REQUEST")


def test_the_door_code_shows_only_while_a_confirmed_person_is_expected_at_the_door(client):
    term = make_term(form=TermForm.IN_PERSON, venue="Krajský úřad, Pardubice", region_id=region("CZ053").id)
    outcome = sign_up(term, "jana@mesto.cz")
    registration = outcome.registration
    code = registration.check_in_code
    assert code and registration.door_code() == code and not registration.attends_online()
    # She cancels before the outbox worker writes her confirmation: it carries no code any more.
    service.cancel(registration.id)
    confirmation = only_message("registration_confirmed", "jana@mesto.cz")
    assert code not in confirmation.body_text and code not in confirmation.body_html
    db.session.rollback()
    assert db.session.get(Registration, registration.id).door_code() is None

    online = make_term(starts_in=timedelta(days=21))
    there = sign_up(online, "petr@mesto.cz", name="Petr Online").registration
    assert there.check_in_code and there.door_code() is None and there.attends_online()
    there.attended = True
    assert not there.attends_online()


# --- free seats: one number on the catalogue, the sign-up form, the API and the back office ----


def test_free_seats_are_one_number_everywhere_also_when_capacity_fell_below_the_confirmed(client):
    from trainings.catalogue import queries

    term = make_term(capacity=3)
    for n in range(3):
        sign_up(term, f"osoba{n}@mesto.cz", name=f"Osoba Číslo{n}")
    db.session.rollback()
    assert service.seat_usage(term).free == 0
    # The organiser lowers the capacity under the confirmed count (nobody loses a seat).
    term.capacity = 2
    db.session.commit()

    usage = service.seat_usage(term)
    assert (usage.confirmed, usage.free, usage.refusal(None)) == (3, 0, service.TERM_FULL)
    row, = [r for r in queries.upcoming_terms() if r.term.id == term.id]
    assert row.free == 0
    api, = [i for i in client.get("/api/v1/terms").get_json()["items"] if i["id"] == term.id]
    assert api["free_seats"] == 0
    assert "0 míst z 2" in client.get(f"/termin/{term.id}/prihlaska").get_data(as_text=True)

    term.capacity = 5
    db.session.commit()
    row, = [r for r in queries.upcoming_terms() if r.term.id == term.id]
    assert (service.seat_usage(term).free, row.free) == (2, 2)


# --- one error type: every service refuses with a ServiceError (Czech message, optional field) ---


def test_terms_requests_and_accounts_refuse_with_the_one_service_error(app):
    starts = make_term().starts_at + timedelta(days=7)
    with pytest.raises(ServiceError) as term:
        terms.create_term(terms.TermData(offer_id=make_term().offer_id, starts_at=starts,
                                         ends_at=starts - timedelta(hours=1), form=TermForm.ONLINE, capacity=10),
                          actor=None)
    assert (term.value.field, term.value.message) == ("ends_at", "Konec musí být po začátku.")

    submitted = requests.submit_custom_workshop(
        requests.Requester("Marie Dvořáková", "marie@pardubickykraj.cz", "KÚ Pardubického kraje"),
        requests.CustomWorkshop(region("CZ053").id, "IPOD", 20, "jaro", topic_text="IPOD"))
    coordinator = submitted.request.coordinator
    with pytest.raises(ServiceError) as request:
        requests.transition(submitted.request.id, RequestState.SCHEDULED, coordinator)
    assert request.value.field == "to_state" and "nelze přejít" in request.value.message
    db.session.rollback()

    with pytest.raises(ServiceError) as account:
        accounts.create_user("nova@mpsv.example", "Nová Organizátorka", StaffRole.ORGANISER, "kratke")
    assert account.value.field is None and account.value.message == "Heslo musí mít alespoň 10 znaků."
    db.session.rollback()
    assert accounts.user_by_email("nova@mpsv.example") is None


# --- one set of limits for a term, in the service; both term forms build TermData one way ----


@pytest.mark.parametrize("values, field", [
    ({"capacity": terms.MAX_CAPACITY + 1}, "capacity"),
    ({"per_orp_limit": terms.MAX_CAPACITY + 1}, "per_orp_limit"),
    ({"hours": terms.MAX_HOURS + 1}, "hours"),
    ({"hours": 0.25}, "hours"),
    ({"lecturer": "L" * 301}, "lecturer"),
    ({"online_url": "https://meet.example.cz/" + "x" * 500}, "online_url"),
])
def test_the_service_refuses_a_term_beyond_the_limits_whoever_calls_it(app, values, field):
    starts = make_term().starts_at + timedelta(days=7)
    data = terms.TermData(offer_id=make_term().offer_id, starts_at=starts, ends_at=starts + timedelta(hours=3),
                          form=TermForm.ONLINE, capacity=20, online_url=MEETING)
    for name, value in values.items():
        setattr(data, name, value)
    with pytest.raises(terms.TermError) as refused:
        terms.create_term(data, actor=None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(Term).where(Term.starts_at == starts)).first() is None


def test_both_term_forms_hand_over_the_same_data_for_the_same_input():
    from trainings.terms.forms import term_data

    starts = datetime(2030, 3, 12, 8, tzinfo=timezone.utc)
    common = dict(offer_id=1, starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=12)
    online = term_data(**common, form=TermForm.ONLINE, region_id=3, venue="Sál 2", online_url=MEETING, lecturer="")
    assert (online.region_id, online.venue, online.online_url, online.lecturer) == (None, None, MEETING, None)
    in_person = term_data(**common, form=TermForm.IN_PERSON, region_id=3, venue=" Sál 2 ", online_url=MEETING)
    assert (in_person.region_id, in_person.venue, in_person.online_url) == (3, "Sál 2", None)
