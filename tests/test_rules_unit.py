"""The seat rule, the waiting list's order and a registration's transitions, on plain objects:
no database and no application, so they run in milliseconds and say exactly which rule broke."""
from collections import Counter
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from trainings.models import Registration, RegistrationState
from trainings.registration import lifecycle
from trainings.registration.service import ORP_LIMIT, TERM_FULL, SeatUsage, next_in_line

CONFIRMED, WAITLISTED, CANCELLED = RegistrationState.CONFIRMED, RegistrationState.WAITLISTED, RegistrationState.CANCELLED
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LITOMYSL, SVITAVY = 5301, 5302


def usage(capacity, confirmed_per_orp=(), per_orp_limit=None, without_orp=0):
    per_orp = Counter(dict(confirmed_per_orp))
    return SeatUsage(capacity, per_orp_limit, sum(per_orp.values()) + without_orp, per_orp)


# --- the seat rule: capacity and the per-ORP limit ---------------------------------------------


def test_a_free_seat_goes_to_anyone_while_her_orp_is_under_its_limit():
    seats = usage(capacity=10, confirmed_per_orp={LITOMYSL: 1}, per_orp_limit=2)
    assert seats.free == 9
    assert seats.refusal(LITOMYSL) is None
    assert seats.refusal(SVITAVY) is None
    assert seats.refusal(None) is None


def test_her_orp_at_its_limit_waits_though_seats_are_free():
    seats = usage(capacity=10, confirmed_per_orp={LITOMYSL: 2}, per_orp_limit=2)
    assert seats.refusal(LITOMYSL) == ORP_LIMIT
    assert seats.refusal(SVITAVY) is None
    # Someone from outside any ORP (not OSPOD, no ORP given) is held back only by capacity.
    assert seats.refusal(None) is None


def test_a_full_term_refuses_everyone_and_says_full_before_the_orp_limit():
    seats = usage(capacity=3, confirmed_per_orp={LITOMYSL: 2, SVITAVY: 1}, per_orp_limit=2)
    assert seats.free == 0
    assert seats.refusal(LITOMYSL) == TERM_FULL
    assert seats.refusal(SVITAVY) == TERM_FULL
    assert seats.refusal(None) == TERM_FULL


def test_capacity_lowered_below_the_confirmed_shows_no_free_seat_not_a_negative_one():
    seats = usage(capacity=2, confirmed_per_orp={LITOMYSL: 3})
    assert seats.free == 0
    assert not seats.fits(SVITAVY)


def test_without_a_per_orp_limit_only_capacity_counts():
    seats = usage(capacity=5, confirmed_per_orp={LITOMYSL: 4})
    assert seats.fits(LITOMYSL)
    seats.take(LITOMYSL)
    assert seats.confirmed == 5 and seats.confirmed_per_orp[LITOMYSL] == 5
    assert seats.refusal(LITOMYSL) == TERM_FULL


# --- the waiting list's order ------------------------------------------------------------------


def waiting(name, orp_id):
    return SimpleNamespace(name=name, orp_id=orp_id)


def test_free_seats_go_in_queue_order():
    queue = [waiting("Alena", SVITAVY), waiting("Bára", LITOMYSL), waiting("Cecílie", None)]
    assert [w.name for w in next_in_line(usage(capacity=4, confirmed_per_orp={LITOMYSL: 2}), queue)] == \
        ["Alena", "Bára"]


def test_someone_whose_orp_is_at_its_limit_keeps_her_place_and_the_next_gets_the_seat():
    queue = [waiting("Alena", LITOMYSL), waiting("Bára", SVITAVY), waiting("Cecílie", LITOMYSL)]
    seats = usage(capacity=5, confirmed_per_orp={LITOMYSL: 2, SVITAVY: 1}, per_orp_limit=2)
    assert [w.name for w in next_in_line(seats, queue)] == ["Bára"]
    # Bára's seat is counted: her ORP is now at the limit too.
    assert seats.confirmed == 4 and seats.refusal(SVITAVY) == ORP_LIMIT


def test_seats_taken_within_one_fill_count_against_the_orp_limit():
    queue = [waiting("Alena", LITOMYSL), waiting("Bára", LITOMYSL), waiting("Cecílie", SVITAVY)]
    seats = usage(capacity=10, confirmed_per_orp={LITOMYSL: 1}, per_orp_limit=2)
    assert [w.name for w in next_in_line(seats, queue)] == ["Alena", "Cecílie"]


def test_a_full_term_promotes_nobody():
    assert next_in_line(usage(capacity=2, confirmed_per_orp={LITOMYSL: 2}), [waiting("Alena", SVITAVY)]) == []


# --- a registration's transitions --------------------------------------------------------------


def registration(state, **values):
    return Registration(state=state, calendar_sequence=values.pop("calendar_sequence", 0), **values)


def test_the_table_says_which_state_may_follow_which():
    assert lifecycle.ALLOWED == {
        WAITLISTED: {CONFIRMED, CANCELLED},
        CONFIRMED: {WAITLISTED, CANCELLED},
        CANCELLED: {CONFIRMED},
    }


@pytest.mark.parametrize("transition, start", [
    (transition, state)
    for transition, (starts, _) in lifecycle.TRANSITIONS.items()
    for state in RegistrationState if state not in starts
])
def test_a_transition_from_a_state_it_does_not_start_from_is_refused_and_changes_nothing(transition, start):
    seat = registration(start, calendar_sequence=3)
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        getattr(lifecycle, transition)(seat, NOW)
    assert refused.value.transition == transition and refused.value.from_state == start
    assert seat.state == start and seat.calendar_sequence == 3 and seat.cancelled_at is None


def test_every_change_of_state_raises_her_calendar_counter_exactly_once():
    seat = registration(CONFIRMED)
    lifecycle.waitlist(seat, NOW)  # the CANCEL of her invitation
    assert (seat.state, seat.calendar_sequence, seat.queued_at) == (WAITLISTED, 1, NOW)
    lifecycle.confirm(seat, NOW)  # the promotion's invitation outranks that CANCEL
    assert (seat.state, seat.calendar_sequence) == (CONFIRMED, 2)
    lifecycle.cancel(seat, NOW)
    assert (seat.state, seat.calendar_sequence, seat.cancelled_at) == (CANCELLED, 3, NOW)
    lifecycle.reinstate(seat, NOW)
    assert (seat.state, seat.calendar_sequence, seat.cancelled_at) == (CONFIRMED, 4, None)


def test_a_cancellation_carries_the_callers_clock_and_says_where_she_came_from():
    seat = registration(WAITLISTED)
    assert lifecycle.cancel(seat, NOW) == WAITLISTED
    assert seat.cancelled_at == NOW


def test_a_handover_gives_up_only_a_confirmed_seat():
    seat = registration(CONFIRMED)
    lifecycle.hand_over(seat, NOW)
    assert (seat.state, seat.cancelled_at, seat.calendar_sequence) == (CANCELLED, NOW, 1)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.hand_over(registration(WAITLISTED), NOW)


def test_attendance_is_marked_only_on_a_confirmed_seat_and_a_double_tap_changes_nothing():
    seat = registration(CONFIRMED)
    assert lifecycle.attend(seat, True, NOW) is True
    assert (seat.attended, seat.attendance_marked_at, seat.calendar_sequence) == (True, NOW, 0)
    assert lifecycle.attend(seat, True, datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)) is False
    assert seat.attendance_marked_at == NOW
    assert lifecycle.attend(seat, None, NOW) is True
    assert (seat.attended, seat.attendance_marked_at) == (None, None)
    for state in (WAITLISTED, CANCELLED):
        with pytest.raises(lifecycle.TransitionRefused):
            lifecycle.attend(registration(state), True, NOW)


def test_the_undo_of_a_cancellation_takes_back_attendance_too():
    seat = registration(CANCELLED, cancelled_at=NOW, attended=False, attendance_marked_at=NOW)
    lifecycle.reinstate(seat, NOW)
    assert (seat.state, seat.cancelled_at, seat.attended, seat.attendance_marked_at) == (CONFIRMED, None, None, None)
