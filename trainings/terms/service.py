"""Scheduling rules: creating, changing and cancelling terms.

Every change runs under the term's lock (the same one registrations take), is
written to the audit trail, and tells the people it affects through the
outbox in the same transaction. Raising capacity or the per-ORP limit hands
the new seats to the waiting list at once.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from .. import audit, czech
from ..collation import person_key
from ..db_session import locked, transaction
from ..errors import ServiceError
from ..extensions import db
from ..mail.outbox import enqueue_once
from ..models import (
    InterestEntry,
    Offer,
    OfferKind,
    Orp,
    Region,
    Registration,
    RegistrationState,
    StaffRole,
    Term,
    TermForm,
    TermState,
    User,
    utcnow,
)
from ..places import MAX_ID
from ..registration.service import fill_free_seats, issue_link
from ..timefmt import PRAGUE, local, term_span
from . import notifications

# The most seats a term may have, for both term forms. Workshops are small groups; the
# prezenční listina (tagged PDF) costs about 12 ms per row, so 500 rows stay near 6 s, well inside
# the web worker's timeout, where 2 000 would not.
MAX_CAPACITY = 500
# Teaching hours of one term, for certificates and the yearly 24-hour duty.
MIN_HOURS, MAX_HOURS = 0.5, 200
HOURS_MESSAGE = "Rozsah musí být {} až {} hodin.".format(*(f"{h:g}".replace(".", ",") for h in (MIN_HOURS, MAX_HOURS)))
CAPACITY_MESSAGE = f"Zadejte číslo od 1 do {MAX_CAPACITY}."
# The columns' sizes (models.Term): a longer text is refused here, not cut by the database.
MAX_TEXT = {"venue": 300, "lecturer": 300, "online_url": 500}


class TermError(ServiceError):
    """A term that cannot be saved; `field` names the TermData field the message belongs to."""

    message = "Termín nelze uložit."


@dataclass
class TermData:
    offer_id: int
    starts_at: datetime
    ends_at: datetime
    form: TermForm
    capacity: int
    region_id: int | None = None
    venue: str | None = None
    online_url: str | None = None
    per_orp_limit: int | None = None
    registration_deadline: datetime | None = None
    lecturer: str | None = None
    hours: float | None = None
    public: bool = True
    restricted_region_id: int | None = None
    restricted_orp_id: int | None = None
    # The lecturer accounts linked to the term (ascending ids): only they take its attendance.
    # `lecturer` above is the text people read; it grants nothing.
    lecturer_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, term: Term) -> TermData:
        columns = {f.name: getattr(term, f.name) for f in fields(cls) if f.name != "lecturer_ids"}
        return cls(**columns, lecturer_ids=tuple(sorted(user.id for user in term.lecturers)))


# What a participant must hear about: when and where.
_NOTIFY_FIELDS = {"starts_at", "ends_at", "form", "venue", "region_id", "online_url"}


def check(data: TermData) -> None:
    """The rules a term must satisfy, with Czech messages for the form."""
    offer = db.session.get(Offer, data.offer_id)
    if offer is None or offer.kind != OfferKind.WORKSHOP:
        raise TermError("Vyberte workshop z nabídky.", "offer_id")
    if data.ends_at <= data.starts_at:
        raise TermError("Konec musí být po začátku.", "ends_at")
    if not 1 <= data.capacity <= MAX_CAPACITY:
        raise TermError(CAPACITY_MESSAGE, "capacity")
    if data.per_orp_limit is not None and not 1 <= data.per_orp_limit <= MAX_CAPACITY:
        raise TermError(CAPACITY_MESSAGE, "per_orp_limit")
    if data.hours is not None and not MIN_HOURS <= data.hours <= MAX_HOURS:
        raise TermError(HOURS_MESSAGE, "hours")
    for name, limit in MAX_TEXT.items():
        if len(getattr(data, name) or "") > limit:
            raise TermError(f"Nejvýše {czech.count_noun(limit, 'znak', 'znaky', 'znaků')}.", name)
    if data.form == TermForm.IN_PERSON and not (data.venue and data.region_id):
        raise TermError("U prezenčního termínu vyplňte místo a kraj konání.", "venue")
    if data.registration_deadline and data.registration_deadline > data.starts_at:
        raise TermError("Uzávěrka přihlášek musí být nejpozději na začátku termínu.", "registration_deadline")
    if data.restricted_orp_id is not None:
        orp = db.session.get(Orp, data.restricted_orp_id)
        if orp is None:
            raise TermError("Neznámá ORP.", "restricted_orp_id")
        if data.restricted_region_id not in (None, orp.region_id):
            raise TermError("Vybraná ORP nepatří do zvoleného kraje.", "restricted_orp_id")
    if data.restricted_region_id is not None and db.session.get(Region, data.restricted_region_id) is None:
        raise TermError("Neznámý kraj.", "restricted_region_id")


def in_czech_order(users) -> list[User]:
    """Staff by surname in Czech order (collation.person_key); the e-mail breaks a tie of names."""
    return sorted(users, key=lambda user: (person_key(user.name), user.email))


def lecturer_accounts() -> list[User]:
    """The accounts a term can be linked to: the active lecturers."""
    return in_czech_order(db.session.scalars(
        select(User).where(User.role == StaffRole.LECTURER, User.active.is_(True))))


def account_label(user: User) -> str:
    """A lecturer account as the form, the term page and the audit trail name it: the e-mail
    tells apart two people of one name."""
    return f"{user.name} ({user.email})"


def _linked_lecturers(ids, linked=()) -> list[User]:
    """The accounts `ids` name, to link to a term: active lecturer accounts, and any account the
    term has already (a deactivated one stays until the organiser unticks her)."""
    wanted = set(ids)
    if not wanted:
        return []
    kept = {user.id for user in linked}
    users = db.session.scalars(
        select(User).where(User.id.in_([i for i in wanted if 0 < i <= MAX_ID]))).all()
    if len(users) != len(wanted) or any(
            user.id not in kept and not (user.role == StaffRole.LECTURER and user.active) for user in users):
        raise TermError("Vyberte lektorské účty ze seznamu.", "lecturer_ids")
    return in_czech_order(users)


def _lecturers_text(users) -> str | None:
    """The linked accounts for the audit trail: as they were named then, even if renamed later."""
    return ", ".join(account_label(user) for user in in_czech_order(users)) or None


def _relink(term: Term, lecturers: list[User]) -> dict:
    """Link exactly these accounts to the term; the audit change ({} when none)."""
    if {user.id for user in lecturers} == {user.id for user in term.lecturers}:
        return {}
    change = {"lecturers": [_lecturers_text(term.lecturers), _lecturers_text(lecturers)]}
    term.lecturers = lecturers
    return change


def set_lecturer(term_id: int, user: User, teaches: bool, actor: User | None) -> bool:
    """Link one lecturer account to a term or take it off, as the term form does for all of
    them (the same accounts allowed, the same entry in the term's trail). False when nothing changed."""
    with transaction(), locked(Term, term_id) as term:
        if term.state == TermState.CANCELLED:
            raise TermError("Zrušený termín nelze upravovat.")
        ids = {linked.id for linked in term.lecturers}
        ids = ids | {user.id} if teaches else ids - {user.id}
        change = _relink(term, _linked_lecturers(ids, linked=term.lecturers))
        if change:
            audit.record("term.updated", term, actor, **change)
    return bool(change)


def create_term(data: TermData, actor: User | None, copied_from: int | None = None) -> Term:
    """`copied_from` names the term the organiser duplicated, for the audit trail."""
    check(data)
    with transaction():
        values = asdict(data)
        lecturers = _linked_lecturers(values.pop("lecturer_ids"))
        term = Term(**values, lecturers=lecturers)
        if not data.public:
            term.signup_token = secrets.token_urlsafe(24)
        db.session.add(term)
        db.session.flush()
        extra = {"copied_from": copied_from} if copied_from is not None else {}
        audit.record("term.created", term, actor, **values, lecturers=_lecturers_text(lecturers), **extra)
        if term.public:
            notify_interest_list(term)
    return term


def notify_interest_list(term: Term) -> int:
    """Tell everyone waiting for this workshop that a term is open: once per person and workshop."""
    entries = db.session.scalars(
        select(InterestEntry).where(InterestEntry.offer_id == term.offer_id, InterestEntry.notified_at.is_(None))
    ).all()
    sent = 0
    for entry in entries:
        key = f"interest:{entry.offer_id}:{entry.email_normalized}"
        if enqueue_once(key, lambda k, entry=entry: notifications.interest_term_opened(entry, term, k)):
            sent += 1
        entry.notified_at = utcnow()
    return sent


def _describe(term: Term, before: dict) -> list[str]:
    """Czech lines saying what changed, for the e-mail to participants."""
    lines = []
    if {"starts_at", "ends_at"} & before.keys():
        old_start = before.get("starts_at", term.starts_at)
        old_end = before.get("ends_at", term.ends_at)
        lines.append(f"Čas: {term_span(old_start, old_end)} → {term_span(term.starts_at, term.ends_at)}")
    if "form" in before:
        lines.append(f"Forma: {TermForm(before['form']).label} → {term.form.label}")
    if {"venue", "region_id"} & before.keys() and term.form == TermForm.IN_PERSON:
        lines.append(f"Místo: {term.venue}")
    if "online_url" in before and term.form == TermForm.ONLINE:
        lines.append("Odkaz na online setkání je nový (najdete jej níže).")
    return lines


def update_term(term_id: int, data: TermData, actor: User | None) -> list[Registration]:
    """Save the organiser's changes; returns who was promoted from the waiting list."""
    check(data)
    with transaction(), locked(Term, term_id) as term:
        if term.state == TermState.CANCELLED:
            raise TermError("Zrušený termín nelze upravovat.")
        new_values = asdict(data)
        lecturers = _linked_lecturers(new_values.pop("lecturer_ids"), linked=term.lecturers)
        diff = audit.changes(term, new_values)
        before = {name: getattr(term, name) for name in diff}
        for name in diff:
            setattr(term, name, new_values[name])
        diff.update(_relink(term, lecturers))
        if not diff:
            return []
        if not term.public and term.signup_token is None:
            term.signup_token = secrets.token_urlsafe(24)
        audit.record("term.updated", term, actor, **diff)
        notify = {k: v for k, v in before.items() if k in _NOTIFY_FIELDS}
        if notify:
            term.sequence += 1
            changes = _describe(term, notify)
            for registration in _active_registrations(term):
                notifications.term_changed(registration, issue_link(registration), changes)
        promoted = fill_free_seats(term)
        for registration in promoted:
            audit.record("registration.promoted", registration, actor, reason="term.updated")
    return promoted


class TermTookPlace(TermError):
    message = "Termín už proběhl, zrušit ho proto nelze: docházka a osvědčení z něj zůstávají platné."


class TermUnderway(TermTookPlace):
    message = ("Termín už začal, zrušit ho proto nelze: docházka z něj zůstává platná. "
               "Zprávu přihlášeným pošlete tlačítkem „Napsat potvrzeným účastníkům“.")


def cancel_refusal(term: Term) -> TermTookPlace | None:
    """Why the term can no longer be called off, or None while it can.

    Once it has started people are there and checked in; calling off the rest
    would void what they attended, the same as for a term that took place.
    """
    if term.has_ended:
        return TermTookPlace()
    if term.has_started:
        return TermUnderway()
    return None


def cancel_term(term_id: int, actor: User | None, reason: str | None = None) -> int:
    """Cancel a term and tell everyone on it; returns how many people were told."""
    with transaction(), locked(Term, term_id) as term:
        if term.state == TermState.CANCELLED:
            return 0
        refusal = cancel_refusal(term)
        if refusal:
            raise refusal
        term.state = TermState.CANCELLED
        term.cancelled_at = utcnow()
        term.sequence += 1
        audit.record("term.cancelled", term, actor, reason=reason)
        people = _active_registrations(term)
        for registration in people:
            notifications.term_cancelled(registration, issue_link(registration), reason)
    return len(people)


def _active_registrations(term: Term) -> list[Registration]:
    return db.session.scalars(
        select(Registration)
        .where(
            Registration.term_id == term.id,
            Registration.state.in_([RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]),
        )
        .order_by(Registration.id)
    ).all()


def duplicate_data(term: Term) -> TermData:
    """What a copy of the term starts with: the same facts, a week later.

    A week is the usual rhythm of a series; the organiser changes the dates in
    the form when it is not. The copy is not saved until she submits it.
    """
    def week_later(moment: datetime | None) -> datetime | None:
        # On the wall clock: 9:00 stays 9:00 when the week crosses a change of daylight saving time.
        if moment is None:
            return None
        return (local(moment).replace(tzinfo=None) + timedelta(days=7)).replace(tzinfo=PRAGUE).astimezone(timezone.utc)

    data = TermData.of(term)
    data.starts_at = week_later(data.starts_at)
    data.ends_at = week_later(data.ends_at)
    data.registration_deadline = week_later(data.registration_deadline)
    return data
