"""Journey 1: Jana sees until when she can sign up, on the catalogue, the workshop's page and the form:
"Přihlášky do čtvrtka 12. března" (a weekday and a month after "do" take the genitive)."""
import re
from datetime import datetime, time, timedelta

from trainings.timefmt import PRAGUE, until

from .helpers import form_url, make_term, offer

MONTHS = ("ledna", "února", "března", "dubna", "května", "června", "července", "srpna", "září", "října",
          "listopadu", "prosince")
WEEKDAYS = ("pondělí", "úterý", "středy", "čtvrtka", "pátku", "soboty", "neděle")


def test_a_deadline_reads_in_the_genitive_with_the_time_only_when_it_is_not_the_end_of_the_day():
    in_2026 = datetime(2026, 1, 5, 10, 0, tzinfo=PRAGUE)
    thursday_night = datetime(2026, 3, 12, 23, 59, tzinfo=PRAGUE)
    assert until(thursday_night, now=in_2026) == "do čtvrtka 12. března"
    assert until(thursday_night, now=datetime(2025, 12, 1, tzinfo=PRAGUE)) == "do čtvrtka 12. března 2026"
    assert until(datetime(2026, 3, 11, 12, 0, tzinfo=PRAGUE), now=in_2026) == "do středy 11. března, 12:00"
    assert until(datetime(2026, 11, 1, 23, 59, tzinfo=PRAGUE), now=in_2026) == "do neděle 1. listopadu"
    assert until(datetime(2026, 6, 1, 23, 59, tzinfo=PRAGUE), now=in_2026) == "do pondělí 1. června"


def test_the_catalogue_the_workshop_page_and_the_form_say_until_when_she_can_sign_up(client):
    # Sign-up closes at the end of a day a week ahead; the term is two days later.
    day = (datetime.now(PRAGUE) + timedelta(days=7)).date()
    closes = datetime.combine(day, time(23, 59), PRAGUE)
    starts = datetime.combine(day + timedelta(days=2), time(9, 0), PRAGUE)
    term = make_term(starts_in=starts - datetime.now(PRAGUE), registration_deadline=closes)
    expected = f"Přihlášky do {WEEKDAYS[day.weekday()]} {day.day}. {MONTHS[day.month - 1]}"
    if day.year != datetime.now(PRAGUE).year:
        expected += f" {day.year}"
    # A term without a deadline closes at its start, which the table already shows.
    no_deadline = make_term(starts_in=timedelta(days=20))

    def text(url):
        html = client.get(url).get_data(as_text=True)
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    for url in ("/", f"/nabidka/{offer().slug}"):
        page = text(url)
        assert expected in page, url
        assert page.count("Přihlášky do ") == 1, url
    assert expected in text(form_url(term))
    assert "Přihlášky do" not in text(form_url(no_deadline))
