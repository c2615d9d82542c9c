"""Staff accounts: creation, passwords, one-time links, authentication."""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

from babel.dates import format_timedelta
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import czech, tokens
from ..errors import ServiceError
from ..extensions import db
from ..mail import messages
from ..models import StaffRole, User, UserToken, utcnow
from ..urls import absolute_url
from . import sessions

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


class AccountError(ServiceError):
    """A staff account that cannot be created or a password that is refused."""

    message = "Účet nelze uložit."


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def create_user(email: str, name: str, role: StaffRole, password: str | None = None) -> User:
    email = email.strip().lower()
    if user_by_email(email) is not None:
        raise AccountError(f"Uživatel {email} už existuje.")
    user = User(email=email, name=name, role=role)
    if password:
        set_password(user, password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Heslo musí mít alespoň {czech.count_noun(MIN_PASSWORD_LENGTH, *czech.CHARACTERS)}.")
    user.password_hash = generate_password_hash(password)
    sessions.end_all(user)  # whoever held an old session (or a copy of its cookie) is out


def deactivate(user: User) -> None:
    """Take away a person's access: her sessions end now, and she can no longer log in."""
    user.active = False
    sessions.end_all(user)
    db.session.commit()


def authenticate(email: str, password: str) -> User | None:
    user = user_by_email(email or "")
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def send_password_link(user: User, lifetime: timedelta = PASSWORD_LINK_LIFETIME) -> None:
    """E-mail a one-time link to set a password (first login or a forgotten one)."""
    token = tokens.new()
    db.session.add(UserToken(user=user, token_hash=tokens.token_hash(token), expires_at=utcnow() + lifetime))
    messages.staff_password_link(user, absolute_url("auth.set_password", token=token),
                                 format_timedelta(lifetime, locale="cs"))
    db.session.commit()


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
    set_password(user_token.user, password)
    # This link and every other one still open for the person: one reset, one way in.
    db.session.execute(
        update(UserToken).where(UserToken.user_id == user_token.user_id, UserToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    db.session.commit()
    return user_token.user
