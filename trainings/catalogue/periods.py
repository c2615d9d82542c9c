"""The rough period of a planned workshop ("Podzim 2026") and when it stops being true.

The offer documents give planned workshops a period in free text. Once that period is over and
the workshop still has no term, showing it would promise something that did not happen, so the
public catalogue says "Termín bude upřesněn" instead; staff pages and the API keep the text as
written. A text this module does not understand is shown as it is: better a stale season than a
guess.
"""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime

from ..timefmt import PRAGUE

PASSED = "Termín bude upřesněn"

# The last day of each season as Czech calendars print it (astronomical seasons, the later of
# the two possible days), so a season counts as passed only once nobody would still call it that.
_SEASON_ENDS = {"jaro": (0, 6, 20), "léto": (0, 9, 22), "podzim": (0, 12, 21), "zima": (1, 3, 20)}

# Months in the cases a period uses: "září 2026", "od září", "v březnu", "do června".
_MONTHS = {}
for _number, _forms in enumerate(
    [
        ("leden", "ledna", "lednu"),
        ("únor", "února", "únoru"),
        ("březen", "března", "březnu"),
        ("duben", "dubna", "dubnu"),
        ("květen", "května", "květnu"),
        ("červen", "června", "červnu"),
        ("červenec", "července", "červenci"),
        ("srpen", "srpna", "srpnu"),
        ("září",),
        ("říjen", "října", "říjnu"),
        ("listopad", "listopadu"),
        ("prosinec", "prosince", "prosinci"),
    ],
    start=1,
):
    for _form in _forms:
        _MONTHS[_form] = _number

_SEASON = re.compile(r"(?:na |v )?(jaro|léto|podzim|zima|jaře|létě|zimě) (\d{4})")
_SEASON_CASES = {"jaře": "jaro", "létě": "léto", "zimě": "zima"}
# "od září" promises a start in that month: once the month is over without a term, it is stale.
_MONTH = re.compile(r"(?:od |v |ve |do |během )?(\w+) (\d{4})")
_YEAR = re.compile(r"(?:v roce |během roku |do konce roku )?(\d{4})")


def period_end(text: str | None) -> date | None:
    """The last day the period describes, or None for a form not understood."""
    words = " ".join((text or "").split()).casefold().rstrip(".")
    if match := _SEASON.fullmatch(words):
        season = _SEASON_CASES.get(match[1], match[1])
        years_on, month, day = _SEASON_ENDS[season]
        return date(int(match[2]) + years_on, month, day)
    if (match := _MONTH.fullmatch(words)) and match[1] in _MONTHS:
        year, month = int(match[2]), _MONTHS[match[1]]
        return date(year, month, monthrange(year, month)[1])
    if match := _YEAR.fullmatch(words):
        return date(int(match[1]), 12, 31)
    return None


def prague_today() -> date:
    return datetime.now(PRAGUE).date()


def shown_period(text: str | None, today: date | None = None) -> str | None:
    """The period as the public catalogue shows it on `today` (Prague)."""
    if not text:
        return None
    end = period_end(text)
    if end is not None and end < (today or prague_today()):
        return PASSED
    return text
