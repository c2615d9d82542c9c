"""iCalendar texts (RFC 5545): the invitation attached to e-mails and the feeds.

Pure functions of the models, no views. Times are written as local Prague time
with TZID=Europe/Prague and a VTIMEZONE, so every calendar shows the same wall
clock time in summer and in winter.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vText

from .models import Registration, RegistrationState, Term, TermState, utcnow
from .timefmt import PRAGUE, term_span
from .urls import absolute_url

PRODID = "-//MPSV//SPOD4 registrace//CS"
REFRESH = timedelta(hours=1)
INVITATION_METHODS = ("REQUEST", "CANCEL")

# The EU rule (since 1996): summer time from the last Sunday of March, 02:00,
# to the last Sunday of October, 03:00 local time. Written as RRULEs because
# Outlook mishandles VTIMEZONEs made of RDATE lists, which is what
# icalendar's Timezone.from_tzid produces.
_EU_RULE_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Prague
X-LIC-LOCATION:Europe/Prague
BEGIN:DAYLIGHT
TZNAME:CEST
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19960331T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:CET
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@lru_cache(maxsize=64)
def _follows_eu_rule(year: int) -> bool:
    """Whether the tz database agrees with the RRULEs above for this year."""
    def offset(at: datetime) -> timedelta:
        return at.astimezone(PRAGUE).utcoffset()

    summer = datetime.combine(_last_sunday(year, 3), datetime.min.time(), timezone.utc) + timedelta(hours=1)
    winter = datetime.combine(_last_sunday(year, 10), datetime.min.time(), timezone.utc) + timedelta(hours=1)
    second = timedelta(seconds=1)
    one, two = timedelta(hours=1), timedelta(hours=2)
    return (
        offset(datetime(year, 1, 1, tzinfo=timezone.utc)) == one
        and offset(summer - second) == one
        and offset(summer) == two
        and offset(winter - second) == two
        and offset(winter) == one
        and offset(datetime(year, 12, 31, 23, tzinfo=timezone.utc)) == one
    )


def prague_timezone(terms) -> Timezone:
    """The VTIMEZONE for Europe/Prague, valid for the years of these terms.

    Should the rules ever change (the EU has debated ending summer time), the
    tz database no longer matches the RRULEs and the exact transitions are
    written out instead.
    """
    years = {dt.astimezone(PRAGUE).year for term in terms for dt in (term.starts_at, term.ends_at)}
    if all(_follows_eu_rule(year) for year in years):
        return Timezone.from_ical(_EU_RULE_VTIMEZONE)
    return Timezone.from_tzid(
        "Europe/Prague", first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 1, 12, 31)
    )


def _host() -> str:
    return urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname


def registration_uid(registration: Registration) -> str:
    return f"registration-{registration.id}@{_host()}"


def term_uid(term: Term) -> str:
    return f"term-{term.id}@{_host()}"


def organizer() -> vCalAddress:
    """The project's mailbox as ORGANIZER (ICS_ORGANIZER_EMAIL, else MAIL_DEFAULT_SENDER's address)."""
    config = current_app.config
    address = config.get("ICS_ORGANIZER_EMAIL")
    if not address:
        sender = config["MAIL_DEFAULT_SENDER"]
        address = sender[1] if isinstance(sender, (tuple, list)) else parseaddr(sender)[1]
    value = vCalAddress(f"mailto:{address}")
    value.params["CN"] = vText(config["ICS_ORGANIZER_NAME"])
    return value


def attendee(registration: Registration, partstat: str | None) -> vCalAddress:
    """The person as the one ATTENDEE. RSVP=FALSE: she has answered by signing up,
    so clients need not offer to send a reply nobody reads."""
    value = vCalAddress(f"mailto:{registration.email}")
    value.params["CN"] = vText(registration.name)
    value.params["ROLE"] = "REQ-PARTICIPANT"
    if partstat:
        value.params["PARTSTAT"] = partstat
    value.params["RSVP"] = "FALSE"
    return value


def _calendar(method: str, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
        # RFC 7986 and the older Apple/Microsoft spelling; clients read one or the other.
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH))
    return cal


def _location(term: Term) -> str | None:
    if term.is_online:
        return "online"
    return term.venue or (term.region.name if term.region else None)


def _description(term: Term, online_url: str | None, note: str | None, page: str | None = None) -> str:
    lines = [term.offer.title, f"Termín: {term_span(term.starts_at, term.ends_at)}"]
    if note:
        lines.append(note)
    lines.append(f"Forma: {term.form.label}" + (f", {term.venue}" if term.venue and not term.is_online else ""))
    if term.lecturer:
        lines.append(f"Lektorské vedení: {term.lecturer}")
    if online_url:
        lines.append(f"Odkaz na online setkání: {online_url}")
    lines.append(f"Podrobnosti: {page or absolute_url('catalogue.offer', slug=term.offer.slug)}")
    return "\n".join(lines)


def _event(term: Term, *, uid: str, sequence: int, stamp: datetime, status: str,
           online_url: str | None = None, note: str | None = None) -> Event:
    cancelled = status == "CANCELLED"
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("dtstart", term.starts_at.astimezone(PRAGUE))
    event.add("dtend", term.ends_at.astimezone(PRAGUE))
    # Outlook shows a cancelled event in a subscribed calendar like any other;
    # the title is what tells the person.
    event.add("summary", f"Zrušeno: {term.offer.title}" if cancelled else term.offer.title)
    location = _location(term)
    if location:
        event.add("location", location)
    event.add("description", _description(term, online_url, note))
    if online_url:
        # LOCATION stays "online": the link is the event's conference (RFC 7986), which
        # calendars offer as a join button, and its URL, which the others show as a link.
        # online_url is given only where Registration.online_link allows it.
        event.add("conference", online_url,
                  parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Online setkání"})
        event.add("url", online_url)
    else:
        event.add("url", absolute_url("catalogue.offer", slug=term.offer.slug))
    event.add("status", status)
    # A cancelled event must not block the time in free/busy.
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if term.updated_at:
        event.add("last-modified", term.updated_at.astimezone(timezone.utc))
    return event


def _registration_event(registration: Registration, stamp: datetime, cancel: bool = False,
                        invitation: bool = False, registration_sequence: int | None = None) -> Event:
    term = registration.term
    if term.state == TermState.CANCELLED:
        status, note = "CANCELLED", "Termín byl zrušen."
    elif cancel or registration.state == RegistrationState.CANCELLED:
        status, note = "CANCELLED", "Přihláška byla zrušena."
    elif registration.state == RegistrationState.WAITLISTED:
        status, note = "TENTATIVE", "Jste na čekací listině."
    else:
        status, note = "CONFIRMED", None
    online_url = None if cancel else registration.online_link()
    event = _event(
        term,
        uid=registration_uid(registration),
        # The organiser's changes raise the term's counter, the person's own
        # cancellation raises the registration's; the sum only ever grows.
        sequence=term.sequence + (registration.calendar_sequence if registration_sequence is None
                                  else registration_sequence),
        stamp=stamp,
        status=status,
        online_url=online_url,
        note=note,
    )
    # The personal feed names the organiser too, so that its events and the
    # e-mailed ones are the same meeting; only an invitation names her.
    event.add("organizer", organizer())
    if invitation and registration.email:
        partstat = {"CONFIRMED": "ACCEPTED", "TENTATIVE": "TENTATIVE"}.get(status) if not cancel else None
        event.add("attendee", attendee(registration, partstat))
    return event


def _serialise(cal: Calendar, terms: list[Term]) -> bytes:
    if terms:
        # A VTIMEZONE must come before the events that use it.
        cal.subcomponents.insert(0, prague_timezone(terms))
    return cal.to_ical()


def registration_invitation(registration: Registration, method: str, *, now: datetime | None = None,
                            registration_sequence: int | None = None) -> str:
    """The .ics for an e-mail: METHOD:REQUEST on confirmation and change, CANCEL on cancellation.

    The UID is the registration's, so every later REQUEST or CANCEL updates the
    same event in the person's calendar. RFC 5546 asks for an ORGANIZER on both
    (the project's mailbox, `organizer`) and the attendees concerned: the person,
    ACCEPTED on a confirmed seat (TENTATIVE on the waiting list) and with
    RSVP=FALSE, so no client asks her to reply. `now` is the DTSTAMP (default:
    the clock). `registration_sequence` is the registration's counter when the e-mail was
    queued (the outbox writes it later), by default its counter now.
    """
    method = method.upper()
    if method not in INVITATION_METHODS:
        raise ValueError(f"method must be one of {INVITATION_METHODS}, not {method!r}")
    cal = _calendar(method)
    cal.add_component(
        _registration_event(registration, now or utcnow(), cancel=method == "CANCEL", invitation=True,
                            registration_sequence=registration_sequence))
    return _serialise(cal, [registration.term]).decode("utf-8")


def _stamp(*changed: datetime | None, now: datetime | None) -> datetime:
    # From the data, not the clock, so an unchanged feed is byte for byte the
    # same and its ETag holds.
    known = [dt for dt in changed if dt is not None]
    return max(known) if known else (now or utcnow())


def feed(terms, name: str, now: datetime | None = None) -> bytes:
    """A public feed: one event per term, never with the online link.

    DTSTAMP is the term's updated_at; `now` stands in only for a term not yet
    saved. Which terms belong in the feed is the caller's choice (queries.py).
    The same bytes as adding every event to one Calendar, but each event's text
    is written once per version of its term (`_public_event`) and joined.
    """
    terms = list(terms)
    cal = _calendar("PUBLISH", name)
    if terms:
        # A VTIMEZONE must come before the events that use it.
        cal.add_component(prague_timezone(terms))
    head = cal.to_ical()
    pages: dict[str, str] = {}  # a workshop's page address, built once per feed
    return head[:-len(_END)] + b"".join(_public_event(term, now, pages) for term in terms) + _END


_END = b"END:VCALENDAR\r\n"
# Written events of public terms, by everything their text is made of (the row's updated_at
# moves on every edit; the fields are in the key too, for a term changed but not yet saved).
_events: OrderedDict[tuple, bytes] = OrderedDict()
_events_lock = threading.Lock()
KEPT_EVENTS = 20_000


def _public_event(term: Term, now: datetime | None, pages: dict[str, str]) -> bytes:
    key = (term.id, term.updated_at, term.sequence, term.state, term.starts_at, term.ends_at, term.form, term.venue,
           term.lecturer, term.offer.title, term.offer.slug, term.region.name if term.region else None,
           current_app.config["PUBLIC_BASE_URL"])
    if term.id is None or term.updated_at is None:
        return _write_public_event(term, now, pages)
    with _events_lock:
        written = _events.get(key)
    if written is None:
        written = _write_public_event(term, now, pages)
        with _events_lock:
            _events[key] = written
            while len(_events) > KEPT_EVENTS:
                _events.popitem(last=False)
    return written


# --- a public event written as text --------------------------------------------------------
# icalendar builds a property object, its parameters and a content line for each of a dozen
# properties and folds every line a character at a time: 0.7 ms an event, 0.7 s for the
# thousand events of the all-terms feed the first time it is asked for (after start-up, or after
# many terms changed). A public event has fixed properties with plain values, so it is written
# here directly: the same bytes as `_event(...).to_ical()` (tests/test_calendar.py compares them
# for awkward texts and ical.js reads the feeds), at about a twentieth of the cost.
# Invitations and personal feeds, a handful of events, stay with the library.

def _text(value: str) -> str:
    """RFC 5545 TEXT escaping, in icalendar's order (vText), so the bytes are the library's."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> bytes:
    """One content line folded as icalendar folds it: at most 74 octets a piece, never inside a
    UTF-8 character, and never right after a backslash or caret (some clients would read the
    escape across the fold wrongly), each further piece after CRLF and a space."""
    data = line.encode("utf-8")
    if len(data) <= 74:
        return data + b"\r\n"
    pieces, start = [], 0
    while len(data) - start > 74:
        end = start + 74
        while 0x80 <= data[end] < 0xC0:  # inside a character: fold before it
            end -= 1
        if data[end - 1] in b"\\^":
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces) + b"\r\n"


def _local(dt: datetime) -> str:
    return dt.astimezone(PRAGUE).strftime("%Y%m%dT%H%M%S")


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _write_public_event(term: Term, now: datetime | None, pages: dict[str, str]) -> bytes:
    cancelled = term.state == TermState.CANCELLED
    slug = term.offer.slug
    page = pages.get(slug)
    if page is None:
        page = pages[slug] = absolute_url("catalogue.offer", slug=slug)
    description = _description(term, None, "Termín byl zrušen." if cancelled else None, page=page)
    # Properties in icalendar's order: its canonical ones for VEVENT, then the rest alphabetically.
    lines = [
        "BEGIN:VEVENT",
        # Outlook shows a cancelled event in a subscribed calendar like any other;
        # the title is what tells the person.
        "SUMMARY:" + _text(f"Zrušeno: {term.offer.title}" if cancelled else term.offer.title),
        "DTSTART;TZID=Europe/Prague:" + _local(term.starts_at),
        "DTEND;TZID=Europe/Prague:" + _local(term.ends_at),
        "DTSTAMP:" + _utc(_stamp(term.updated_at, now=now)),
        "UID:" + _text(term_uid(term)),
        f"SEQUENCE:{int(term.sequence)}",
        "DESCRIPTION:" + _text(description),
    ]
    if term.updated_at:
        lines.append("LAST-MODIFIED:" + _utc(term.updated_at))
    location = _location(term)
    if location:
        lines.append("LOCATION:" + _text(location))
    lines += [
        "STATUS:" + ("CANCELLED" if cancelled else "CONFIRMED"),
        # A cancelled event must not block the time in free/busy.
        "TRANSP:" + ("TRANSPARENT" if cancelled else "OPAQUE"),
        "URL:" + page,
        "END:VEVENT",
    ]
    return b"".join(_fold(line) for line in lines)


def personal_feed(registrations, name: str, now: datetime | None = None) -> bytes:
    """A person's own feed: the registrations' UIDs, so its events and the
    e-mailed invitations are one event in the person's calendar."""
    registrations = list(registrations)
    cal = _calendar("PUBLISH", name)
    for registration in registrations:
        stamp = _stamp(registration.term.updated_at, registration.updated_at, now=now)
        cal.add_component(_registration_event(registration, stamp))
    return _serialise(cal, [r.term for r in registrations])
