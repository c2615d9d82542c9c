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


# A weekday after a preposition takes the case the preposition governs; CLDR gives
# only the nominative ("čtvrtek"), so the other cases are here, Monday first.
# genitive: od, do, během ("od čtvrtka"); dative: k ("ke čtvrtku"); accusative:
# v/ve, na, za, pro ("ve čtvrtek"); locative: po, o ("po čtvrtku"); instrumental:
# před, mezi ("před čtvrtkem").
WEEKDAYS = {
    "nominative": ("pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle"),
    "genitive": ("pondělí", "úterý", "středy", "čtvrtka", "pátku", "soboty", "neděle"),
    "dative": ("pondělí", "úterý", "středě", "čtvrtku", "pátku", "sobotě", "neděli"),
    "accusative": ("pondělí", "úterý", "středu", "čtvrtek", "pátek", "sobotu", "neděli"),
    "locative": ("pondělí", "úterý", "středě", "čtvrtku", "pátku", "sobotě", "neděli"),
    "instrumental": ("pondělím", "úterým", "středou", "čtvrtkem", "pátkem", "sobotou", "nedělí"),
}


def weekday(dt: datetime, case: str = "nominative") -> str:
    """The day of the week in Prague in the given case: weekday(thursday, "genitive") -> "čtvrtka"."""
    return WEEKDAYS[case][local(dt).weekday()]


def date_time(dt: datetime, case: str = "nominative") -> str:
    """ "čtvrtek 12. 3. 2026, 9:00"; after a preposition pass its case: "od " + date_time(dt, "genitive")."""
    return f"{weekday(dt, case)} {format_datetime(local(dt), 'd. M. y, H:mm', locale=LOCALE)}"


def date_only(dt: datetime, case: str = "nominative") -> str:
    return f"{weekday(dt, case)} {format_date(local(dt), 'd. M. y', locale=LOCALE)}"


def term_span(starts_at: datetime, ends_at: datetime, case: str = "nominative") -> str:
    """One day: "čtvrtek 12. 3. 2026, 9:00–12:30"; several days: both ends in full.
    After a preposition its case: "na " + term_span(s, e, "accusative") -> "na středu 11. 3. 2026, …"."""
    start, end = local(starts_at), local(ends_at)
    if start.date() == end.date():
        return f"{date_time(start, case)}–{format_time(end, 'H:mm', locale=LOCALE)}"
    return f"{date_time(start, case)} – {date_time(end, case)}"


def month_label(year: int, month: int) -> str:
    """Nominative month and year for filters: "březen 2026"."""
    return format_date(datetime(year, month, 1), "LLLL y", locale=LOCALE)


def until(dt: datetime, now: datetime | None = None) -> str:
    """Until when sign-up runs: "do čtvrtka 12. března" (through that day, a deadline at 23:59), else with
    the time ("do čtvrtka 12. března, 12:00"); the year only when it is not this year's."""
    day = local(dt)
    text = f"do {weekday(day, 'genitive')} {format_date(day, 'd. MMMM', locale=LOCALE)}"
    if day.year != local(now or datetime.now(PRAGUE)).year:
        text += f" {day.year}"
    if (day.hour, day.minute) != (23, 59):
        text += f", {format_time(day, 'H:mm', locale=LOCALE)}"
    return text
