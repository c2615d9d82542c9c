"""The public calendar feeds reach half a year ahead and a month back: a subscriber sees what she can
sign up for soon and last month's workshops stay in her calendar; the catalogue lists the rest.
A feed asked for again is the same bytes until something in it changes, and then it changes at once."""
from datetime import timedelta

import icalendar

from trainings.calendar import queries
from trainings.extensions import db
from trainings.models import TermState, utcnow

from .helpers import make_term


def uids(response) -> set[str]:
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    return {str(event["uid"]) for event in calendar.walk("VEVENT")}


def uid(term) -> str:
    return f"term-{term.id}@spod4.test"


def test_a_feed_holds_the_next_half_year_and_the_last_month(client):
    soon = make_term(starts_in=timedelta(days=7))
    in_five_months = make_term(starts_in=timedelta(days=150))
    in_seven_months = make_term(starts_in=timedelta(days=7 * 30))
    last_week = make_term(starts_in=timedelta(days=-7))
    two_months_ago = make_term(starts_in=timedelta(days=-60))
    for url in ("/kalendar.ics", "/nabidka/od-analyzy-k-tvorbe-ipod/kalendar.ics", "/kraj/pardubicky/kalendar.ics"):
        found = uids(client.get(url))
        assert {uid(soon), uid(in_five_months), uid(last_week)} <= found, url
        assert uid(in_seven_months) not in found and uid(two_months_ago) not in found, url


def test_a_feed_asked_again_changes_as_soon_as_a_term_does(client):
    term = make_term(starts_in=timedelta(days=7))
    first = client.get("/kalendar.ics")
    assert client.get("/kalendar.ics").data == first.data
    term.state, term.cancelled_at, term.sequence = TermState.CANCELLED, utcnow(), term.sequence + 1
    db.session.commit()
    again = client.get("/kalendar.ics")
    assert again.data != first.data and b"STATUS:CANCELLED" in again.data
    added = make_term(starts_in=timedelta(days=20))
    assert uid(added) in uids(client.get("/kalendar.ics"))


def test_coming_within_the_horizon_is_a_change_for_if_modified_since(app):
    """A term a day beyond the horizon, last edited a week ago: the horizon reaches it tomorrow,
    and Last-Modified says so from then on, although its row did not change."""
    now = utcnow()
    edited = now - timedelta(days=7)
    make_term(starts_in=queries.AHEAD + timedelta(days=1), updated_at=edited)
    today = queries.last_change(queries.feed_version(queries.all_public(), now))
    assert abs(today - edited) < timedelta(seconds=1)
    day_after = now + timedelta(days=2)
    later = queries.last_change(queries.feed_version(queries.all_public(), day_after))
    assert abs(later - (now + timedelta(days=1))) < timedelta(seconds=1)


def test_the_feed_is_the_calendar_icalendar_writes_for_the_same_terms(app):
    """Each event is written once and joined: the bytes are those of one Calendar holding them all."""
    from trainings import ics

    terms = [make_term(starts_in=timedelta(days=3), venue=None),
             make_term(slug="rodicovske-spory", starts_in=timedelta(days=40),
                       lecturer="Mgr. Eva Nová; PhDr. Jan Malý, Ph.D.")]
    terms[1].state, terms[1].cancelled_at = TermState.CANCELLED, utcnow()
    db.session.commit()
    ics.feed(terms, "SPOD4 – test")  # written once, kept
    expected = ics._calendar("PUBLISH", "SPOD4 – test")
    expected.add_component(ics.prague_timezone(terms))
    for term, status in ((terms[0], "CONFIRMED"), (terms[1], "CANCELLED")):
        expected.add_component(ics._event(
            term, uid=ics.term_uid(term), sequence=term.sequence, stamp=term.updated_at, status=status,
            note="Termín byl zrušen." if status == "CANCELLED" else None))
    assert ics.feed(terms, "SPOD4 – test") == expected.to_ical()
    # A change to a term shows at once, without its row's save time moving.
    terms[0].lecturer = "Bc. Jiná Lektorka"
    events = icalendar.Calendar.from_ical(ics.feed(terms, "SPOD4 – test")).walk("VEVENT")
    assert "Lektorské vedení: Bc. Jiná Lektorka" in str(events[0]["description"])


def test_a_workshop_renamed_in_the_back_office_is_renamed_in_the_feed_at_once(client):
    """The feed is kept while nothing in it changes; a published new title is a change."""
    from trainings.catalogue import editing
    from sqlalchemy import delete

    from trainings.models import OfferRevision, StaffRole

    from .staff_helpers import remove_user, staff_user

    term = make_term(starts_in=timedelta(days=7))
    before = client.get("/kalendar.ics").data.decode()
    organiser = staff_user("katalog.feed@example.cz", "Olga Katalogová", StaffRole.ORGANISER)
    try:
        offer = term.offer
        editing.save_draft(offer, {**editing.values_of(offer), "title": "Workshop přejmenovaný ve správě"}, organiser)
        editing.publish(offer, organiser)
        db.session.commit()
        after = client.get("/kalendar.ics").data.decode()
        assert "Workshop přejmenovaný ve správě" not in before
        assert "Workshop přejmenovaný ve správě" in after.replace("\r\n ", "")
    finally:
        # The catalogue itself is put back after every test (helpers.restore_catalogue); her versions go first.
        db.session.execute(delete(OfferRevision))
        db.session.commit()
        remove_user(organiser.id)
