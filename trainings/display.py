"""How the back office shows the audit trail: Czech names for actions and fields,
and readable values. trainings/templating.py makes them template globals."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import AuditEntry, Offer, Orp, Region, Registration, RegistrationState, StaffRole, Term, TermForm
from .timefmt import date_time, term_span

ACTIONS = {
    "term.created": "termín vytvořen",
    "term.updated": "termín upraven",
    "term.cancelled": "termín zrušen",
    "term.message_sent": "zpráva účastníkům",
    "term.no_shows_marked": "hromadně zapsána neúčast",
    "term.feedback_sent": "osvědčení a dotazník poslány",
    "registration.added": "přidána v administraci",
    "registration.confirmed": "potvrzena z čekací listiny",
    "registration.promoted": "posunuta z čekací listiny",
    "registration.waitlisted": "přesunuta na čekací listinu",
    "registration.cancelled": "zrušena v administraci",
    "registration.note": "interní poznámka",
    "registration.attendance": "docházka",
    "registration.admitted": "potvrzena z čekací listiny u vstupu",
    "registration.switch_requested": "žádost o přesun na jiný termín (místo ponecháno)",
    "registration.switch_waiting": "čeká na místo při přesunu z jiného termínu",
    "registration.switch_withdrawn": "přesun na jiný termín odvolán",
    "registration.switched": "přesunuta na jiný termín",
    "registration.switched_in": "vznikla přesunem z jiného termínu",
    "registration.handover_offered": "místo nabídnuto k předání",
    "registration.handover_withdrawn": "nabídka předání místa odvolána",
    "registration.handed_over": "místo předáno",
    "registration.taken_over": "místo převzato předáním",
    "login.locked": "přihlášení zablokováno po nesprávných heslech",
    "second_factor.enabled": "dvoufázové ověření zapnuto",
    "second_factor.disabled": "dvoufázové ověření vypnuto",
    "second_factor.reset": "ověřovací aplikace zrušena kvůli nastavení nové",
    "second_factor.reset_by_administrator": "ověřovací aplikace a záložní kódy zrušeny správcem",
    "second_factor.recovery_code_used": "přihlášení záložním kódem",
    "second_factor.recovery_codes_renewed": "nové záložní kódy",
    "user.invited": "účet založen a pozvánka odeslána",
    "user.link_sent": "odeslán nový odkaz k nastavení hesla",
    "user.role_changed": "změna role",
    "user.region_assigned": "přidělen kraj",
    "user.region_removed": "kraj přidělen jiné koordinaci",
    "user.term_linked": "přidělen termín",
    "user.term_unlinked": "odebrán termín",
    "user.deactivated": "účet deaktivován",
    "user.reactivated": "účet znovu aktivován",
    "offer.created": "nabídka přidána",
    "offer.published": "zveřejněna nová verze",
    "offer.withdrawn": "stažena z nabídky",
    "offer.returned": "znovu zařazena do nabídky",
    "project_facts.published": "zveřejněna nová verze údajů o projektu",
}

FIELDS = {
    "offer_id": "workshop",
    "starts_at": "začátek",
    "ends_at": "konec",
    "form": "forma",
    "region_id": "kraj konání",
    "venue": "místo",
    "online_url": "odkaz online",
    "capacity": "kapacita",
    "per_orp_limit": "limit na ORP",
    "registration_deadline": "uzávěrka",
    "lecturer": "lektorské vedení",
    "lecturers": "lektorské účty s přístupem k docházce",
    "hours": "hodiny",
    "public": "veřejný",
    "restricted_region_id": "jen pro kraj",
    "restricted_orp_id": "jen pro ORP",
    "copied_from": "kopie termínu",
    "reason": "důvod",
    "state": "stav",
    "attended": "docházka",
    "internal_note": "poznámka",
    "over_capacity": "nad kapacitu",
    "position": "pořadí",
    "subject": "předmět",
    "recipients": "počet příjemců",
    "count": "počet",
    "to_term": "na termín",
    "from_term": "z termínu",
    "term": "termín",
    "to_registration": "nová přihláška č.",
    "from_registration": "původní přihláška č.",
    "registration": "přihláška č.",
    "to_name": "komu",
    "from_name": "od koho",
    "handover": "předání č.",
    "expires_at": "platí do",
    "name": "jméno",
    "role": "role",
    "attempts": "nesprávných hesel",
    "until": "blokováno do",
    "left": "zbývá záložních kódů",
    "requests_moved": "převzaté žádosti",
    "region": "kraj",
    "previous_coordinator": "dosavadní koordinace",
    "new_coordinator": "nová koordinace",
    "fields": "změněno",
    "title": "název",
}

_STATES = {s.value: s.label for s in RegistrationState}
_NAMED = {"offer_id": Offer, "region_id": Region, "restricted_region_id": Region, "restricted_orp_id": Orp}
_FORMS = {f.value: f.label for f in TermForm}


def _value(name: str, value) -> str:
    if value is None or value == "":
        return "nezapsáno" if name == "attended" else "—"
    if name == "attended":
        return "přítomnost" if value else "neúčast"
    if isinstance(value, bool):
        return "ano" if value else "ne"
    if name == "state":
        return _STATES.get(value, str(value))
    if name == "role":
        return StaffRole(value).label if value in StaffRole._value2member_map_ else str(value)
    if name == "form":
        return _FORMS.get(value, str(value))
    if name in ("term", "to_term", "from_term") and isinstance(value, int):
        term = db.session.get(Term, value)
        return term_span(term.starts_at, term.ends_at) if term else str(value)
    if name in _NAMED and isinstance(value, int):
        # A handful of kraje, ORP and workshops: the session's identity map keeps the look-ups cheap.
        obj = db.session.get(_NAMED[name], value)
        return getattr(obj, "title", None) or getattr(obj, "name", None) or str(value)
    if isinstance(value, str) and (name.endswith(("_at", "deadline")) or name == "until"):
        try:
            return date_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


def describe(entry: AuditEntry) -> list[str]:
    """One line per recorded value: "kapacita: 10 → 12" for changes, "důvod: …" for facts."""
    lines = []
    for name, value in (entry.data or {}).items():
        label = FIELDS.get(name, name)
        if isinstance(value, list) and len(value) == 2:
            lines.append(f"{label}: {_value(name, value[0])} → {_value(name, value[1])}")
        elif value not in (None, False, ""):
            lines.append(f"{label}: {_value(name, value)}")
    return lines


def trails_of_registrations(registrations: list[Registration]) -> dict[int, list[AuditEntry]]:
    """The trail of many registrations in one query, newest first, for list pages."""
    ids = [r.id for r in registrations]
    trails: dict[int, list[AuditEntry]] = {i: [] for i in ids}
    if not ids:
        return trails
    entries = db.session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(AuditEntry.object_type == Registration.__tablename__, AuditEntry.object_id.in_(ids))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    for entry in entries:
        trails[entry.object_id].append(entry)
    return trails
