"""Czech date and time formats ("čtvrtek 12. 3. 2026, 9:00–12:30") in Europe/Prague."""
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time

PRAGUE = ZoneInfo("Europe/Prague")
# Parsed once: Babel would parse a locale name again on every call, which
# showed up as the largest cost of rendering a list of terms.
LOCALE = Locale.parse("cs_CZ")


def local(dt: datetime) -> datetime:
    return dt.astimezone(PRAGUE)


def date_time(dt: datetime) -> str:
    return format_datetime(local(dt), "EEEE d. M. y, H:mm", locale=LOCALE)


def date_only(dt: datetime) -> str:
    return format_date(local(dt), "EEEE d. M. y", locale=LOCALE)


def term_span(starts_at: datetime, ends_at: datetime) -> str:
    """One day: "čtvrtek 12. 3. 2026, 9:00–12:30"; several days: both ends in full."""
    start, end = local(starts_at), local(ends_at)
    if start.date() == end.date():
        return f"{date_time(start)}–{format_time(end, 'H:mm', locale=LOCALE)}"
    return f"{date_time(start)} – {date_time(end)}"


def month_label(year: int, month: int) -> str:
    """Nominative month and year for filters: "březen 2026"."""
    return format_date(datetime(year, month, 1), "LLLL y", locale=LOCALE)
