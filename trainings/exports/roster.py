"""The people on one term, as staff pages and exports list them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..collation import fold, person_key
from ..extensions import db
from ..models import EmployerType, Registration, RegistrationState

STATE_ORDER = {RegistrationState.CONFIRMED: 0, RegistrationState.WAITLISTED: 1, RegistrationState.CANCELLED: 2}


def _sort_key(registration: Registration):
    # The waiting list in its queue order, everyone else by surname, then first
    # names, in Czech order (collation.person_key says how a name is split).
    if registration.state == RegistrationState.WAITLISTED:
        within = (registration.queued_at, registration.id)
    else:
        within = (person_key(registration.name), registration.id)
    return STATE_ORDER[registration.state], within


def term_registrations(term_id: int, states=None, text: str = "") -> list[Registration]:
    """The term's registrations in one query, optionally narrowed by state and a search text.

    The text matches name, e-mail, ORP or the check-in code, without
    diacritics; it is filtered here rather than in SQL because neither
    database folds Czech diacritics without extensions, and a term has at
    most a few thousand rows.
    """
    stmt = (
        select(Registration)
        .options(joinedload(Registration.region), joinedload(Registration.orp))
        .where(Registration.term_id == term_id)
    )
    if states:
        stmt = stmt.where(Registration.state.in_(list(states)))
    return sorted(search(db.session.scalars(stmt).all(), text), key=_sort_key)


def search(registrations, text: str) -> list[Registration]:
    """Those whose name, e-mail, ORP or check-in code contain every word of `text`."""
    words = fold(text).split()
    if not words:
        return list(registrations)
    return [
        r for r in registrations
        if all(
            word in fold(" ".join(filter(None, [r.name, r.email, r.orp.name if r.orp else None, r.check_in_code])))
            for word in words
        )
    ]


def organisation(registration: Registration) -> str:
    """Where the person works, as the attendance sheet and exports print it: "OSPOD ORP Litomyšl"."""
    place = registration.orp.name if registration.orp else registration.region.name
    if registration.employer_type == EmployerType.OSPOD:
        if registration.orp is None:
            return f"OSPOD, {registration.region.name}"
        # Prague's districts play the ORP's role under their own name.
        prefix = "OSPOD" if registration.orp.code.startswith("PHA-") else "OSPOD ORP"
        return f"{prefix} {registration.orp.name}"
    if registration.employer_type == EmployerType.REGIONAL_OFFICE:
        return f"Krajský úřad, {registration.region.name}"
    return f"{registration.employer_type.label.capitalize()}, {place}"
