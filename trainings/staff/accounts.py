"""Staff accounts: creation, passwords, one-time links, authentication."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import render_template
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..mail.outbox import enqueue
from ..models import StaffRole, User, UserToken, utcnow
from ..urls import absolute_url

PASSWORD_LINK_LIFETIME = timedelta(days=3)
MIN_PASSWORD_LENGTH = 10
# Compared against when the e-mail is unknown, so a login takes as long
# whether the account exists or not.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
        raise AccountError(f"Heslo musí mít alespoň {MIN_PASSWORD_LENGTH} znaků.")
    user.password_hash = generate_password_hash(password)
    user.session_nonce = secrets.token_hex(16)  # every other session of this user ends


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


def send_password_link(user: User) -> None:
    """E-mail a one-time link to set a password (first login or a forgotten one)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserToken(user=user, token_hash=_hash(token), expires_at=utcnow() + PASSWORD_LINK_LIFETIME))
    context = {"user": user, "url": absolute_url("auth.set_password", token=token), "days": PASSWORD_LINK_LIFETIME.days}
    enqueue(
        kind="staff_password_link",
        recipient=user.email,
        subject="SPOD4 registrace: nastavení hesla",
        body_text=render_template("mail/staff_password_link.txt", **context),
        body_html=render_template("mail/staff_password_link.html", **context),
    )
    db.session.commit()


def user_for_password_token(token: str) -> UserToken | None:
    if not token or len(token) > 100:
        return None
    found = db.session.scalars(select(UserToken).where(UserToken.token_hash == _hash(token))).one_or_none()
    if found is None or found.used_at is not None or found.expires_at < utcnow() or not found.user.active:
        return None
    return found


def use_password_token(user_token: UserToken, password: str) -> User:
    set_password(user_token.user, password)
    user_token.used_at = utcnow()
    db.session.commit()
    return user_token.user


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the nonce, so changed passwords end old sessions."""
    user_id, _, nonce = (session_id or "").partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user
