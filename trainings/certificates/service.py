"""The verification code of an osvědčení and what the public page may say about it.

The number printed on the paper (SPOD4-<term>-<registration>) is readable but
guessable, so it verifies nothing by itself; the page is found by a random code
(Registration.certificate_code) that is printed beside it and encoded in the QR
code. The code is made once, when the certificate is first produced, and never
changes, so every printed copy keeps working.

The page answers one question, "is this osvědčení valid?", and says no more than
the paper already does, minus what identifies the holder beyond the paper's
reader: the workshop, its date and hours, and the holder as "J. Nováková". No
e-mail, workplace, ORP or employer. Validity is `rule.can_issue` (the one rule
for issuing it, which also refuses an anonymised registration): a cancelled
seat, a changed attendance or an erased person all read "not valid".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import czech, tokens
from ..collation import split_name
from ..db_session import transaction
from ..extensions import db
from ..models import Registration, Term
from ..timefmt import term_span
from ..urls import absolute_url
from .rule import can_issue

# People type the code from paper (tokens.READABLE). 31^12 ≈ 8·10^17 codes, so one
# cannot be found by trying, and a collision (caught by the unique index) is remote.
ALPHABET = tokens.READABLE
LENGTH = 12
ISSUE_BATCH = 500  # registrations per statement: a term has at most 500 seats
GROUP = 4
_CODE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")


def new_code() -> str:
    return tokens.readable_code(LENGTH)


def display_code(code: str) -> str:
    """ "ABCD-EFGH-JKMN": groups of four are easier to read out and type."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise_code(text: str | None) -> str | None:
    """A typed code as stored, or None if it cannot be one: case, spaces and dashes do not matter."""
    code = re.sub(r"[\s\-–]", "", text or "").upper()
    return code if _CODE.fullmatch(code) else None


def verification_url(code: str) -> str:
    return absolute_url("certificates.verify", code=code)


def issue_codes(registrations: list[Registration]) -> None:
    """Give every registration in the list a certificate code unless it has one: the one place codes are made.

    Called whenever an osvědčení is produced (one person's or a term's bulk
    file). The UPDATE only fills an empty code, so two downloads at the same
    moment cannot print two different codes: the later one keeps the first.
    Nothing happens (no write transaction) when all codes exist already.

    A constant number of statements for a whole term: one UPDATE per ISSUE_BATCH
    registrations (each its own code, by a CASE on the id), then one SELECT that
    reads the committed rows back into the objects the caller holds.
    """
    missing = [r.id for r in registrations if not r.certificate_code]
    if not missing:
        return
    ids = [r.id for r in registrations]  # read now: after the commit, reading an id loads its row
    for _attempt in range(3):
        try:
            with transaction():
                for start in range(0, len(missing), ISSUE_BATCH):
                    batch = missing[start:start + ISSUE_BATCH]
                    db.session.execute(
                        update(Registration)
                        .where(Registration.id.in_(batch), Registration.certificate_code.is_(None))
                        # Not a change of the registration by anyone: its updated_at stays.
                        .values(certificate_code=case({i: new_code() for i in batch}, value=Registration.id),
                                updated_at=Registration.updated_at)
                        .execution_options(synchronize_session=False)
                    )
            break
        except IntegrityError:  # two equal random codes: practically never, and a new draw (rolled back) fixes it
            continue
    else:
        raise RuntimeError("could not draw a unique certificate code")
    # The commit expired the objects; one query refreshes them all instead of one each on first read.
    for start in range(0, len(ids), ISSUE_BATCH):
        db.session.scalars(
            select(Registration)
            .options(joinedload(Registration.term).joinedload(Term.offer), joinedload(Registration.region),
                     joinedload(Registration.orp))
            .where(Registration.id.in_(ids[start:start + ISSUE_BATCH]))
        ).all()


class Status(str, Enum):
    VALID = "valid"
    NOT_VALID = "not_valid"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verification:
    status: Status
    code: str | None = None
    number: str | None = None
    workshop: str | None = None
    when: str | None = None
    hours: str | None = None
    holder: str | None = None


def holder_name(name: str) -> str:
    """ "Mgr. Jana Nováková, DiS." -> "J. Nováková": the first name's initial and the surname, no titles
    (collation.split_name's rule, the one that sorts people by surname)."""
    surname, first_names = split_name(name)
    initial = first_names[:1]
    return f"{initial}. {surname}" if initial else surname


def certificate_number(registration: Registration) -> str:
    """What the paper calls the osvědčení: readable, not secret (the code is the secret part)."""
    return f"SPOD4-{registration.term_id}-{registration.id}"


def verify(code: str | None) -> Verification:
    """What the public page says about a code."""
    code = normalise_code(code)
    registration = None
    if code:
        registration = db.session.scalars(
            select(Registration)
            .options(joinedload(Registration.term).joinedload(Term.offer))
            .where(Registration.certificate_code == code)
        ).one_or_none()
    if registration is None:
        return Verification(Status.UNKNOWN)
    if not can_issue(registration):
        # Neither the workshop nor the name: the paper no longer stands for a recorded attendance.
        return Verification(Status.NOT_VALID, code=code)
    term = registration.term
    return Verification(
        Status.VALID,
        code=code,
        number=certificate_number(registration),
        workshop=term.offer.title,
        when=term_span(term.starts_at, term.ends_at),
        hours=czech.hours(term.length_hours),
        holder=holder_name(registration.name),
    )
