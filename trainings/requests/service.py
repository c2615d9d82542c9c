"""The request rules: submission and routing, the workflow, comments, and
closed terms made from an agreed request.

Each operation is one transaction; the history event, the audit entry and
every e-mail it causes are written in it (the e-mails through the outbox).
Views check who may act (trainings/access.py) before calling these.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from .. import audit, tokens, workdays
from ..db_session import locked, transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    Offer,
    OfferKind,
    Orp,
    Region,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestState,
    StaffRole,
    SupportRequest,
    SupportRequestItem,
    SupportRequestLink,
    Term,
    TermForm,
    Urgency,
    User,
    utcnow,
)
from ..terms import service as terms_service
from ..timefmt import term_span
from . import notifications


class RequestError(ServiceError):
    """An expected refusal of a request operation; `message` is Czech, `field` the form field it belongs to."""

    message = "Žádost nelze zpracovat."


# --- what the forms hand over ------------------------------------------------


@dataclass(frozen=True)
class Requester:
    name: str
    email: str
    organisation: str
    phone: str | None = None


@dataclass(frozen=True)
class CustomWorkshop:
    region_id: int
    participant_needs: str
    expected_participants: int
    preferred_dates: str
    orp_id: int | None = None
    topic_offer_id: int | None = None
    topic_text: str | None = None
    preferred_form: TermForm = TermForm.IN_PERSON
    place: str | None = None


@dataclass(frozen=True)
class Support:
    region_id: int
    orp_id: int | None
    offer_ids: tuple[int, ...]
    situation: str
    preferred_form: TermForm
    urgency: Urgency


@dataclass(frozen=True)
class RegionPackage:
    region_id: int
    # (offer id of a 1–12 item, the kraj's note to it)
    items: tuple[tuple[int, str | None], ...]
    note: str | None = None


@dataclass(frozen=True)
class Submitted:
    request: SupportRequest
    token: str


# --- private follow links ------------------------------------------------------


def issue_link(request: SupportRequest) -> str:
    """A new token for the requester's follow page; only its hash is stored."""
    token = tokens.new()
    db.session.add(SupportRequestLink(request=request, token_hash=tokens.token_hash(token)))
    return token


def request_for_token(token: str) -> SupportRequest | None:
    return tokens.find(
        select(SupportRequest)
        .join(SupportRequestLink, SupportRequestLink.request_id == SupportRequest.id)
        .where(SupportRequestLink.revoked_at.is_(None)),
        SupportRequestLink.token_hash, token,
    )


# --- submission and routing ------------------------------------------------------


def coordinator_for(region: Region) -> User | None:
    """The MPSV coordinator of the kraj (seed 004), if she can act on it."""
    person = region.coordinator
    return person if person is not None and person.active else None


def _recipients(request: SupportRequest) -> list[User]:
    """Who hears of a new request or a requester's message: the kraj's coordinator.

    The kraj's coordinator today, or the one the request was assigned to if
    the kraj has none; failing both, the administrators, so that no request
    lands nowhere.
    """
    person = coordinator_for(request.region)
    if person is None and request.coordinator is not None and request.coordinator.active:
        person = request.coordinator
    if person is not None:
        return [person]
    return db.session.scalars(
        select(User).where(User.role == StaffRole.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()


def _place(region_id: int, orp_id: int | None) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise RequestError("Vyberte kraj.", "region")
    if orp_id is not None:
        orp = db.session.get(Orp, orp_id)
        if orp is None or orp.region_id != region.id:
            raise RequestError("Vybraná ORP nepatří do zvoleného kraje.", "orp")
    return region


def _offers(ids, kind: OfferKind, field_name: str) -> list[Offer]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise RequestError("Vyberte alespoň jednu položku nabídky.", field_name)
    offers = db.session.scalars(select(Offer).where(Offer.id.in_(ids), Offer.kind == kind)).all()
    if len(offers) != len(ids):
        raise RequestError("Vyberte položky z nabídky.", field_name)
    by_id = {o.id: o for o in offers}
    return [by_id[i] for i in ids]


def submit_custom_workshop(requester: Requester, data: CustomWorkshop, now: datetime | None = None) -> Submitted:
    _place(data.region_id, data.orp_id)
    if data.topic_offer_id is not None:
        offer = db.session.get(Offer, data.topic_offer_id)
        if offer is None or offer.kind != OfferKind.WORKSHOP:
            raise RequestError("Vyberte téma z nabídky workshopů, nebo je popište vlastními slovy.", "topic_offer")
    elif not (data.topic_text or "").strip():
        raise RequestError("Vyberte téma z nabídky workshopů, nebo je popište vlastními slovy.", "topic_text")
    if data.expected_participants < 1:
        raise RequestError("Zadejte předpokládaný počet účastníků.", "expected_participants")
    values = dict(
        topic_offer_id=data.topic_offer_id,
        topic_text=(data.topic_text or "").strip() or None,
        participant_needs=data.participant_needs,
        expected_participants=data.expected_participants,
        preferred_dates=data.preferred_dates,
        preferred_form=data.preferred_form,
        place=data.place or None,
    )
    return _submit(RequestKind.CUSTOM_WORKSHOP, requester, data.region_id, data.orp_id, values, [], now)


def submit_support(requester: Requester, data: Support, now: datetime | None = None) -> Submitted:
    _place(data.region_id, data.orp_id)
    offers = _offers(data.offer_ids, OfferKind.SUPPORT, "items")
    values = dict(situation=data.situation, preferred_form=data.preferred_form, urgency=data.urgency)
    items = [(offer.id, None) for offer in offers]
    return _submit(RequestKind.SUPPORT, requester, data.region_id, data.orp_id, values, items, now)


def submit_region_package(requester: Requester, data: RegionPackage, now: datetime | None = None) -> Submitted:
    _place(data.region_id, None)
    notes = dict(data.items)
    offers = _offers([offer_id for offer_id, _ in data.items], OfferKind.REGION_SUPPORT, "items")
    items = [(offer.id, (notes[offer.id] or "").strip() or None) for offer in offers]
    return _submit(RequestKind.REGION_PACKAGE, requester, data.region_id, None, {"note": data.note or None}, items, now)


def _submit(kind, requester, region_id, orp_id, values, items, now) -> Submitted:
    now = now or utcnow()
    with transaction():
        region = db.session.get(Region, region_id)
        request = SupportRequest(
            kind=kind,
            state=RequestState.NEW,
            region=region,
            orp_id=orp_id,
            coordinator=coordinator_for(region),
            requester_name=requester.name,
            requester_email=requester.email.strip(),
            requester_phone=requester.phone or None,
            organisation=requester.organisation,
            consent_at=now,
            consent_version=current_app.config["CONSENT_VERSION"],
            created_at=now,
            updated_at=now,
            **values,
        )
        db.session.add(request)
        for offer_id, note in items:
            request.items.append(SupportRequestItem(offer_id=offer_id, note=note, state=RequestState.NEW))
        request.events.append(
            RequestEvent(at=now, actor=None, kind=RequestEventKind.SUBMITTED, to_state=RequestState.NEW)
        )
        db.session.flush()
        token = issue_link(request)
        notifications.request_received(request, token)
        for person in _recipients(request):
            notifications.request_new(request, person)
    return Submitted(request, token)


# --- the workflow ----------------------------------------------------------------------


def allowed_next(state: RequestState) -> list[RequestState]:
    return [s for s in RequestState if state.can_become(s)]


def _check_transition(current: RequestState, to_state: RequestState, text: str | None) -> None:
    if not current.can_become(to_state):
        raise RequestError(f"Ze stavu „{current.label}“ nelze přejít do stavu „{to_state.label}“.", "to_state")
    if to_state == RequestState.REJECTED and not (text or "").strip():
        raise RequestError("Uveďte důvod zamítnutí; pošleme ho e-mailem na adresu žádosti.", "text")


def _answered(request: SupportRequest, now: datetime) -> None:
    if request.answered_at is None:
        request.answered_at = now


@dataclass
class _Change:
    """What one staff operation did, for the one e-mail that tells the requester."""

    events: list[RequestEvent] = field(default_factory=list)


def _state_event(request, actor, now, current, to_state, text, item=None) -> RequestEvent:
    event = RequestEvent(
        at=now, actor=actor, kind=RequestEventKind.STATE, from_state=current, to_state=to_state,
        text=(text or "").strip() or None, item=item, visible_to_requester=True,
    )
    request.events.append(event)
    return event


def _tell_requester(request: SupportRequest, change: _Change) -> None:
    visible = [e for e in change.events if e.visible_to_requester]
    if visible:
        notifications.request_updated(request, issue_link(request), visible)


def transition(request_id: int, to_state: RequestState, actor: User, text: str | None = None,
               now: datetime | None = None) -> SupportRequest:
    """Move the request on; a closed or rejected request takes its open items with it."""
    now = now or utcnow()
    with transaction(), locked(SupportRequest, request_id) as request:
        current = request.state
        _check_transition(current, to_state, text)
        change = _Change()
        request.state = to_state
        request.updated_at = now
        if to_state == RequestState.REJECTED:
            request.rejection_reason = text.strip()
        change.events.append(_state_event(request, actor, now, current, to_state, text))
        if to_state.is_final:
            for item in request.items:
                if not item.state.is_final:
                    change.events.append(_state_event(request, actor, now, item.state, to_state, None, item))
                    item.state = to_state
        _answered(request, now)
        db.session.flush()
        audit.record("request.state_changed", request, actor, from_state=current, to_state=to_state,
                     text=(text or "").strip() or None)
        _tell_requester(request, change)
    return request


def transition_item(request_id: int, item_id: int, to_state: RequestState, actor: User,
                    text: str | None = None, now: datetime | None = None) -> SupportRequestItem:
    """Move one item of a package (or one A1–A7 item) on, on its own."""
    now = now or utcnow()
    with transaction(), locked(SupportRequest, request_id) as request:
        item = next((i for i in request.items if i.id == item_id), None)
        if item is None:
            raise RequestError("Tato položka k žádosti nepatří.")
        if request.state.is_final:
            raise RequestError(f"Žádost je ve stavu „{request.state.label}“; její položky už nelze měnit.")
        current = item.state
        _check_transition(current, to_state, text)
        item.state = to_state
        request.updated_at = now
        event = _state_event(request, actor, now, current, to_state, text, item)
        _answered(request, now)
        db.session.flush()
        audit.record("request.item_state_changed", request, actor, item_id=item.id, offer=item.offer.code,
                     from_state=current, to_state=to_state, text=event.text)
        _tell_requester(request, _Change([event]))
    return item


def comment(request_id: int, actor: User, text: str, visible_to_requester: bool,
            now: datetime | None = None) -> RequestEvent:
    """A staff comment: internal, or visible to the requester, who is told by e-mail.

    Only a visible comment answers the request; an internal note does not stop the clock.
    """
    now = now or utcnow()
    text = (text or "").strip()
    if not text:
        raise RequestError("Napište text komentáře.", "text")
    with transaction(), locked(SupportRequest, request_id) as request:
        event = RequestEvent(at=now, actor=actor, kind=RequestEventKind.COMMENT, text=text,
                             visible_to_requester=visible_to_requester)
        request.events.append(event)
        request.updated_at = now
        if visible_to_requester:
            _answered(request, now)
        db.session.flush()
        audit.record("request.commented", request, actor, event_id=event.id, visible=visible_to_requester)
        _tell_requester(request, _Change([event]))
    return event


def requester_message(request_id: int, text: str, now: datetime | None = None) -> RequestEvent:
    """The requester writes through her private link; the coordinator gets it by e-mail."""
    now = now or utcnow()
    text = (text or "").strip()
    if not text:
        raise RequestError("Napište text zprávy.", "text")
    with transaction(), locked(SupportRequest, request_id) as request:
        if request.state.is_final:
            raise RequestError("Žádost je uzavřená. S novou potřebou pošlete prosím novou žádost.")
        event = RequestEvent(at=now, actor=None, kind=RequestEventKind.COMMENT, text=text,
                             visible_to_requester=True)
        request.events.append(event)
        request.updated_at = now
        db.session.flush()
        for person in _recipients(request):
            notifications.request_requester_message(request, event, person)
    return event


# --- from an agreed request to closed terms -------------------------------------------

TERM_STATES = (RequestState.AGREED, RequestState.SCHEDULED)


def is_pressing(request: SupportRequest, now: datetime) -> bool:
    """"Spěchá" in the staff lists: asked as urgent or soon (support A1–A7), or left without an answer
    past the working-day limit; never once closed or rejected."""
    if request.state.is_final:
        return False
    return request.urgency in (Urgency.SOON, Urgency.URGENT) or workdays.is_overdue(request, now)


def can_make_terms(request: SupportRequest) -> bool:
    return request.kind == RequestKind.CUSTOM_WORKSHOP and request.state in TERM_STATES


def create_closed_term(request_id: int, data: terms_service.TermData, actor: User,
                       now: datetime | None = None) -> Term:
    """A closed term of the agreed workshop "na klíč": not listed publicly,
    reachable through its sign-up link, which the requester gets by e-mail
    to pass on. The first term moves the request to "naplánováno".

    The term is saved by terms.service.create_term (the rules every term
    obeys) in its own transaction; linking it to the request follows in a
    second one that cannot be refused, so a request rejected in between
    still shows the term it got.
    """
    request = db.session.get(SupportRequest, request_id)
    if request is None:
        raise RequestError("Žádost neexistuje.")
    if not can_make_terms(request):
        raise RequestError("Uzavřený termín lze vypsat jen k dohodnuté žádosti o workshop na klíč.")
    if data.restricted_region_id not in (None, request.region_id):
        raise RequestError(f"Termín lze omezit jen na {request.region.name}.", "restriction")
    if data.restricted_orp_id is not None:
        orp = db.session.get(Orp, data.restricted_orp_id)
        if orp is None or orp.region_id != request.region_id:
            raise RequestError(f"Termín lze omezit jen na ORP z tohoto kraje: {request.region.name}.", "restriction")
    term = terms_service.create_term(replace(data, public=False), actor)
    now = now or utcnow()
    with transaction(), locked(SupportRequest, request_id) as request:
        term = db.session.get(Term, term.id)
        term.request_id = request.id
        change = _Change()
        if request.state == RequestState.AGREED:
            change.events.append(_state_event(request, actor, now, request.state, RequestState.SCHEDULED, None))
            request.state = RequestState.SCHEDULED
        event = RequestEvent(at=now, actor=actor, kind=RequestEventKind.TERM, visible_to_requester=True,
                             text=term_line(term))
        request.events.append(event)
        request.updated_at = now
        _answered(request, now)
        db.session.flush()
        audit.record("request.term_created", request, actor, term_id=term.id)
        notifications.request_term_created(request, term, issue_link(request))
    return term


def term_line(term: Term) -> str:
    """"Workshop, čtvrtek 12. 3. 2026, 9:00–12:30, prezenčně, místo" for history and e-mails."""
    parts = [term.offer.title, term_span(term.starts_at, term.ends_at), term.form.label]
    if term.form == TermForm.IN_PERSON and term.venue:
        parts.append(term.venue)
    return ", ".join(parts)


def history(request: SupportRequest, for_requester: bool = False) -> list[RequestEvent]:
    events = list(request.events)
    return [e for e in events if e.visible_to_requester] if for_requester else events
