"""Calendars: the invitation in e-mails and the feeds, read back by parsers
other than the one that wrote them (vobject, and ical.js, Thunderbird's)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask import render_template_string
from sqlalchemy import select

from trainings import ics
from trainings.calendar.feeds import feed_links
from trainings.extensions import db
from trainings.models import (
    EmployerType,
    Offer,
    OfferKind,
    Registration,
    RegistrationState,
    TermForm,
    TermState,
    utcnow,
)
from trainings.person.service import issue_feed_link
from trainings.registration.service import issue_link

from .helpers import icaljs, make_term, read, region

PRAGUE = ZoneInfo("Europe/Prague")
UTC = timezone.utc
MEETING = "https://meet.example.cz/ipod"


# --- the independent parsers ----------------------------------------------------


def events(text):
    return {e.uid.value: e for e in read(text).contents.get("vevent", [])}


# --- builders ----------------------------------------------------------------------


def make_registration(term, email="jana.novakova@mesto-litomysl.cz", state=RegistrationState.CONFIRMED, **values):
    registration = Registration(
        term=term, state=state, name="Jana Nováková", email=email, email_normalized=email.lower(),
        employer_type=EmployerType.OSPOD, job_title="sociální pracovnice", region_id=region("CZ053").id,
        consent_at=utcnow(), consent_version="test", **values,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def term_on(local_start, hours=3.5, **values):
    """A term at a fixed Prague wall-clock time (make_term counts from now)."""
    term = make_term(**values)
    term.starts_at = local_start.replace(tzinfo=PRAGUE)
    term.ends_at = term.starts_at + timedelta(hours=hours)
    db.session.commit()
    return term


def in_pardubice(**values):
    return make_term(slug="rodicovske-spory", form=TermForm.IN_PERSON, region=region("CZ053"),
                     venue="Krajský úřad, Pardubice", **values)


# --- invitations ---------------------------------------------------------------------


def test_a_change_updates_the_invitation_and_a_cancellation_cancels_the_same_event(app):
    term = make_term()
    registration = make_registration(term)
    texts = [ics.registration_invitation(registration, "REQUEST")]

    # The organiser moves the term an hour later; the edit raises the term's sequence.
    term.starts_at += timedelta(hours=1)
    term.ends_at += timedelta(hours=1)
    term.sequence += 1
    db.session.commit()
    texts.append(ics.registration_invitation(registration, "REQUEST"))

    # She cancels; the cancellation raises her own sequence.
    registration.state = RegistrationState.CANCELLED
    registration.cancelled_at = utcnow()
    registration.calendar_sequence += 1
    db.session.commit()
    texts.append(ics.registration_invitation(registration, "CANCEL"))

    confirmed, changed, cancelled = invitation_facts(texts)
    uid = f"registration-{registration.id}@spod4.test"
    assert [i["uid"] for i in (confirmed, changed, cancelled)] == [uid] * 3
    assert confirmed["sequence"] < changed["sequence"] < cancelled["sequence"]
    assert [i["method"] for i in (confirmed, changed, cancelled)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [i["status"] for i in (confirmed, changed, cancelled)] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert changed["start"] == confirmed["start"] + timedelta(hours=1)
    assert_icaljs_reads_the_same(texts, [confirmed, changed, cancelled])


def invitation_facts(texts):
    """What vobject reads from each invitation."""
    facts = []
    for text in texts:
        cal = read(text)
        assert len(cal.vevent_list) == 1
        event = cal.vevent
        # RFC 5546: an ORGANIZER on REQUEST and CANCEL, and the attendee concerned.
        assert event.organizer.value == "mailto:spod4@mpsv.gov.cz"
        assert [a.value for a in event.attendee_list] == ["mailto:jana.novakova@mesto-litomysl.cz"]
        assert cal.prodid.value == "-//MPSV//SPOD4 registrace//CS"
        facts.append({
            "method": cal.method.value,
            "uid": event.uid.value,
            "sequence": int(event.sequence.value),
            "status": event.status.value,
            "start": event.dtstart.value,
        })
    return facts


def assert_icaljs_reads_the_same(texts, facts):
    for js, fact in zip(icaljs(*texts), facts, strict=True):
        (event,) = js["events"]
        assert (js["method"], event["uid"], event["sequence"], event["status"]) == (
            fact["method"], fact["uid"], fact["sequence"], fact["status"])
        assert datetime.fromisoformat(event["start"]["utc"]) == fact["start"]
        assert (event["organizer"], event["attendees"]) == ("mailto:spod4@mpsv.gov.cz", 1)


def params(prop):
    return {name: values[0] for name, values in prop.params.items()}


def test_an_invitation_names_the_project_as_organizer_and_her_as_the_attendee(app):
    term = make_term()
    confirmed = make_registration(term)
    waiting = make_registration(term, email="eva@mesto-policka.cz", state=RegistrationState.WAITLISTED)
    waiting.name = 'Eva "Evička" Svobodová, DiS.'
    db.session.commit()
    request = ics.registration_invitation(confirmed, "REQUEST")
    event = read(request).vevent
    assert event.organizer.value == "mailto:spod4@mpsv.gov.cz"
    assert params(event.organizer) == {"CN": "SPOD4 – MPSV"}
    (attendee,) = event.attendee_list
    assert attendee.value == "mailto:jana.novakova@mesto-litomysl.cz"
    # Her seat is confirmed and she answered by signing up: no client should ask her to reply.
    assert params(attendee) == {"CN": "Jana Nováková", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED",
                                "RSVP": "FALSE"}

    # On the waiting list the event is tentative, and so is she.
    (attendee,) = read(ics.registration_invitation(waiting, "REQUEST")).vevent.attendee_list
    assert attendee.value == "mailto:eva@mesto-policka.cz"
    assert params(attendee)["PARTSTAT"] == "TENTATIVE"

    # A cancellation names the same organiser and the same person.
    confirmed.state, confirmed.cancelled_at = RegistrationState.CANCELLED, utcnow()
    confirmed.calendar_sequence += 1
    db.session.commit()
    cancel = ics.registration_invitation(confirmed, "CANCEL")
    event = read(cancel).vevent
    assert event.organizer.value == "mailto:spod4@mpsv.gov.cz"
    (attendee,) = event.attendee_list
    assert attendee.value == "mailto:jana.novakova@mesto-litomysl.cz"
    assert params(attendee)["CN"] == "Jana Nováková" and params(attendee)["ROLE"] == "REQ-PARTICIPANT"

    # A name with quotes and a comma survives (RFC 6868), for Thunderbird's parser too.
    texts = [request, ics.registration_invitation(waiting, "REQUEST"), cancel]
    js = icaljs(*texts)
    assert [(p["method"], p["events"][0]["organizer"], p["events"][0]["attendees"]) for p in js] == [
        ("REQUEST", "mailto:spod4@mpsv.gov.cz", 1)] * 2 + [("CANCEL", "mailto:spod4@mpsv.gov.cz", 1)]
    assert js[1]["events"][0]["attendee_cn"] == ['Eva "Evička" Svobodová, DiS.']


def test_the_organizer_mailbox_is_a_setting(app):
    registration = make_registration(make_term())
    app.config["ICS_ORGANIZER_EMAIL"] = "workshopy@mpsv.gov.cz"
    try:
        event = read(ics.registration_invitation(registration, "REQUEST")).vevent
    finally:
        app.config["ICS_ORGANIZER_EMAIL"] = None
    assert event.organizer.value == "mailto:workshopy@mpsv.gov.cz"
    # Unset, it is the address the e-mails come from.
    assert app.config["MAIL_DEFAULT_SENDER"] == "SPOD4 registrace <spod4@mpsv.gov.cz>"


def test_invitation_carries_the_meeting_link_only_for_a_confirmed_seat(app):
    term = make_term(lecturer="Mgr. Petra Dvořáková")
    confirmed = make_registration(term)
    waiting = make_registration(term, email="eva@mesto-policka.cz", state=RegistrationState.WAITLISTED)

    text = ics.registration_invitation(confirmed, "REQUEST")
    event = read(text).vevent
    assert event.summary.value == "Od analýzy k tvorbě IPOD"
    assert event.location.value == "online"
    assert MEETING in event.description.value
    assert "Mgr. Petra Dvořáková" in event.description.value
    # Her URL is the meeting (below); the workshop's page is in the description.
    assert "http://spod4.test/nabidka/od-analyzy-k-tvorbe-ipod" in event.description.value
    assert "DTSTART;TZID=Europe/Prague:" in text and "DTEND;TZID=Europe/Prague:" in text
    assert read(text).vtimezone.tzid.value == "Europe/Prague"
    assert MEETING not in ics.registration_invitation(waiting, "REQUEST")
    assert MEETING not in ics.registration_invitation(confirmed, "CANCEL")


def test_a_confirmed_seat_gets_the_meeting_as_a_conference_a_calendar_can_open(app):
    """LOCATION says only "online": the link itself is the event's CONFERENCE (RFC 7986) and URL,
    which calendars show as a button or a link, and only where online_link lets her have it."""
    term = make_term()
    confirmed = make_registration(term)
    waiting = make_registration(term, email="eva@mesto-policka.cz", state=RegistrationState.WAITLISTED)

    request = ics.registration_invitation(confirmed, "REQUEST")
    event = read(request).vevent
    assert event.location.value == "online"
    (conference,) = event.contents["conference"]
    assert conference.value == MEETING
    assert params(conference) == {"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Online setkání"}
    assert event.url.value == MEETING
    assert MEETING in event.description.value  # for clients that show neither

    not_hers = [ics.registration_invitation(waiting, "REQUEST"), ics.registration_invitation(confirmed, "CANCEL"),
                ics.feed([term], "SPOD4 – všechny workshopy")]
    for text in not_hers:
        event = read(text).vevent
        assert "conference" not in event.contents
        assert event.url.value == "http://spod4.test/nabidka/od-analyzy-k-tvorbe-ipod"

    js_request, *js_others = icaljs(request, *not_hers)
    (event,) = js_request["events"]
    assert event["conferences"] == [{"uri": MEETING, "type": "uri", "feature": "VIDEO", "label": "Online setkání"}]
    assert event["url"] == MEETING
    for js in js_others:
        assert [e["conferences"] for e in js["events"]] == [[]]

    # A seat she no longer has takes the link out of her feed's event too.
    waiting_feed = read(ics.personal_feed([waiting], "SPOD4 – moje workshopy")).vevent
    assert "conference" not in waiting_feed.contents
    confirmed_feed = read(ics.personal_feed([confirmed], "SPOD4 – moje workshopy")).vevent
    assert confirmed_feed.contents["conference"][0].value == MEETING


def test_invitation_for_a_term_in_person_names_the_venue_and_a_cancelled_term_is_cancelled(app):
    term = in_pardubice()
    registration = make_registration(term)
    assert read(ics.registration_invitation(registration, "REQUEST")).vevent.location.value == (
        "Krajský úřad, Pardubice")

    term.state, term.cancelled_at, term.sequence = TermState.CANCELLED, utcnow(), term.sequence + 1
    db.session.commit()
    event = read(ics.registration_invitation(registration, "CANCEL")).vevent
    assert event.status.value == "CANCELLED"
    assert event.summary.value.startswith("Zrušeno: ")
    with pytest.raises(ValueError):
        ics.registration_invitation(registration, "PUBLISH")


# --- daylight saving --------------------------------------------------------------------

DST_DAYS = [
    # Clocks go back at 03:00; at 09:00 Prague is UTC+1.
    pytest.param(datetime(2026, 10, 25, 9, 0), datetime(2026, 10, 25, 8, 0, tzinfo=UTC), id="25-10-2026"),
    # Clocks go forward at 02:00; at 09:00 Prague is UTC+2.
    pytest.param(datetime(2026, 3, 29, 9, 0), datetime(2026, 3, 29, 7, 0, tzinfo=UTC), id="29-3-2026"),
]


@pytest.mark.parametrize("local_start, utc_start", DST_DAYS)
def test_a_term_on_the_day_clocks_change_starts_at_nine_in_every_calendar(app, local_start, utc_start):
    term = term_on(local_start, hours=3.5)
    registration = make_registration(term)
    documents = [
        ics.registration_invitation(registration, "REQUEST"),
        ics.feed([term], "test"),
        ics.personal_feed([registration], "test"),
    ]
    for document in documents:
        start = read(document).vevent.dtstart.value
        assert (start.hour, start.minute) == (9, 0)
        assert start == utc_start
        assert read(document).vevent.dtend.value == utc_start + timedelta(hours=3.5)
    for parsed in icaljs(*documents):
        (event,) = parsed["events"]
        assert event["start"]["tzid"] == "Europe/Prague"
        assert event["start"]["local"] == local_start.isoformat()
        assert datetime.fromisoformat(event["start"]["utc"]) == utc_start
        assert datetime.fromisoformat(event["end"]["utc"]) == utc_start + timedelta(hours=3.5)


def test_the_vtimezone_agrees_with_the_tz_database_around_every_change_of_the_project(app):
    term = term_on(datetime(2026, 3, 29, 9, 0))
    tzinfo = read(ics.feed([term], "test")).vtimezone.gettzinfo()
    for year in (2026, 2027, 2028):
        for month in (3, 10):
            # Every half hour of the last week of the month, in UTC.
            start = datetime(year, month, 24, tzinfo=UTC)
            for step in range(8 * 48):
                instant = start + timedelta(minutes=30 * step)
                assert instant.astimezone(tzinfo).utcoffset() == instant.astimezone(PRAGUE).utcoffset(), instant


@pytest.mark.parametrize("local_start, utc_start", DST_DAYS)
def test_if_summer_time_rules_change_the_transitions_are_written_out(app, monkeypatch, local_start, utc_start):
    monkeypatch.setattr(ics, "_follows_eu_rule", lambda year: False)
    term = term_on(local_start)
    document = ics.feed([term], "test")
    assert "RRULE" not in document.decode()
    assert read(document).vevent.dtstart.value == utc_start
    (parsed,) = icaljs(document)
    assert parsed["events"][0]["start"]["local"] == local_start.isoformat()
    assert datetime.fromisoformat(parsed["events"][0]["start"]["utc"]) == utc_start


# --- public feeds ------------------------------------------------------------------------


def feed_uids(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return set(events(response.data))


def uid(term):
    return f"term-{term.id}@spod4.test"


def test_the_feed_of_all_terms_lists_public_terms_without_meeting_links(client):
    online = make_term()
    pardubice = in_pardubice()
    closed = make_term(public=False, signup_token="closed-one")
    recent = make_term(starts_in=timedelta(days=-10))
    old = make_term(starts_in=timedelta(days=-40))

    response = client.get("/kalendar.ics")
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="spod4-workshopy.ics"'
    cal = read(response.data)
    assert cal.method.value == "PUBLISH"
    assert cal.contents["x-wr-calname"][0].value == "SPOD4 – workshopy MPSV"
    assert cal.contents["name"][0].value == "SPOD4 – workshopy MPSV"
    assert cal.contents["refresh-interval"][0].value == "PT1H"
    # A term stays a while after it ends, so it does not vanish from calendars the day it happens.
    found = events(response.data)
    assert set(found) == {uid(online), uid(pardubice), uid(recent)}
    assert uid(closed) not in found and uid(old) not in found
    assert MEETING not in response.get_data(as_text=True)
    # A public calendar names nobody: no attendee, and no organiser that would make it a meeting.
    assert "ATTENDEE" not in response.get_data(as_text=True) and "ORGANIZER" not in response.get_data(as_text=True)
    event = found[uid(pardubice)]
    assert (event.status.value, event.location.value) == ("CONFIRMED", "Krajský úřad, Pardubice")
    (parsed,) = icaljs(response.data)
    assert parsed["x_wr_calname"] == "SPOD4 – workshopy MPSV"
    assert {e["uid"] for e in parsed["events"]} == {uid(online), uid(pardubice), uid(recent)}


def test_the_feed_of_a_workshop_lists_only_its_terms(client):
    ipod = make_term()
    other = in_pardubice()
    make_term(public=False, signup_token="closed-two")
    assert feed_uids(client, "/nabidka/od-analyzy-k-tvorbe-ipod/kalendar.ics") == {uid(ipod)}
    assert feed_uids(client, "/nabidka/rodicovske-spory/kalendar.ics") == {uid(other)}
    response = client.get("/nabidka/od-analyzy-k-tvorbe-ipod/kalendar.ics")
    assert read(response.data).contents["x-wr-calname"][0].value == "SPOD4 – Od analýzy k tvorbě IPOD"


def test_a_support_item_or_unknown_workshop_has_no_feed(client):
    support = db.session.scalars(select(Offer).where(Offer.kind == OfferKind.SUPPORT)).first()
    assert client.get(f"/nabidka/{support.slug}/kalendar.ics").status_code == 404
    assert client.get("/nabidka/neexistuje/kalendar.ics").status_code == 404


def test_the_feed_of_a_kraj_lists_its_terms_in_person_and_every_online_term(client):
    online = make_term()
    pardubice = in_pardubice()
    brno = make_term(slug="rodicovske-spory", form=TermForm.IN_PERSON, region=region("CZ064"), venue="Brno")
    closed = in_pardubice(public=False, signup_token="closed-three", restricted_region=region("CZ053"))
    assert feed_uids(client, "/kraj/pardubicky/kalendar.ics") == {uid(online), uid(pardubice)}
    assert feed_uids(client, "/kraj/jihomoravsky/kalendar.ics") == {uid(online), uid(brno)}
    assert uid(closed) not in feed_uids(client, "/kraj/pardubicky/kalendar.ics")
    name = read(client.get("/kraj/pardubicky/kalendar.ics").data).contents["x-wr-calname"][0].value
    assert name == "SPOD4 – Pardubický kraj a online"
    assert client.get("/kraj/atlantida/kalendar.ics").status_code == 404


def test_a_cancelled_term_stays_in_the_feed_as_cancelled_for_thirty_days(client):
    now = utcnow()
    recently = make_term(state=TermState.CANCELLED, cancelled_at=now - timedelta(days=29), sequence=1)
    long_ago = make_term(state=TermState.CANCELLED, cancelled_at=now - timedelta(days=31), sequence=1)
    body = client.get("/kalendar.ics").data
    found = events(body)
    assert uid(recently) in found and uid(long_ago) not in found
    event = found[uid(recently)]
    assert event.status.value == "CANCELLED"
    assert int(event.sequence.value) == 1
    assert event.summary.value == "Zrušeno: Od analýzy k tvorbě IPOD"
    (parsed,) = icaljs(body)
    assert parsed["events"][0]["status"] == "CANCELLED"


# --- the personal feed -------------------------------------------------------------------


def test_the_personal_feed_holds_her_confirmed_terms_with_the_meeting_link(client):
    online = make_term()
    pardubice = in_pardubice()
    waiting_term = make_term(slug="rodicovske-spory")
    called_off = make_term(slug="deti-s-potrebami-v-oblasti-chovani")
    mine = make_registration(online)
    also_mine = make_registration(pardubice, email="Jana.Novakova@mesto-litomysl.cz")
    make_registration(waiting_term, state=RegistrationState.WAITLISTED)
    cancelled_term_reg = make_registration(called_off)
    make_registration(online, email="someone.else@example.cz")
    called_off.state, called_off.cancelled_at = TermState.CANCELLED, utcnow()
    called_off.sequence += 1
    db.session.commit()
    token = issue_feed_link("jana.novakova@mesto-litomysl.cz")  # from her Moje vzdělávání page

    response = client.get(f"/moje-vzdelavani/kalendar/{token}.ics")
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    found = events(response.data)
    assert set(found) == {f"registration-{r.id}@spod4.test" for r in (mine, also_mine, cancelled_term_reg)}
    assert MEETING in found[f"registration-{mine.id}@spod4.test"].description.value
    cancelled = found[f"registration-{cancelled_term_reg.id}@spod4.test"]
    assert cancelled.status.value == "CANCELLED" and MEETING not in cancelled.description.value
    assert int(cancelled.sequence.value) == 1
    # The same event as the e-mailed invitation: same UID, same SEQUENCE.
    invitation = read(ics.registration_invitation(mine, "REQUEST")).vevent
    assert found[invitation.uid.value].sequence.value == invitation.sequence.value
    # The same organiser as the invitation, but her own feed does not list her as attendee.
    assert found[invitation.uid.value].organizer.value == invitation.organizer.value
    assert all("attendee" not in event.contents for event in found.values())
    (parsed,) = icaljs(response.data)
    assert parsed["x_wr_calname"] == "SPOD4 – moje workshopy"
    assert len(parsed["events"]) == 3


def test_the_personal_feed_drops_a_registration_she_cancelled_and_needs_a_valid_link(client):
    term = make_term()
    registration = make_registration(term)
    token = issue_link(registration)
    db.session.commit()
    feed = issue_feed_link(registration.email_normalized)
    assert set(events(client.get(f"/prihlaska/{token}/kalendar.ics").data)) == {f"registration-{registration.id}@spod4.test"}
    registration.state, registration.cancelled_at = RegistrationState.CANCELLED, utcnow()
    db.session.commit()
    assert events(client.get(f"/prihlaska/{token}/kalendar.ics").data) == {}
    assert events(client.get(f"/moje-vzdelavani/kalendar/{feed}.ics").data) == {}
    assert client.get("/prihlaska/not-a-token/kalendar.ics").status_code == 404
    assert client.get("/moje-vzdelavani/kalendar/not-a-token.ics").status_code == 404
    # A registration's token is not a feed token.
    assert client.get(f"/moje-vzdelavani/kalendar/{token}.ics").status_code == 404


# --- conditional requests -----------------------------------------------------------------


def test_an_unchanged_feed_answers_304_to_if_none_match_and_if_modified_since(client):
    term = make_term()
    first = client.get("/kalendar.ics")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/kalendar.ics").headers["ETag"] == etag  # the same bytes while nothing changes

    not_modified = client.get("/kalendar.ics", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert client.get("/kalendar.ics", headers={"If-Modified-Since": last_modified}).status_code == 304

    term.starts_at += timedelta(hours=1)
    term.ends_at += timedelta(hours=1)
    term.sequence += 1
    term.updated_at = utcnow() + timedelta(seconds=2)  # past the second the first answer named
    db.session.commit()
    changed = client.get("/kalendar.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/kalendar.ics", headers={"If-Modified-Since": last_modified}).status_code == 200


def test_a_term_ageing_out_of_the_feed_counts_as_a_change(client):
    now = utcnow()
    cancelled_at = now - timedelta(days=31)
    make_term(state=TermState.CANCELLED, cancelled_at=cancelled_at, updated_at=cancelled_at)
    response = client.get("/kalendar.ics")
    # It left the feed a day ago, long after its row last changed.
    last_modified = response.last_modified
    assert abs(last_modified - (cancelled_at + timedelta(days=30))) < timedelta(seconds=1)
    asked = (cancelled_at + timedelta(days=29)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/kalendar.ics", headers={"If-Modified-Since": asked}).status_code == 200


def test_the_personal_feed_answers_304_too(client):
    registration = make_registration(make_term())
    token = issue_link(registration)
    db.session.commit()
    for url in (f"/prihlaska/{token}/kalendar.ics",
                f"/moje-vzdelavani/kalendar/{issue_feed_link(registration.email_normalized)}.ics"):
        first = client.get(url)
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304


# --- links on pages ---------------------------------------------------------------------------


def test_subscribe_include_shows_both_links(app):
    with app.test_request_context():
        page = render_template_string(
            "{% with feed = feed_links('calendar.offer_terms', slug='od-analyzy-k-tvorbe-ipod'), "
            "feed_label = 'Od analýzy k tvorbě IPOD' %}{% include 'calendar/_subscribe.html' %}{% endwith %}",
            feed_links=feed_links,
        )
    assert 'href="webcal://spod4.test/nabidka/od-analyzy-k-tvorbe-ipod/kalendar.ics"' in page
    assert 'href="http://spod4.test/nabidka/od-analyzy-k-tvorbe-ipod/kalendar.ics"' in page
    assert "Odebírat kalendář" in page and "Stáhnout .ics" in page
    assert "soukromá" not in page
    with app.test_request_context():
        personal = render_template_string(
            "{% with feed = feed_links('calendar.personal', token='abc') %}"
            "{% include 'calendar/_subscribe.html' %}{% endwith %}",
            feed_links=feed_links,
        )
    assert "webcal://spod4.test/moje-vzdelavani/kalendar/abc.ics" in personal and "soukromá" in personal
    with app.test_request_context():
        one = render_template_string(
            "{% with feed = feed_links('calendar.registration', token='abc') %}"
            "{% include 'calendar/_subscribe.html' %}{% endwith %}",
            feed_links=feed_links,
        )
    assert "webcal://spod4.test/prihlaska/abc/kalendar.ics" in one and "soukromá" in one


def test_a_public_event_written_as_text_is_what_icalendar_writes_and_ical_js_reads_it(app):
    """Public feeds write their events as text (the library costs 0.7 ms an event, most of a big
    feed's first view). The bytes must be the library's for any text: escapes, Czech letters and
    escapes at every place a line is folded, cancelled, online and in person, with and without a venue."""
    from trainings.calendar.queries import FeedTerm, Named

    awkward = ["Žluťoučký kůň úpěl ďábelské ódy", "a,b;c\\d\\\\e", "řádek\nnový\r\nřádek", "^caret^", "ěš" * 40]
    start = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # the day the clocks change
    terms = []
    for shift in range(80):
        for n, text in enumerate(awkward):
            online = (shift + n) % 3 == 0
            terms.append(FeedTerm(
                id=shift * 10 + n, starts_at=start + timedelta(days=shift), ends_at=start + timedelta(days=shift, hours=3),
                form=TermForm.ONLINE if online else TermForm.IN_PERSON,
                venue=None if online or shift % 4 == 1 else "x" * shift + text, lecturer=text if shift % 2 else None,
                state=TermState.CANCELLED if (shift + n) % 2 else TermState.SCHEDULED, sequence=shift,
                updated_at=start - timedelta(minutes=shift, microseconds=n),
                offer=Named(title="x" * shift + text, slug="od-analyzy-k-tvorbe-ipod"),
                region=None if online else Named(name=text)))
    with app.test_request_context():
        for term in terms:
            cancelled = term.state == TermState.CANCELLED
            library = ics._event(term, uid=ics.term_uid(term), sequence=term.sequence, stamp=term.updated_at,
                                 status="CANCELLED" if cancelled else "CONFIRMED",
                                 note="Termín byl zrušen." if cancelled else None).to_ical()
            assert ics._write_public_event(term, None, {}) == library, term
        document = ics.feed(terms, "SPOD4 – test")
    (parsed,) = icaljs(document)
    by_uid = {e["uid"]: e for e in parsed["events"]}

    def shown(text):  # a line break is written as one \n, whichever it was typed as
        return text.replace("\r\n", "\n")

    for term in terms:
        event = by_uid[f"term-{term.id}@spod4.test"]
        cancelled = term.state == TermState.CANCELLED
        assert event["summary"] == shown(("Zrušeno: " if cancelled else "") + term.offer.title)
        assert event["location"] == shown("online" if term.is_online else term.venue or term.region.name)
        assert shown(term.lecturer or "") in event["description"]
        assert event["start"]["utc"] == term.starts_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
