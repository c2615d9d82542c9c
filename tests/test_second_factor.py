"""The second factor: administrators and coordinators give a code from an app after the password.

They see casework descriptions of children's cases, so a password alone must not
open the back office to them. Organisers and lecturers may switch it on.
"""
import re
import threading
import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from trainings.extensions import db, limiter
from trainings.models import AuditEntry, RecoveryCode, StaffRole, StaffSession, User
from trainings.people import second_factor

from .helpers import staff_rules, url_of
from .staff_helpers import (
    enrol_second_factor,
    fresh_app_code,
    log_in,
    password_step,
    remove_user,
    staff_user,
    token_of,
)

PASSWORD = "dlouhe-heslo-pro-test"


@pytest.fixture
def person(app):
    """A staff member of the role the test asks for, removed again afterwards."""
    made = []

    def make(role, email=None):
        user = staff_user(email or f"{role.value}.2fa@example.cz", f"Testovací {role.value}", role, PASSWORD)
        made.append(user.id)
        return user

    yield make
    for user_id in made:
        remove_user(user_id)


def field_error(response, field="code"):
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.get_data(as_text=True))
    return found.group(1) if found else None


def path_of(response):
    return urlsplit(response.headers["Location"]).path


def audit_actions(user):
    db.session.rollback()
    return [e.action for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id)
        .order_by(AuditEntry.id))]


def codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page.get_data(as_text=True))


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.COORDINATOR])
def test_admin_and_coordinator_reach_only_the_setup_until_they_have_the_app(app, client, person, role):
    user = person(role)
    response = password_step(client, user.email, PASSWORD, next_url="/sprava/emaily")
    assert path_of(response) == "/sprava/overeni/nastaveni"

    # Every staff page sends this half-finished session back to the login, which sends it to the setup.
    pages = [url_of(app, rule) for rule, method in staff_rules(app) if method == "GET"]
    assert len(pages) > 20
    for url in pages:
        answer = client.get(url)
        assert answer.status_code == 302 and path_of(answer) == "/sprava/prihlaseni", (url, answer.status_code)
    assert path_of(client.get("/sprava/prihlaseni")) == "/sprava/overeni/nastaveni"

    setup = client.get("/sprava/overeni/nastaveni?next=/sprava/emaily")
    text = setup.get_data(as_text=True)
    assert setup.status_code == 200 and "<svg" in text
    db.session.rollback()
    secret = db.session.get(User, user.id).totp_secret
    assert " ".join(secret[i:i + 4] for i in range(0, 32, 4)) in text  # for typing into the app by hand

    wrong = client.post("/sprava/overeni/nastaveni?next=/sprava/emaily",
                        data={"csrf_token": token_of(setup), "code": "000000"})
    assert wrong.status_code == 422
    assert field_error(wrong) == "Kód nesouhlasí. Zadejte aktuální šestimístný kód z aplikace."
    assert client.get("/sprava/").status_code == 302

    done = client.post("/sprava/overeni/nastaveni?next=/sprava/emaily",
                       data={"csrf_token": token_of(setup), "code": pyotp.TOTP(secret).now()})
    codes = codes_on(done)
    assert done.status_code == 200 and len(set(codes)) == 10
    assert done.headers["Cache-Control"] == setup.headers["Cache-Control"] == "no-store"
    assert 'href="/sprava/emaily"' in done.get_data(as_text=True)
    assert client.get("/sprava/").status_code == 200
    db.session.rollback()
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not any(code.replace("-", "") in stored for code in codes)
    assert db.session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one().second_factor_at
    assert audit_actions(user) == ["second_factor.enabled"]
    # The codes were shown once; the setup page now leads to the account's settings.
    assert path_of(client.get("/sprava/overeni/nastaveni")) == "/sprava/ucet/dvoufazove-overeni"


def test_with_the_app_a_wrong_code_is_refused_by_the_field_and_the_right_one_lets_in(client, person):
    user = person(StaffRole.COORDINATOR)
    secret = enrol_second_factor(user)
    response = password_step(client, user.email, PASSWORD, next_url="/sprava/zadosti/")
    assert response.headers["Location"] == "/sprava/overeni?next=/sprava/zadosti/"
    assert client.get("/sprava/zadosti/").status_code == 302

    page = client.get("/sprava/overeni?next=/sprava/zadosti/")
    for wrong in ("123456", "abc", "1" * 40):
        answer = client.post("/sprava/overeni?next=/sprava/zadosti/", data={"csrf_token": token_of(page), "code": wrong})
        assert answer.status_code == 422
        assert field_error(answer) == "Kód nesouhlasí. Zadejte aktuální kód z aplikace nebo jeden ze záložních kódů."
        assert f'value="{wrong}"' in answer.get_data(as_text=True)  # what was typed stays
    assert client.get("/sprava/zadosti/").status_code == 302

    right = client.post("/sprava/overeni?next=/sprava/zadosti/",
                        data={"csrf_token": token_of(page), "code": pyotp.TOTP(secret).now()})
    assert right.headers["Location"] == "/sprava/zadosti/"
    assert client.get("/sprava/zadosti/").status_code == 200


def test_a_recovery_code_stands_in_for_the_app_once(app, person):
    user = person(StaffRole.ADMIN)
    secret = second_factor.pending_secret(user)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())

    first = app.test_client()
    password_step(first, user.email, PASSWORD)
    page = first.get("/sprava/overeni")
    used = first.post("/sprava/overeni", data={"csrf_token": token_of(page), "code": codes[3].upper()})
    assert used.status_code == 302 and path_of(used) == "/sprava/"
    assert "Zbývajících záložních kódů: 9." in first.get("/sprava/").get_data(as_text=True)

    second = app.test_client()
    password_step(second, user.email, PASSWORD)
    page = second.get("/sprava/overeni")
    again = second.post("/sprava/overeni", data={"csrf_token": token_of(page), "code": codes[3]})
    assert again.status_code == 422 and field_error(again)
    other = second.post("/sprava/overeni", data={"csrf_token": token_of(page), "code": codes[4].replace("-", "")})
    assert other.status_code == 302
    assert audit_actions(user) == ["second_factor.enabled", "second_factor.recovery_code_used",
                                   "second_factor.recovery_code_used"]


def test_an_organiser_without_the_app_logs_in_with_the_password_as_before(client, person):
    user = person(StaffRole.ORGANISER)
    response = password_step(client, user.email, PASSWORD)
    assert response.headers["Location"] == "/sprava/"
    assert client.get("/sprava/").status_code == 200
    account = client.get("/sprava/ucet/dvoufazove-overeni").get_data(as_text=True)
    assert "Dvoufázové ověření je vypnuté" in account


def test_an_organiser_switches_the_app_on_and_off_in_her_account(app, client, person):
    user = person(StaffRole.ORGANISER)
    log_in(client, user.email, PASSWORD)
    setup = client.get("/sprava/overeni/nastaveni")
    assert setup.status_code == 200
    db.session.rollback()
    secret = db.session.get(User, user.id).totp_secret
    # Each code is taken once, so the three steps below use the codes of three steps in a row.
    totp = pyotp.TOTP(secret)
    codes = codes_on(client.post("/sprava/overeni/nastaveni",
                                 data={"csrf_token": token_of(setup), "code": totp.at(time.time() - 30)}))
    assert len(codes) == 10

    # From now on her login asks for the code too.
    other = app.test_client()
    assert path_of(password_step(other, user.email, PASSWORD)) == "/sprava/overeni"

    # New recovery codes replace the old ones (with a current code only).
    account = client.get("/sprava/ucet/dvoufazove-overeni")
    refused = client.post("/sprava/ucet/dvoufazove-overeni/nove-kody",
                          data={"kody-csrf_token": token_of(account), "kody-code": "000000"})
    assert refused.status_code == 422 and field_error(refused, "kody-code")
    renewed = codes_on(client.post("/sprava/ucet/dvoufazove-overeni/nove-kody",
                                   data={"kody-csrf_token": token_of(account), "kody-code": totp.now()}))
    assert len(renewed) == 10 and not set(renewed) & set(codes)
    with pytest.raises(second_factor.SecondFactorError):
        second_factor.verify(db.session.get(User, user.id), codes[0])

    off = client.post("/sprava/ucet/dvoufazove-overeni/vypnout",
                      data={"vypnout-csrf_token": token_of(account), "vypnout-code": totp.at(time.time() + 30)})
    assert path_of(off) == "/sprava/ucet/dvoufazove-overeni"
    assert client.get("/sprava/").status_code == 200  # her session goes on
    assert password_step(app.test_client(), user.email, PASSWORD).headers["Location"] == "/sprava/"
    assert audit_actions(user) == ["second_factor.enabled", "second_factor.recovery_codes_renewed",
                                   "second_factor.disabled"]


def test_an_administrator_who_lost_her_phone_moves_to_a_new_one_with_a_recovery_code(app, client, person):
    user = person(StaffRole.ADMIN)
    secret = second_factor.pending_secret(user)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    log_in(client, user.email, PASSWORD)
    account = client.get("/sprava/ucet/dvoufazove-overeni")
    assert "Nastavit aplikaci znovu" in account.get_data(as_text=True)
    wrong = client.post("/sprava/ucet/dvoufazove-overeni/vypnout",
                        data={"vypnout-csrf_token": token_of(account), "vypnout-code": "abcde-fghij"})
    assert wrong.status_code == 422 and field_error(wrong, "vypnout-code")

    moved = client.post("/sprava/ucet/dvoufazove-overeni/vypnout",
                        data={"vypnout-csrf_token": token_of(account), "vypnout-code": codes[0]})
    assert path_of(moved) == "/sprava/overeni/nastaveni"
    setup = client.get("/sprava/overeni/nastaveni")
    assert "Bez něj se příště nepřihlásíte." in setup.get_data(as_text=True)
    db.session.rollback()
    new_secret = db.session.get(User, user.id).totp_secret
    assert new_secret != secret
    # Until the new phone is set up, a login gets no further than the setup.
    assert path_of(password_step(app.test_client(), user.email, PASSWORD)) == "/sprava/overeni/nastaveni"

    done = client.post("/sprava/overeni/nastaveni",
                       data={"csrf_token": token_of(setup), "code": pyotp.TOTP(new_secret).now()})
    assert len(codes_on(done)) == 10
    assert audit_actions(user) == ["second_factor.enabled", "second_factor.recovery_code_used",
                                   "second_factor.reset", "second_factor.enabled"]


def test_wrong_codes_are_limited_per_account(app, person):
    limiter.reset()  # wrong codes of earlier tests' users, whose id SQLite may hand on to this one
    user = person(StaffRole.ADMIN)
    secret = enrol_second_factor(user)
    client = app.test_client()
    password_step(client, user.email, PASSWORD)
    token = token_of(client.get("/sprava/overeni"))
    statuses = [client.post("/sprava/overeni", data={"csrf_token": token, "code": "000000"}).status_code
                for _ in range(10)]
    assert statuses == [422] * 10
    # From another browser (another address would do the same): the account is the key.
    other = app.test_client()
    password_step(other, user.email, PASSWORD)
    token = token_of(other.get("/sprava/overeni"))
    try:
        assert other.post("/sprava/overeni",
                          data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}).status_code == 429
    finally:
        limiter.reset()  # SQLite hands a deleted user's id to the next one


def test_the_code_page_without_a_half_finished_login_sends_to_the_login(client):
    assert path_of(client.get("/sprava/overeni")) == "/sprava/prihlaseni"
    assert path_of(client.get("/sprava/overeni/nastaveni")) == "/sprava/prihlaseni"
    assert path_of(client.get("/sprava/ucet/dvoufazove-overeni")) == "/sprava/prihlaseni"


def test_an_app_code_lets_in_once_and_the_next_one_lets_in_again(app, person):
    """RFC 6238 §5.2: a code seen over a shoulder, or given twice, does not open a second login."""
    user = person(StaffRole.COORDINATOR)
    secret = enrol_second_factor(user)
    code = pyotp.TOTP(secret).now()

    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        password_step(browser, user.email, PASSWORD)
    used = first.post("/sprava/overeni", data={"csrf_token": token_of(first.get("/sprava/overeni")), "code": code})
    assert path_of(used) == "/sprava/"
    again = second.post("/sprava/overeni", data={"csrf_token": token_of(second.get("/sprava/overeni")), "code": code})
    assert again.status_code == 422
    assert field_error(again) == "Kód nesouhlasí. Zadejte aktuální kód z aplikace nebo jeden ze záložních kódů."
    assert second.get("/sprava/").status_code == 302

    db.session.rollback()
    user = db.session.get(User, user.id)
    # The code before it (still within the clock drift allowed) is older than the one used: refused too.
    with pytest.raises(second_factor.SecondFactorError):
        second_factor.verify(user, pyotp.TOTP(secret).at(time.time() - 30))
    # Half a minute later the app shows the next code, and it lets in.
    assert second_factor.verify(user, pyotp.TOTP(secret).at(time.time() + 30)) == "totp"
    with pytest.raises(second_factor.SecondFactorError):
        second_factor.verify(user, pyotp.TOTP(secret).at(time.time() + 30))


def test_a_code_claimed_by_another_login_meanwhile_is_refused(app, person):
    """Another login (another connection) took this step between this one's password and its
    code: the UPDATE that claims the step decides, so this one is refused."""
    user = person(StaffRole.ADMIN)
    secret = enrol_second_factor(user)
    step = pyotp.TOTP(secret).timecode(time.time())
    with db.engine.begin() as other_login:
        other_login.execute(User.__table__.update().where(User.__table__.c.id == user.id)
                            .values(totp_last_step=step))
    with pytest.raises(second_factor.SecondFactorError):
        second_factor.verify(user, pyotp.TOTP(secret).at(step * 30))


def test_an_administrator_resets_the_app_of_someone_who_lost_phone_and_codes(app, client, person):
    admin = person(StaffRole.ADMIN, "spravce.2fa@example.cz")
    user = person(StaffRole.COORDINATOR)
    log_in(client, user.email, PASSWORD)
    assert client.get("/sprava/").status_code == 200

    second_factor.reset_by_administrator(db.session.get(User, user.id), actor=admin)

    db.session.rollback()
    stored = db.session.get(User, user.id)
    assert stored.totp_secret is None and stored.totp_confirmed_at is None and stored.totp_last_step is None
    assert second_factor.unused_recovery_codes(stored) == 0
    # A browser (or a stolen phone) that was signed in is out.
    assert path_of(client.get("/sprava/")) == "/sprava/prihlaseni"
    # Her next login leads to the setup, and nothing else opens until it is done.
    again = app.test_client()
    assert path_of(password_step(again, user.email, PASSWORD)) == "/sprava/overeni/nastaveni"
    assert path_of(again.get("/sprava/zadosti/")) == "/sprava/prihlaseni"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "second_factor.reset_by_administrator", AuditEntry.object_id == user.id)).one()
    assert entry.actor_id == admin.id


def test_the_reset_from_the_command_line(app, person):
    user = person(StaffRole.ORGANISER)
    enrol_second_factor(user)
    browser = app.test_client()
    assert path_of(password_step(browser, user.email, PASSWORD)) == "/sprava/overeni"
    browser.post("/sprava/overeni", data={"csrf_token": token_of(browser.get("/sprava/overeni")),
                                          "code": fresh_app_code(user.id, user.totp_secret)})
    assert browser.get("/sprava/").status_code == 200

    result = app.test_cli_runner().invoke(args=["users", "reset-second-factor", user.email])
    assert result.exit_code == 0, result.output
    assert f"Účet {user.email}: ověřovací aplikace a záložní kódy jsou zrušené" in result.output
    assert path_of(browser.get("/sprava/")) == "/sprava/prihlaseni"
    db.session.rollback()
    assert not second_factor.enrolled(db.session.get(User, user.id))
    # An organiser may go on without the app, as before she switched it on.
    assert path_of(password_step(app.test_client(), user.email, PASSWORD)) == "/sprava/"
    assert audit_actions(user)[-1] == "second_factor.reset_by_administrator"

    unknown = app.test_cli_runner().invoke(args=["users", "reset-second-factor", "nikdo@example.cz"])
    assert unknown.exit_code == 1 and "Uživatel nikdo@example.cz neexistuje." in unknown.output


def at_once(browsers, post):
    """`post(browser)` from every browser at the same moment, one thread each (each request has
    its own database connection); returns the answers in the browsers' order."""
    start = threading.Barrier(len(browsers))
    answers = [None] * len(browsers)

    def one(i, browser):
        start.wait()
        answers[i] = post(browser)

    threads = [threading.Thread(target=one, args=(i, b)) for i, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def waiting_for_the_code(app, user, count):
    """`count` browsers past the password of `user`, each holding the code page's form token."""
    browsers = []
    for _ in range(count):
        browser = app.test_client()
        assert path_of(password_step(browser, user.email, PASSWORD)) == "/sprava/overeni"
        browser.token = token_of(browser.get("/sprava/overeni"))
        browsers.append(browser)
    return browsers


def signed_in_sessions(user) -> int:
    db.session.rollback()
    return len(db.session.scalars(select(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.second_factor_at.is_not(None))).all())


@pytest.mark.parametrize("kind", ["recovery", "app"])
def test_one_code_given_in_eight_browsers_at_once_lets_exactly_one_in(app, person, kind):
    """A recovery code (or an app code) copied by someone who also has the password, typed in
    eight browsers at the same moment: one login, seven refusals, the code spent once."""
    limiter.reset()  # the seven refusals count against the account's wrong codes
    user = person(StaffRole.ADMIN)
    user.password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")  # eight logins, quickly
    db.session.commit()
    secret = second_factor.pending_secret(user)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).at(time.time() - 30))
    code = codes[0] if kind == "recovery" else pyotp.TOTP(secret).now()
    browsers = waiting_for_the_code(app, user, 8)

    try:
        answers = at_once(browsers, lambda b: b.post("/sprava/overeni", data={"csrf_token": b.token, "code": code}))
    finally:
        limiter.reset()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [302] + [422] * 7, statuses
    assert all(field_error(a) == second_factor.WRONG_CODE for a in answers if a.status_code == 422)
    assert sum(b.get("/sprava/").status_code == 200 for b in browsers) == 1
    assert signed_in_sessions(user) == 1
    if kind == "recovery":
        assert second_factor.unused_recovery_codes(db.session.get(User, user.id)) == 9
        assert audit_actions(user) == ["second_factor.enabled", "second_factor.recovery_code_used"]


def test_a_spent_recovery_code_is_refused_again_and_another_accounts_code_never_fits(app, person):
    """An outsider holding the password tries a code seen on someone's paper after it was used,
    and a code of another person's account: both are wrong codes, and neither is spent."""
    admin, coordinator = person(StaffRole.ADMIN), person(StaffRole.COORDINATOR)
    own = second_factor.confirm_enrolment(admin, pyotp.TOTP(second_factor.pending_secret(admin)).now())
    others = second_factor.confirm_enrolment(coordinator,
                                             pyotp.TOTP(second_factor.pending_secret(coordinator)).now())
    assert second_factor.verify(db.session.get(User, admin.id), own[0]) == "recovery"

    browser = app.test_client()
    password_step(browser, admin.email, PASSWORD)
    token = token_of(browser.get("/sprava/overeni"))
    for code in (own[0], others[1]):
        refused = browser.post("/sprava/overeni", data={"csrf_token": token, "code": code})
        assert refused.status_code == 422 and field_error(refused) == second_factor.WRONG_CODE
    assert browser.get("/sprava/").status_code == 302
    db.session.rollback()
    assert second_factor.unused_recovery_codes(db.session.get(User, admin.id)) == 9
    assert second_factor.unused_recovery_codes(db.session.get(User, coordinator.id)) == 10
    assert second_factor.verify(db.session.get(User, coordinator.id), others[1]) == "recovery"
