"""Staff accounts: creation, passwords, one-time links, authentication.

Wrong passwords are counted per e-mail address typed at the login, whichever client
addresses they come from (the per-address limit RATELIMIT_LOGIN is on top): organisers and
lecturers have only a password, and a guesser with many addresses would otherwise have as
many tries as addresses. After LOGIN_ATTEMPTS in LOGIN_WINDOW no password is checked for
that address until the window ends; the right one gets the same refusal as a wrong one.
Addresses without an account are counted alike, so the refusal does not tell which exist.
A new password from an e-mailed link lifts the lock: the guesses were at the old one.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import datetime, timedelta

from babel.dates import format_time, format_timedelta
from flask import current_app
from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from .. import czech, tokens
from ..audit import record
from ..db_session import transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import LoginFailures, StaffRole, User, UserToken, utcnow
from ..timefmt import LOCALE, local
from ..urls import absolute_url
from . import notifications, sessions

# A first password: the link may wait in the inbox over a weekend. A forgotten one: the
# person asked a minute ago, and a reset link lying in a mailbox for days is a way in.
PASSWORD_LINK_LIFETIME = timedelta(days=3)
PASSWORD_RESET_LIFETIME = timedelta(hours=2)
# Reset e-mails per account and hour, whoever asks: the form is open to anyone, and an
# address must not be flooded with them (the per-address rate limit is on top of this).
RESETS_PER_HOUR = 3
MIN_PASSWORD_LENGTH = 10
# Compared against when the e-mail is unknown, so a login takes as long
# whether the account exists or not.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))
# Wrong passwords for one e-mail address, from anywhere, before the login stops checking them.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = timedelta(minutes=15)
MINUTES = ("minutu", "minuty", "minut")  # after "za": "za 1 minutu", "za 3 minuty", "za 15 minut"


class AccountError(ServiceError):
    """A staff account that cannot be created or a password that is refused."""

    message = "Účet nelze uložit."


class LoginLocked(ServiceError):
    """Too many wrong passwords for this e-mail address: none is checked until `until`."""

    def __init__(self, until: datetime):
        self.until = until
        self.retry_after = max(1, math.ceil((until - utcnow()).total_seconds()))
        # The clock time rounded up, so that a login at the minute shown is let through.
        shown = local(until + timedelta(seconds=59)).replace(second=0, microsecond=0)
        minutes = czech.count_noun(math.ceil(self.retry_after / 60), *MINUTES)
        super().__init__(
            "S touto e-mailovou adresou bylo v krátké době zadáno příliš mnoho nesprávných hesel. "
            f"Přihlášení bude znovu možné za {minutes} (od {format_time(shown, 'H:mm', locale=LOCALE)}). "
            "Pokud heslo neznáte, nastavte si nové na stránce Zapomenuté heslo."
        )


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def create_user(email: str, name: str, role: StaffRole, password: str | None = None) -> User:
    email = email.strip().lower()
    if user_by_email(email) is not None:
        raise AccountError(f"Uživatel {email} už existuje.")
    with transaction():
        user = User(email=email, name=name, role=role)
        if password:
            set_password(user, password)
        db.session.add(user)
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Heslo musí mít alespoň {czech.count_noun(MIN_PASSWORD_LENGTH, *czech.CHARACTERS)}.")
    user.password_hash = generate_password_hash(password)
    sessions.end_all(user)  # whoever held an old session (or a copy of its cookie) is out
    _lift_lock(user.email)  # the guesses were at the old password


def deactivate(user: User, actor: User | None = None) -> None:
    """Take away a person's access: her sessions end now, and she can no longer log in."""
    with transaction():
        user.active = False
        sessions.end_all(user)
        record("user.deactivated", user, actor)


def reactivate(user: User, actor: User | None = None) -> None:
    """Give a deactivated person her access back, with the password she had (if any)."""
    with transaction():
        user.active = True
        record("user.reactivated", user, actor)


def authenticate(email: str, password: str) -> User | None:
    """The person whose e-mail and password these are, or None: the same for a wrong password
    and an address without an account. Raises LoginLocked, without looking at the password,
    for an address past LOGIN_ATTEMPTS."""
    key = _email_hash(email or "")
    window_started_at, attempt = _count_attempt(key)
    user = user_by_email(email or "")
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        user = None
    elif check_password_hash(user.password_hash, password or ""):
        _give_attempt_back(key, window_started_at, user.id)
        return user
    if attempt == LOGIN_ATTEMPTS:
        _note_lock(user, window_started_at + LOGIN_WINDOW)
    return None


def _email_hash(email: str) -> str:
    """The address as user_by_email looks it up, hashed: every spelling that finds an account counts for it."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _count_attempt(key: str) -> tuple[datetime, int]:
    """Count this attempt before its password is checked: (start of its window, its number).

    One conditional upsert, so that guesses sent at once are checked no more than
    LOGIN_ATTEMPTS times: the row lock (PostgreSQL) or the write lock (SQLite) orders them,
    and past the limit the statement changes nothing and returns no row."""
    now = utcnow()
    started = LoginFailures.window_started_at
    window_over = started <= now - LOGIN_WINDOW
    insert = (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(LoginFailures)
    statement = insert.values(email_hash=key, window_started_at=now, attempts=1).on_conflict_do_update(
        index_elements=[LoginFailures.email_hash],
        set_={
            "attempts": case((window_over, 1), else_=LoginFailures.attempts + 1),
            "window_started_at": case((window_over, literal(now, started.type)), else_=started),
        },
        where=or_(window_over, LoginFailures.attempts < LOGIN_ATTEMPTS),
    ).returning(started, LoginFailures.attempts)
    with transaction():  # LoginLocked rolls it back: past the limit nothing was counted
        counted = db.session.execute(statement).first()
        if counted is None:
            until = db.session.scalar(select(started).where(LoginFailures.email_hash == key)) + LOGIN_WINDOW
            raise LoginLocked(until)
    return counted.window_started_at, counted.attempts


def _give_attempt_back(key: str, window_started_at: datetime, user_id: int) -> None:
    """A right password is no guess: its attempt is taken off the count (unless its window
    has been replaced by a new one meanwhile), and the login is noted on the person."""
    with transaction():
        db.session.execute(update(LoginFailures).where(
            LoginFailures.email_hash == key, LoginFailures.window_started_at == window_started_at,
            LoginFailures.attempts > 0).values(attempts=LoginFailures.attempts - 1))
        db.session.execute(update(User).where(User.id == user_id).values(last_login_at=utcnow()))


def _note_lock(user: User | None, until: datetime) -> None:
    """The guess that used up the last attempt: in the person's audit trail when the address
    has an account, and in the log either way."""
    whose = "an address without an account"
    if user is not None:
        with transaction():
            record("login.locked", user, attempts=LOGIN_ATTEMPTS, until=until)
        whose = f"user {user.id}"
    current_app.logger.warning("staff login: %d wrong passwords for %s within %d minutes; no password is checked "
                               "for it until %s", LOGIN_ATTEMPTS, whose, LOGIN_WINDOW.total_seconds() // 60,
                               until.isoformat())


def _lift_lock(email: str) -> None:
    """In the caller's transaction: the guesses counted against this address are forgotten."""
    db.session.execute(delete(LoginFailures).where(LoginFailures.email_hash == _email_hash(email)))


def send_password_link(user: User, lifetime: timedelta = PASSWORD_LINK_LIFETIME) -> None:
    """E-mail a one-time link to set a password (first login or a forgotten one)."""
    token = tokens.new()
    with transaction():
        db.session.add(UserToken(user=user, token_hash=tokens.token_hash(token), expires_at=utcnow() + lifetime))
        notifications.staff_password_link(user, absolute_url("auth.set_password", token=token),
                                          format_timedelta(lifetime, locale="cs"))


def _resets_in_the_last_hour(user: User) -> int:
    """Reset links are the only ones made with PASSWORD_RESET_LIFETIME, so one made within
    the last hour expires between an hour and the full lifetime from now."""
    now = utcnow()
    return db.session.scalar(
        select(func.count()).select_from(UserToken).where(
            UserToken.user_id == user.id,
            UserToken.expires_at > now + PASSWORD_RESET_LIFETIME - timedelta(hours=1),
            UserToken.expires_at <= now + PASSWORD_RESET_LIFETIME,
        )
    )


def request_password_reset(email: str) -> None:
    """The forgotten-password form. Says nothing back: whether the address has an account
    must not show, so the caller answers the same in every case.

    Nor may the time show it: queueing the e-mail (a token, two templates, an outbox row)
    takes tens of milliseconds more than finding no account, which a script can tell
    apart. Every request is therefore padded to PASSWORD_RESET_MIN_SECONDS, well above
    what the e-mail path takes.
    """
    started = time.monotonic()
    user = user_by_email(email or "")
    if user is not None and user.active and _resets_in_the_last_hour(user) < RESETS_PER_HOUR:
        send_password_link(user, PASSWORD_RESET_LIFETIME)
    else:
        db.session.rollback()
    time.sleep(max(0.0, current_app.config["PASSWORD_RESET_MIN_SECONDS"] - (time.monotonic() - started)))


def user_for_password_token(token: str) -> UserToken | None:
    found = tokens.find(select(UserToken), UserToken.token_hash, token)
    if found is None or found.used_at is not None or found.expires_at < utcnow() or not found.user.active:
        return None
    return found


def use_password_token(user_token: UserToken, password: str) -> User:
    with transaction():
        set_password(user_token.user, password)
        # This link and every other one still open for the person: one reset, one way in.
        db.session.execute(
            update(UserToken).where(UserToken.user_id == user_token.user_id, UserToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
    return user_token.user
