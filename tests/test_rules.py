"""Each domain rule lives in one place; these tests call the services and rules directly,
so a caller that is not the form (CLI, API, another service) gets the same answer."""
from datetime import timedelta

from sqlalchemy import select

from trainings.extensions import db
from trainings.models import AuditEntry, EmployerType, Registration, RegistrationState, TermState
from trainings.privacy import service as privacy
from trainings.registration import service
from trainings.terms import service as terms

from .conftest import make_term, orp, region


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
