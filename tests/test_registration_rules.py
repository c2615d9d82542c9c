"""The place rules hold for every caller of the registration service, not only behind the form.

"The ORP lies in the chosen kraj" and "an OSPOD worker names her ORP" used to live only in
the sign-up form; the CLI, the API and staff "add by hand" could write Pardubický kraj with
Benešov. These tests call the services directly, the way those callers do.
"""
import pytest
from sqlalchemy import func, select

from trainings.extensions import db
from trainings.models import EmployerType, Registration, StaffRole
from trainings.registration import service, staff_actions

from .helpers import make_term
from .staff_helpers import applicant, remove_user, staff_user


def registrations() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Registration.id)))


def test_an_orp_of_another_kraj_is_refused_by_the_service_itself(app):
    term = make_term()
    with pytest.raises(service.PlaceRefused) as refused:
        service.register(term.id, applicant(1, orp_name="Benešov", region_code="CZ053"))  # Benešov is Středočeský
    assert refused.value.field == "orp"
    assert refused.value.message == "Vybraná ORP nepatří do zvoleného kraje."
    assert registrations() == 0


def test_an_ospod_worker_without_her_orp_is_refused_by_the_service(app):
    term = make_term()
    with pytest.raises(service.PlaceRefused) as refused:
        service.register(term.id, applicant(1, orp_name=None, employer=EmployerType.OSPOD))
    assert refused.value.field == "orp" and "Vyberte ORP svého pracoviště" in refused.value.message
    assert registrations() == 0


def test_someone_from_a_regional_office_may_name_no_orp(app):
    term = make_term()
    outcome = service.register(term.id, applicant(1, orp_name=None, employer=EmployerType.REGIONAL_OFFICE))
    assert outcome.registration.orp_id is None and registrations() == 1


def test_an_unknown_kraj_is_refused(app):
    term = make_term()
    person = applicant(1, orp_name=None, employer=EmployerType.REGIONAL_OFFICE)
    with pytest.raises(service.PlaceRefused) as refused:
        service.register(term.id, service.Applicant(**{**person.__dict__, "region_id": 999_999}))
    assert refused.value.field == "region"
    assert registrations() == 0


@pytest.fixture
def organiser(app):
    user = staff_user("organizator-pravidla@spod4.example", "Olga Organizátorová", StaffRole.ORGANISER)
    yield user
    remove_user(user.id)


def test_staff_adding_by_hand_get_the_same_rule(organiser):
    term = make_term()
    with pytest.raises(service.PlaceRefused):
        staff_actions.add_by_hand(term.id, applicant(1, orp_name="Benešov"), organiser)
    assert registrations() == 0


def test_a_term_not_in_the_catalogue_takes_sign_ups_only_with_its_private_link(app):
    term = make_term(public=False, signup_token="odkaz-na-klic-1234567890")
    for token in (None, "", "jiny-odkaz-1234567890"):
        with pytest.raises(service.TermNotFound):
            service.register(term.id, applicant(1), signup_token=token)
    assert registrations() == 0
    outcome = service.register(term.id, applicant(1), signup_token="odkaz-na-klic-1234567890")
    assert outcome.waitlist_position is None and registrations() == 1
