"""Secret tokens of private links and staff sessions: made, stored and looked up one way.

A token is 32 random bytes, URL-safe; only its SHA-256 is stored (registration, person,
handover, feedback and request links, staff password links and sessions), so a copy of the
database opens nothing. A plain hash, no salt or slow hash: the token is random and long,
not a password, and the hash must be found by an index on every request.
"""
from __future__ import annotations

import hashlib
import secrets

from .extensions import db

# Longer input is no token of ours (43 characters): refused before it reaches the database.
MAX_LENGTH = 100

# Codes people read from paper or a screen and type (check-in, osvědčení, recovery codes):
# no 0/O, 1/I/L.
READABLE = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def readable_code(length: int) -> str:
    return "".join(secrets.choice(READABLE) for _ in range(length))


def new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible(token) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_LENGTH


def find(stmt, column, token):
    """The one row of `stmt` whose stored hash (`column`) is the token's, or None; a token
    that cannot be one (empty, overlong, not text) is refused without a query."""
    if not plausible(token):
        return None
    return db.session.scalars(stmt.where(column == token_hash(token))).one_or_none()
