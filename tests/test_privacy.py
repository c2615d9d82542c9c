"""Personal data kept only as long as reporting needs them, and given or erased on request."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from trainings.catalogue.interest import add_interest
from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    InterestEntry,
    OutboxMessage,
    Registration,
    RegistrationLink,
    RegistrationState,
    StaffRole,
    StaffSession,
    User,
    utcnow,
)
from trainings.privacy import service as privacy
from trainings.registration import service
from trainings.people import accounts

from .helpers import make_term, offer, region
from .staff_helpers import applicant, forget_logins, log_in


def sign_up(term, email, name="Jana Nováková", orp_name="Litomyšl", phone="+420 777 123 456"):
    return service.register(term.id, applicant(0, orp_name, email=email, name=name, phone=phone))


def report_numbers():
    """What project reporting counts: registrations by state, kraj and ORP, and unique persons."""
    db.session.rollback()
    by_group = db.session.execute(
        select(Registration.state, Registration.region_id, Registration.orp_id, Registration.employer_type,
               func.count()).group_by(Registration.state, Registration.region_id, Registration.orp_id,
                                      Registration.employer_type)
    ).all()
    persons = db.session.scalar(select(func.count(func.distinct(Registration.email_normalized))))
    interest = db.session.execute(
        select(InterestEntry.offer_id, InterestEntry.region_id, func.count()).group_by(
            InterestEntry.offer_id, InterestEntry.region_id)
    ).all()
    return sorted(map(tuple, by_group)), persons, sorted(map(tuple, interest))


def everything_stored():
    """Every text value in every table the people's data live in, as one string."""
    db.session.rollback()
    parts = []
    for model in (Registration, InterestEntry, OutboxMessage, RegistrationLink, AuditEntry):
        for row in db.session.scalars(select(model)):
            parts.append(repr({c.name: getattr(row, c.key, None) for c in model.__table__.columns}))
    return "\n".join(parts)


def test_retention_run_leaves_no_personal_data_of_old_registrations_and_keeps_the_numbers(app):
    old = make_term(starts_in=timedelta(days=2))
    for i, (email, orp_name) in enumerate([("jana@mesto.cz", "Litomyšl"), ("petr@mesto.cz", "Chrudim")]):
        sign_up(old, email, name=f"Osoba Starší{i}", orp_name=orp_name)
    second_old = make_term(starts_in=timedelta(days=3))
    sign_up(second_old, "jana@mesto.cz", name="Osoba Starší0")
    add_interest(offer("syndrom-can"), "zajemce@mesto.cz", region("CZ053").id, None)
    recent = make_term(starts_in=timedelta(days=60))
    sign_up(recent, "nova@mesto.cz", name="Osoba Nová", phone="+420 608 000 111")
    before = report_numbers()

    # 400 days later, with a retention period of a year: the first two terms are older than that.
    later = utcnow() + timedelta(days=400)
    outcome = privacy.run_retention(older_than=timedelta(days=365), now=later)

    assert outcome.registrations == 3 and outcome.interest_entries == 1
    assert report_numbers() == before
    stored = everything_stored()
    for personal in ("jana@mesto.cz", "petr@mesto.cz", "zajemce@mesto.cz", "Starší", "777 123 456"):
        assert personal not in stored
    # The recent registration is untouched.
    assert "nova@mesto.cz" in stored and "Osoba Nová" in stored
    # Running again changes nothing more.
    assert privacy.run_retention(older_than=timedelta(days=365), now=later).registrations == 0
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.retention")).first()


def test_retention_deletes_staff_sessions_a_month_after_they_ended_or_ran_out(app):
    user = accounts.create_user("sezeni@example.cz", "Osoba Sezení", StaffRole.ORGANISER)
    now = utcnow()

    def row(name, days_ago, ended=False):
        """A session started and last used `days_ago` days ago (ended then, if `ended`)."""
        at = now - timedelta(days=days_ago)
        db.session.add(StaffSession(user=user, token_hash=name.ljust(64, "0"), created_at=at, last_seen_at=at,
                                    ended_at=at if ended else None))
        return name

    gone = {row("logged-out-31-days-ago", 31, ended=True),
            row("left-open-40-days-ago", 40)}  # ran out then; nobody came back to end the row
    kept = {row("logged-out-29-days-ago", 29, ended=True),
            row("left-open-29-days-ago", 29),
            row("signed-in-now", 0)}
    db.session.commit()
    try:
        outcome = privacy.run_retention(now=now)
        db.session.rollback()
        left = {h.rstrip("0") for h in db.session.scalars(
            select(StaffSession.token_hash).where(StaffSession.user_id == user.id))}
        assert left == kept and outcome.staff_sessions >= len(gone)
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.retention")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.data["staff_sessions"] == outcome.staff_sessions
    finally:
        db.session.rollback()
        forget_logins(user.id)
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()


def test_erasure_on_request_cancels_future_seats_hands_them_on_and_anonymises(app):
    term = make_term(capacity=1)
    sign_up(term, "jana@mesto.cz")
    waiting = sign_up(term, "petr@mesto.cz", name="Petr Čekající").registration.id
    outcome = privacy.erase_person("Jana@Mesto.cz", actor=None)
    assert outcome.registrations == 1 and len(outcome.cancelled) == 1
    db.session.rollback()
    assert db.session.get(Registration, waiting).state == RegistrationState.CONFIRMED
    assert "jana@mesto.cz" not in everything_stored()
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).one().data[
        "registrations"] == 1


def test_an_erasure_that_fails_at_its_last_step_leaves_nothing_half_done(app):
    """The account that asked for the erasure was removed meanwhile: its audit entry, the last
    thing written, breaks the database's own rule (audit_entries.actor_id). Her seat must not be
    given up, nor the colleague waiting promoted, without the erasure they were part of."""
    term, other_term = make_term(capacity=1), make_term(starts_in=timedelta(days=20))
    jana = sign_up(term, "jana@mesto.cz").registration.id
    jana_elsewhere = sign_up(other_term, "jana@mesto.cz").registration.id
    petr = sign_up(term, "petr@mesto.cz", name="Petr Čekající").registration.id
    mails_before = db.session.scalar(select(func.count(OutboxMessage.id)))
    removed = accounts.create_user("odejita@mpsv.example", "Odešlá Správkyně", StaffRole.ADMIN, "heslo-spravce-123")
    removed_id = removed.id  # loads the row, so it can be used after it is gone
    db.session.expunge(removed)
    db.session.execute(delete(AuditEntry).where(AuditEntry.actor_id == removed_id))
    db.session.execute(delete(User).where(User.id == removed_id))
    db.session.commit()

    with pytest.raises(IntegrityError):
        privacy.erase_person("jana@mesto.cz", actor=removed)

    db.session.rollback()
    for registration_id in (jana, jana_elsewhere):
        registration = db.session.get(Registration, registration_id)
        assert registration.state == RegistrationState.CONFIRMED and registration.cancelled_at is None
        assert (registration.name, registration.email) == ("Jana Nováková", "jana@mesto.cz")
        assert db.session.scalar(select(func.count(RegistrationLink.id))
                                 .where(RegistrationLink.registration_id == registration_id)) == 1
    assert db.session.get(Registration, petr).state == RegistrationState.WAITLISTED
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == mails_before
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).all()

    # Asked again by someone whose account exists, it is done whole.
    outcome = privacy.erase_person("jana@mesto.cz", actor=None)
    assert sorted(outcome.cancelled) == [jana, jana_elsewhere]
    db.session.rollback()
    assert db.session.get(Registration, petr).state == RegistrationState.CONFIRMED
    assert "jana@mesto.cz" not in everything_stored()


@pytest.fixture
def admin(app):
    user = accounts.create_user("spravce@mpsv.example", "Správce", StaffRole.ADMIN, "heslo-spravce-123")
    yield user
    db.session.rollback()
    db.session.execute(delete(AuditEntry).where(AuditEntry.actor_id == user.id))
    forget_logins(user.id)
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()


def test_staff_export_and_erase_through_the_admin_page(client, admin):
    term = make_term()
    sign_up(term, "jana@mesto.cz")
    log_in(client, admin.email, "heslo-spravce-123")
    # Logging in starts a new session, with a new form token.
    page = client.get("/sprava/osobni-udaje/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    found = client.post("/sprava/osobni-udaje/", data={"csrf_token": token, "email": "jana@mesto.cz"})
    assert "Přihlášky: 1" in found.get_data(as_text=True)
    export = client.post("/sprava/osobni-udaje/export", data={"csrf_token": token, "email": "jana@mesto.cz"})
    data = json.loads(export.get_data(as_text=True))
    assert data["registrations"][0]["name"] == "Jana Nováková"
    assert export.headers["Cache-Control"] == "no-store"

    unconfirmed = client.post("/sprava/osobni-udaje/vymaz", data={"csrf_token": token, "email": "jana@mesto.cz"})
    assert unconfirmed.status_code == 422 and "Výmaz je třeba potvrdit." in unconfirmed.get_data(as_text=True)
    client.post("/sprava/osobni-udaje/vymaz", data={"csrf_token": token, "email": "jana@mesto.cz", "confirm": "y"})
    assert "jana@mesto.cz" not in everything_stored()
    actions = [a.action for a in db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "privacy"))]
    assert actions.count("privacy.export") == 2 and "privacy.erase" in actions
