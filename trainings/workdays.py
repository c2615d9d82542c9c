"""Czech working days: the clock behind "no answer for more than 5 working days".

Weekends and Czech public holidays (státní svátky and ostatní svátky, from the
`holidays` library, so Easter and any future change need no code here) are not
working days. Days are counted in Europe/Prague: a request sent on Friday at
23:30 Prague time arrived on Friday even though it is Friday 22:30 UTC, and the
autumn change of clocks must not shift a date.

The rule: the day a request arrives does not count; the coordinator has the
five working days that follow it, and from the sixth the request is overdue.
Sent on Friday 23. 10. 2026, the days are Mon 26., Tue 27., (Wed 28. is a
holiday), Thu 29., Fri 30., (weekend), Mon 2. 11.; overdue from Tue 3. 11.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from .timefmt import PRAGUE

ANSWER_WITHIN_WORKING_DAYS = 5


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("CZ", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(PRAGUE).date()
    return value


def working_days_between(start: date | datetime, end: date | datetime) -> int:
    """Working days after `start`'s day up to and including `end`'s day (0 if end is not later)."""
    first, last = _local_date(start), _local_date(end)
    count = 0
    day = first + timedelta(days=1)
    while day <= last:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def add_working_days(start: date | datetime, days: int) -> date:
    """The `days`-th working day after `start`'s day."""
    day = _local_date(start)
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def answer_due(request) -> date:
    """The last day the coordinator has for the first answer."""
    return add_working_days(request.created_at, ANSWER_WITHIN_WORKING_DAYS)


def is_overdue(request, now: datetime) -> bool:
    """A request nobody has answered for more than the allowed working days.

    Closed and rejected requests are never overdue; neither is one that got
    its first answer (`answered_at`, set by trainings.requests.service).
    Same as working_days_between(created_at, now) > 5, without walking the
    calendar of a years-old request.
    """
    if request.answered_at is not None or request.state.is_final:
        return False
    return _local_date(now) > answer_due(request)
