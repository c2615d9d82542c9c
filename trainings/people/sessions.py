"""Server-side staff sessions: the cookie holds only a random token of a StaffSession row.

Flask's session is a signed cookie, so anything it says stays true for every
copy of it until it expires. The row is what makes a session end for all
copies at once:

- logging out ends the row of this browser;
- a password change or deactivation ends every row of that person;
- a row unused for STAFF_IDLE_TIMEOUT, or older than PERMANENT_SESSION_LIFETIME,
  is ended the next time its cookie comes back;
- a row of someone who must give a second factor (an administrator, a
  coordinator, or anyone who switched TOTP on) counts as signed in only once
  `second_factor_at` is set; until then only the second-factor pages read it.

`last_seen_at` is written at most once a minute, so a busy page costs no write
per request; the idle timeout is therefore exact to within that minute.

Rows that ended or ran out more than ENDED_ROWS_KEPT ago are deleted by
`retention run` (delete_old): a month is enough to answer "was someone signed in
as me last week?", and beyond that they only record when people worked. Counts of
wrong passwords (accounts.py) as old go with them.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, session
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from .. import czech, tokens
from ..db_session import transaction
from ..extensions import db
from ..models import LoginFailures, StaffRole, StaffSession, User, utcnow

TOKEN_KEY = "staff_session"
TOUCH_EVERY = timedelta(minutes=1)
ENDED_ROWS_KEPT = timedelta(days=30)
# They read casework descriptions of children's cases (requests), so a password alone is not enough.
SECOND_FACTOR_ROLES = (StaffRole.ADMIN, StaffRole.COORDINATOR)


def second_factor_required(user: User) -> bool:
    """Whether this person must give a code after the password (set up or not yet)."""
    return user.role in SECOND_FACTOR_ROLES or user.totp_confirmed_at is not None


def is_complete(row: StaffSession) -> bool:
    return row.second_factor_at is not None or not second_factor_required(row.user)


def start(user: User) -> StaffSession:
    """A new session row for this browser; its token goes into Flask's session only."""
    token = tokens.new()
    with transaction():  # as in pass_second_factor: logins at once must not fail on SQLite's lock
        row = StaffSession(user=user, token_hash=tokens.token_hash(token))
        db.session.add(row)
    session.clear()  # nothing of an earlier visitor's session survives a login
    session.permanent = True  # the cookie itself expires after PERMANENT_SESSION_LIFETIME too
    session[TOKEN_KEY] = token
    g.staff_session = row
    return row


def _write(statement) -> bool:
    """Run a small UPDATE in its own short write transaction, unless the request already
    holds unflushed changes (then it waits for the next request rather than commit them)."""
    if db.session.new or db.session.dirty or db.session.deleted:
        return False
    with transaction():
        db.session.execute(statement)
    return True


def _is_over(row: StaffSession, now) -> bool:
    config = current_app.config
    return (
        row.ended_at is not None
        or not row.user.active
        or now - row.created_at > config["PERMANENT_SESSION_LIFETIME"]
        or now - row.last_seen_at > config["STAFF_IDLE_TIMEOUT"]
    )


def current() -> StaffSession | None:
    """The live session row of this request's cookie, signed in or still waiting for the
    second factor; None when there is none or it has ended (it is ended here if it ran out)."""
    if "staff_session" in g:
        return g.staff_session
    token = session.get(TOKEN_KEY)
    # One query for the row and its user: this runs on every staff request.
    row = tokens.find(select(StaffSession).options(joinedload(StaffSession.user)), StaffSession.token_hash, token)
    if row is not None:
        now = utcnow()
        row_id = row.id
        if _is_over(row, now):
            if row.ended_at is None:
                # Ran out rather than logged out: the login page says why (login_message).
                g.staff_session_ran_out = row.user.active
                _write(update(StaffSession).where(StaffSession.id == row_id).values(ended_at=now))
            row = None
        elif now - row.last_seen_at >= TOUCH_EVERY:
            _write(update(StaffSession).where(StaffSession.id == row_id).values(last_seen_at=now))
            row = db.session.get(StaffSession, row_id)
    g.staff_session = row
    return row


def login_message(message: str) -> str:
    """What the login page says to someone sent there: why, when her session ran out."""
    if not g.get("staff_session_ran_out"):
        return message
    minutes = round(current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds() / 60)
    return ("Přihlášení skončilo, protože se správa delší dobu nepoužívala (ukončuje se po "
            f"{czech.count_noun(minutes, 'minutě', 'minutách', 'minutách')} nečinnosti). Přihlaste se prosím znovu.")


def signed_in() -> StaffSession | None:
    row = current()
    return row if row is not None and is_complete(row) else None


def pending() -> StaffSession | None:
    """A session past the password that still owes the second factor."""
    row = current()
    return row if row is not None and not is_complete(row) else None


def pass_second_factor(row: StaffSession) -> None:
    # A fresh write transaction, not a change to the loaded row: on SQLite a read transaction
    # that turns into a write fails ("database is locked") while the other logins racing for
    # the same code hold the write lock.
    row_id = row.id
    with transaction():
        db.session.execute(update(StaffSession).where(StaffSession.id == row_id).values(second_factor_at=utcnow()))


def end(row: StaffSession | None) -> None:
    if row is not None and row.ended_at is None:
        with transaction():
            row.ended_at = utcnow()
    g.staff_session = None


def end_all(user: User) -> None:
    """End every session of this person, in the caller's transaction."""
    if user.id is None:
        return  # not saved yet, so no sessions
    db.session.execute(
        update(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader. Flask-Login keeps the user's id in the cookie; the session row
    named by the token beside it decides whether that cookie still counts."""
    row = signed_in()
    if row is None or str(row.user_id) != (user_id or "").partition(":")[0]:
        return None
    return row.user


def delete_old(now=None) -> int:
    """Delete rows that ended, or ran out (too old, or idle too long), more than
    ENDED_ROWS_KEPT ago, in the caller's transaction; returns how many."""
    config = current_app.config
    cutoff = (now or utcnow()) - ENDED_ROWS_KEPT
    # A count of wrong passwords (accounts.py) matters for a quarter of an hour, but its row
    # stays until the same address is typed again: one never typed again goes here.
    db.session.execute(delete(LoginFailures).where(LoginFailures.window_started_at < cutoff))
    # A row nobody came back to keeps ended_at empty; its end is when it ran out.
    return db.session.execute(delete(StaffSession).where(or_(
        StaffSession.ended_at < cutoff,
        StaffSession.created_at < cutoff - config["PERMANENT_SESSION_LIFETIME"],
        StaffSession.last_seen_at < cutoff - config["STAFF_IDLE_TIMEOUT"],
    ))).rowcount
