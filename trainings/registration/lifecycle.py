"""A registration's life: the one module that changes its state.

Every way a registration moves (a sign-up's seat given by promotion or by staff, the
move to the waiting list, a cancellation, a switch of term, a handover, the undo of her
own cancellation, attendance at the door) is a transition here. `TRANSITIONS` names
them with the states each may start from; `ALLOWED` is the same table read as
from-state → to-states. Anything else is refused with `TransitionRefused` before a row
changes, so a rule that forgot to check a state cannot leave a registration where no
journey leads.

The callers check the state first and refuse with their own Czech sentence; the table is
the floor under them, not the place for the person's message.

One clock: each transition takes the caller's `now`, so everything one use case writes
carries the same instant. Her calendar counter (`calendar_sequence`) goes up exactly once
per change of state: the invitation or CANCEL the change sends must outrank every one
sent before it (RFC 5546), and an e-mail records the counter when it is queued.
"""
from __future__ import annotations

from datetime import datetime

from ..errors import ServiceError
from ..models import Registration, RegistrationState

CONFIRMED, WAITLISTED, CANCELLED = RegistrationState.CONFIRMED, RegistrationState.WAITLISTED, RegistrationState.CANCELLED


class RegistrationError(ServiceError):
    """An expected refusal; `message` is Czech and meant for the person."""

    message = "Přihlášku nelze přijmout."


class TransitionRefused(RegistrationError):
    """The registration is not in a state this transition starts from."""

    message = "Tuto akci nelze u přihlášky v tomto stavu provést."

    def __init__(self, transition: str, state: RegistrationState):
        super().__init__()
        self.transition = transition
        self.from_state = state


# transition: (the states it starts from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[RegistrationState], RegistrationState]] = {
    # A seat from the waiting list: promotion, staff's confirmation, admission at the door,
    # the other side of an exchange of seats.
    "confirm": (frozenset({WAITLISTED}), CONFIRMED),
    # Staff move a confirmed person to the end of the waiting list.
    "waitlist": (frozenset({CONFIRMED}), WAITLISTED),
    # Hers or staff's, a withdrawn switch, or a seat given up by a switch of term (which may
    # have been moved to the waiting list meanwhile).
    "cancel": (frozenset({CONFIRMED, WAITLISTED}), CANCELLED),
    # Only a confirmed seat is handed to a colleague.
    "hand_over": (frozenset({CONFIRMED}), CANCELLED),
    # The undo of her own cancellation gives back a confirmed seat, never a place in the queue.
    "reinstate": (frozenset({CANCELLED}), CONFIRMED),
}

ALLOWED: dict[RegistrationState, frozenset[RegistrationState]] = {
    state: frozenset(to for starts, to in TRANSITIONS.values() if state in starts) for state in RegistrationState
}


def can(transition: str, state: RegistrationState) -> bool:
    return state in TRANSITIONS[transition][0]


def _move(registration: Registration, transition: str) -> RegistrationState:
    starts, to = TRANSITIONS[transition]
    previous = registration.state
    if previous not in starts:
        raise TransitionRefused(transition, previous)
    registration.state = to
    registration.calendar_sequence = (registration.calendar_sequence or 0) + 1
    return previous


def confirm(registration: Registration, now: datetime) -> None:
    _move(registration, "confirm")


def waitlist(registration: Registration, now: datetime) -> None:
    """To the end of the queue."""
    _move(registration, "waitlist")
    registration.queued_at = now


def cancel(registration: Registration, now: datetime) -> RegistrationState:
    """Returns the state she left (the audit trail says it)."""
    previous = _move(registration, "cancel")
    registration.cancelled_at = now
    return previous


def hand_over(registration: Registration, now: datetime) -> None:
    _move(registration, "hand_over")
    registration.cancelled_at = now


def reinstate(registration: Registration, now: datetime) -> None:
    """Her cancelled seat back, as it was before attendance could be taken."""
    _move(registration, "reinstate")
    registration.cancelled_at = None
    registration.attended = None
    registration.attendance_marked_at = None


def attend(registration: Registration, attended: bool | None, now: datetime) -> bool:
    """Present (True), no-show (False) or not marked (None); only a confirmed seat is marked.
    Returns whether anything changed: the same state twice (a double tap) changes nothing."""
    if registration.state != CONFIRMED:
        raise TransitionRefused("attend", registration.state)
    if registration.attended == attended:
        return False
    registration.attended = attended
    registration.attendance_marked_at = None if attended is None else now
    return True
