"""Who may be given an osvědčení: the one rule every path asks (her own page, staff pages, the PDFs,
the public verification page, the feedback e-mail that links to it).

She was marked present on a term that took place and has ended, and she is still someone: an
anonymised or erased registration has nothing left to vouch for, and a paper printed for
"anonymizováno" would carry a code the public page calls not valid.
"""
from __future__ import annotations

from datetime import datetime

from ..models import Registration, RegistrationState, TermState, is_anonymised, utcnow


def can_issue(registration: Registration, now: datetime | None = None) -> bool:
    # Attendance can be marked from a day before the start, so "present" alone would let an
    # osvědčení for a whole workshop be printed during its first hour.
    return (
        registration.attended is True
        and registration.state == RegistrationState.CONFIRMED
        and registration.term.state == TermState.SCHEDULED
        and registration.term.ends_at <= (now or utcnow())
        and not is_anonymised(registration)
    )
