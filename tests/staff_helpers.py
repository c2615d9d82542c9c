"""Staff logins (one way for every test: `log_in`, or `staff_client` for a ready browser),
and builders of the back-office tests: people on a term, attendance."""
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import delete, select, update
from werkzeug.security import generate_password_hash

from trainings.demo import DEMO_ORGANISER, seed_demo_organiser
from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    EmployerType,
    RecoveryCode,
    Registration,
    SiteSetting,
    StaffRole,
    StaffSession,
    Term,
    User,
    term_lecturers,
    utcnow,
)
from trainings.registration import service, staff_actions
from trainings.people import accounts, second_factor, sessions

from .helpers import csrf, orp, region

SECOND_FACTOR_PAGE = "/sprava/overeni"
PASSWORD = "heslo-pro-testy-123"
# A cheap hash: the login itself is tested in test_staff_auth.py, and scrypt costs 0.1 s per check.
FAST_HASH = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")


def token_of(page) -> str:
    """The CSRF token of a page (its text or the response)."""
    return csrf(page if isinstance(page, str) else page.get_data(as_text=True))


def enrol_second_factor(user: User) -> str:
    """Set up the person's authenticator app as the enrolment page does (a secret, confirmed
    with a first code), unless she has one; returns the secret, from which pyotp gives codes.
    The setup takes the previous step's code (accepted: one step of clock drift), as if it was
    done half a minute ago, so the code her app shows now is still unused."""
    if not second_factor.enrolled(user):
        secret = second_factor.pending_secret(user)
        second_factor.confirm_enrolment(user, pyotp.TOTP(secret).at(time.time() - 30))
    return user.totp_secret


def fresh_app_code(user_id: int, secret: str) -> str:
    """The code the person's app shows when she next types one. Tests log one person in many
    times within a 30-second step, where she would wait for the app's next code (each is
    accepted once); forgetting the step she used last stands in for that wait."""
    db.session.execute(update(User).where(User.id == user_id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(secret).now()


def password_step(client, email, password, next_url=None):
    """Only the login form: e-mail and password."""
    page = client.get("/sprava/prihlaseni").get_data(as_text=True)
    url = "/sprava/prihlaseni" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": token_of(page), "email": email, "password": password})


def log_in(client, email, password, next_url=None, secret=None):
    """Log a staff member in as her browser would: the password, then the code from her app
    where the account asks for one. Administrators and coordinators must have the app: it is
    set up for them first, as they would on their first login, unless `secret` names the one
    her app was already set up with (the codes then come from it, not from the database).
    Returns the last answer (a redirect to `next_url` or the dashboard when all went well)."""
    user = accounts.user_by_email(email)
    if secret is None and user is not None and user.active and sessions.second_factor_required(user):
        secret = enrol_second_factor(user)
    response = password_step(client, email, password, next_url)
    location = response.headers.get("Location", "")
    if response.status_code == 302 and urlsplit(location).path == SECOND_FACTOR_PAGE:
        if secret is None:
            secret = user.totp_secret
        assert secret, f"{email} is asked for a code but no authenticator app was set up for her"
        page = client.get(location).get_data(as_text=True)
        code = fresh_app_code(user.id, secret)
        response = client.post(location, data={"csrf_token": token_of(page), "code": code})
    return response


def staff_client(app, email, role=StaffRole.ADMIN, name="Správce Systému"):
    """A browser of the staff member with this e-mail (created with `role` if there is none),
    logged in with PASSWORD."""
    user = accounts.user_by_email(email)
    if user is None:
        user = accounts.create_user(email, name, role)
    user.password_hash = FAST_HASH
    db.session.commit()
    client = app.test_client()
    response = log_in(client, email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


# The staff the access walk (tests/test_access.py) and the fuzz (tests/test_fuzz.py) log in as;
# the `objects` fixture (tests/conftest.py) removes them again.
CREATED = {
    StaffRole.ADMIN: "spravce@access.test",
    StaffRole.ORGANISER: "organizatorka@access.test",
    StaffRole.LECTURER: "lektorka@access.test",  # the lecturer the term of `objects` names
}
# A namesake of the lecturer of `objects`' term ("Mgr. Petra Lektorová"): the term's text names
# her as well, and still only the account linked to the term opens its pages.
OTHER_LECTURER = "jina.lektorka@access.test"
NAMES = {CREATED[StaffRole.LECTURER]: "Petra Lektorová", OTHER_LECTURER: "Petra Lektorová"}


def session_token(client) -> str:
    """A CSRF token of this browser's session, from a public form (anyone may open it):
    without one every POST would fail on CSRF (400) before reaching what a test is after."""
    return token_of(client.get("/zadost/workshop-na-klic"))


def browser(app, email=None, role=None):
    """An anonymous browser, or one logged in as the staff member with this e-mail (created
    with `role` if there is none); `client.token` is a CSRF token of its session."""
    if email is None:
        client = app.test_client()
    elif accounts.user_by_email(email) is not None:
        client = staff_client(app, email)
    else:
        client = staff_client(app, email, role, NAMES.get(email, f"Test {role.value}"))
    client.token = session_token(client)
    return client


def organiser_client(app):
    """A browser with the demo organiser logged in; `client.token` is a CSRF token of its session."""
    client = app.test_client()
    email, password = DEMO_ORGANISER
    user = accounts.user_by_email(email)
    if user is None or user.password_hash is None:
        seed_demo_organiser()  # hashing a password is slow: only when she has none yet
    assert log_in(client, email, password).status_code == 302
    client.token = token_of(client.get("/sprava/"))
    return client


def organiser() -> User:
    """The demo organiser as the actor of service calls. Not through seed_demo_organiser(),
    which sets her password again and so ends the session of a logged-in test browser."""
    return accounts.user_by_email(DEMO_ORGANISER[0]) or accounts.user_by_email(seed_demo_organiser()[0])


def staff_user(email, name, role, password="dlouhe-heslo-pro-test"):
    user = accounts.user_by_email(email) or accounts.create_user(email, name, role, password)
    return user


def remove_user(user_id: int) -> None:
    """Staff created by a test go again; their audit entries first (they point at them)."""
    db.session.rollback()
    db.session.execute(delete(AuditEntry).where(AuditEntry.actor_id == user_id))
    forget_logins(user_id)
    db.session.execute(update(Registration).where(Registration.added_by_id == user_id).values(added_by_id=None))
    db.session.execute(delete(term_lecturers).where(term_lecturers.c.user_id == user_id))
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.commit()


def forget_logins(user_id: int) -> None:
    """Her sessions, recovery codes and settings she saved, which would keep a test's user from being deleted."""
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(update(SiteSetting).where(SiteSetting.updated_by_id == user_id).values(updated_by_id=None))


def applicant(i, orp_name="Litomyšl", email=None, employer=EmployerType.OSPOD, region_code="CZ053", name=None,
              phone=None):
    """The i-th person from an OSPOD in Pardubický kraj, as the sign-up form would send her."""
    return service.Applicant(
        name=name or f"Účastnice Nováková {i}",
        email=email or f"ucastnice{i}@example.cz",
        employer_type=employer,
        job_title="sociální pracovnice",
        region_id=region(region_code).id,
        orp_id=orp(orp_name).id if orp_name else None,
        phone=phone,
    )


def sign_up(term, i, **kwargs) -> Registration:
    return service.register(term.id, applicant(i, **kwargs)).registration


def move_to_past(term: Term, days: int) -> Term:
    """Put a term `days` days back (people register while it is open; attendance comes after)."""
    length = term.ends_at - term.starts_at
    term = db.session.get(Term, term.id, populate_existing=True)
    term.starts_at = utcnow().replace(microsecond=0) - timedelta(days=days)
    term.ends_at = term.starts_at + length
    term.registration_deadline = None
    db.session.commit()
    return term


def attend(registration_id, attended=True, actor=None):
    return staff_actions.mark_attendance(registration_id, attended, actor or organiser())


def fresh(model, object_id):
    db.session.rollback()
    return db.session.get(model, object_id, populate_existing=True)


def registrations_of(term) -> list[Registration]:
    db.session.rollback()
    return db.session.scalars(select(Registration).where(Registration.term_id == term.id)
                              .order_by(Registration.id)).all()
