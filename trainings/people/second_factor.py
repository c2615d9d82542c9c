"""The second factor: TOTP (RFC 6238: 6 digits, 30-second steps) and one-time recovery codes.

Administrators and coordinators must use it (sessions.SECOND_FACTOR_ROLES);
organisers and lecturers may switch it on in their account.

- Enrolment: a secret is made and kept unconfirmed on the user until the first
  code from the app proves the app has it; only then does it count, and ten
  recovery codes are made and shown once. Only their hashes are stored.
- A code is accepted one step either side of now (pyotp valid_window=1), for
  phones whose clock is off by up to 30 seconds.
- Reuse: every accepted app code (login, setup, new recovery codes, switching off)
  stores its time step in users.totp_last_step, and a code of that step or an
  earlier one is refused like a wrong one (RFC 6238 §5.2): a code seen over a
  shoulder or caught in transit cannot be given again. The step is claimed by a
  conditional UPDATE, so of two logins racing with one code only one passes. Code
  entry is rate-limited per address and per account (auth.py).
- A recovery code stands in for the app once and is then spent, by a conditional UPDATE
  like an app code's step: of logins racing with one code only one passes.
- Switching it off takes an app code or a recovery code; for administrators and
  coordinators it is the way to a new phone (the setup follows at once, and no
  login passes without it).
- Someone who lost her phone and her recovery codes is reset by an administrator
  (`flask users reset-second-factor`, reset_by_administrator): no app, no codes, no
  sessions; the next login leads to the setup again.
- Enabling, disabling (or resetting), using a recovery code and making new ones go
  into the audit trail of the user.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update

from .. import tokens
from ..audit import record
from ..db_session import OutsideTransaction, in_use_case, transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import RecoveryCode, User, utcnow
from . import sessions

ISSUER = "SPOD4 registrace"
RECOVERY_CODES = 10
# Letters and digits that cannot be mistaken for each other when typed from paper.
_ALPHABET = tokens.READABLE.lower()


class SecondFactorError(ServiceError):
    """A refused code or step; every second-factor form names its code field `code`."""

    field = "code"


WRONG_CODE = "Kód nesouhlasí. Zadejte aktuální kód z aplikace nebo jeden ze záložních kódů."
WRONG_APP_CODE = "Kód nesouhlasí. Zadejte aktuální šestimístný kód z aplikace."


def enrolled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def _normalise(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def pending_secret(user: User) -> str:
    """The secret to show on the enrolment page. Kept across reloads, so a QR code
    scanned a moment ago still matches after the page is opened again."""
    if enrolled(user):
        raise SecondFactorError("Dvoufázové ověření už je zapnuté.")
    if user.totp_secret is None:
        with transaction():
            user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def grouped(secret: str) -> str:
    """The secret in fours, as authenticator apps show and accept it: easier to copy by hand,
    and it wraps on a narrow phone screen."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// address as an inline SVG (no image file, no script: the CSP allows it)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, title="QR kód pro ověřovací aplikaci")


def _matched_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (one either side of now, valid_window=1) whose code this is, or None."""
    code = _normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time() if at is None else at)
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_app_code(user: User, code: str) -> bool:
    """Accept an app code once: claim its step in the caller's use case (its transaction commits
    the claim). False for a wrong code and for one whose step (or a later one) was used already.

    The claim is a conditional UPDATE rather than read-then-write, so of two requests with
    the same code the second waits for the first's row lock (PostgreSQL) or write lock
    (SQLite, BEGIN IMMEDIATE) and then matches no row."""
    step = _matched_step(user.totp_secret, code) if user.totp_secret else None
    if step is None:
        return False
    _refuse_outside_transaction()
    return db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
    ).rowcount == 1


def _refuse_outside_transaction() -> None:
    # A claim outside a use case would be committed by whatever commit came next, or never.
    if not in_use_case():
        raise OutsideTransaction("a second-factor code is claimed inside its use case's transaction")


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Switch TOTP on with the first code from the app; returns the recovery codes to show once."""
    if enrolled(user):
        raise SecondFactorError("Dvoufázové ověření už je zapnuté.")
    with transaction():
        if not _use_app_code(user, code):
            raise SecondFactorError(WRONG_APP_CODE)
        user.totp_confirmed_at = utcnow()
        codes = _new_recovery_codes(user)
        record("second_factor.enabled", user, actor=user)
    return codes


def verify(user: User, code: str) -> str:
    """Check a code given at login: "totp", or "recovery" (that code is spent now).
    Raises SecondFactorError with the message for the field."""
    if not enrolled(user):
        raise SecondFactorError("Dvoufázové ověření není zapnuté.")
    with transaction():
        if _use_app_code(user, code):
            return "totp"
        if _use_recovery_code(user, code):
            record("second_factor.recovery_code_used", user, actor=user, left=unused_recovery_codes(user))
            return "recovery"
    raise SecondFactorError(WRONG_CODE)


def _use_recovery_code(user: User, code: str) -> bool:
    """Spend a recovery code of this person, in the caller's use case (its transaction commits
    the spending). False for a wrong code, another person's, and one spent already.

    Spent by one conditional UPDATE, as app codes are claimed: of several logins giving the
    same code at once, the others wait for the first one's row lock and then match no row."""
    normalised = _normalise(code)
    if len(normalised) != 10:
        return False
    _refuse_outside_transaction()
    return db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(normalised),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount > 0


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New codes replace all old ones; asks for a current app code, so a session left
    open on someone's desk cannot print itself a way in."""
    if not enrolled(user):
        raise SecondFactorError(WRONG_APP_CODE)
    with transaction():
        if not _use_app_code(user, code):
            raise SecondFactorError(WRONG_APP_CODE)
        codes = _new_recovery_codes(user)
        record("second_factor.recovery_codes_renewed", user, actor=user)
    return codes


def disable(user: User, code: str) -> bool:
    """Switch TOTP off, with a current app code or a recovery code (the phone may be lost).

    For the roles that must have it this is the move to a new phone: their next step is
    the setup again, and their next login cannot pass without it (returns True then).
    """
    with transaction():  # the code spent and the app forgotten together, or neither
        verify(user, code)  # a recovery code is spent and audited there
        _forget_app(user)
        required = user.role in sessions.SECOND_FACTOR_ROLES
        record("second_factor.reset" if required else "second_factor.disabled", user, actor=user)
    return required


def _forget_app(user: User) -> None:
    user.totp_secret = None
    user.totp_confirmed_at = None
    # A new secret starts its steps afresh; an old step would refuse nothing useful.
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset_by_administrator(user: User, actor: User | None = None) -> None:
    """For someone who lost her phone and her recovery codes, after her identity was checked
    outside the application: the app and the codes are forgotten and her sessions end (a
    stolen phone may sit in a logged-in browser). Her next login leads to the setup again;
    for an administrator or coordinator it cannot pass without it."""
    with transaction():
        _forget_app(user)
        sessions.end_all(user)
        record("second_factor.reset_by_administrator", user, actor=actor)
