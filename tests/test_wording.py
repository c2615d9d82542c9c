"""Czech that reads right: greetings in the vocative, weekdays in the case their preposition asks for."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.dates import format_date

from trainings import timefmt
from trainings.czech import greeting

from .helpers import template_files


@pytest.mark.parametrize(("name", "expected"), [
    ("Jana Nováková", "Dobrý den, paní Nováková,"),
    ("Petr Novák", "Dobrý den, pane Nováku,"),
    ("Ondřej Dvořák", "Dobrý den, pane Dvořáku,"),
    ("Karel Svoboda", "Dobrý den, pane Svobodo,"),
    ("Tomáš Kadlec", "Dobrý den, pane Kadleci,"),
    ("Jiří Černý", "Dobrý den, pane Černý,"),
    ("Eva Černá", "Dobrý den, paní Černá,"),
    # Titles are not part of the name; capitals are not shouted back.
    ("Mgr. Jana Nováková, DiS.", "Dobrý den, paní Nováková,"),
    ("Ing. Petr Hájek, Ph.D.", "Dobrý den, pane Hájku,"),
    ("JAN NOVÁK", "Dobrý den, pane Nováku,"),
    # Two surnames.
    ("Kristýna Jůzová Kotalová", "Dobrý den, paní Jůzová Kotalová,"),
    ("Jan Novák-Svoboda", "Dobrý den, pane Nováku-Svobodo,"),
])
def test_people_are_greeted_by_surname_in_the_vocative(name, expected):
    assert greeting(name) == expected


@pytest.mark.parametrize("name", [
    "Andrea Müller",     # a woman's first name, a surname with no female ending
    "John Doe",          # the words disagree
    "Nguyen Thi Lan",    # Vietnamese order and names
    "Martina Krejčí",    # an indeclinable surname shared by men and women
    "Nováková Jana",     # surname first: "paní Jana" would be wrong
    "Jana",              # one word
    "Účastnice 3",       # not a name
    "",
    None,
])
def test_where_the_gender_cannot_be_told_the_greeting_stays_neutral(name):
    assert greeting(name) == "Dobrý den,"


# 2026-03-09 is a Monday; noon UTC is the same day in Prague.
WEEK = [datetime(2026, 3, 9, 12, tzinfo=timezone.utc) + timedelta(days=i) for i in range(7)]


@pytest.mark.parametrize(("case", "days"), [
    ("nominative", "pondělí úterý středa čtvrtek pátek sobota neděle"),
    # od, do, během
    ("genitive", "pondělí úterý středy čtvrtka pátku soboty neděle"),
    # k
    ("dative", "pondělí úterý středě čtvrtku pátku sobotě neděli"),
    # v/ve, na, za, pro
    ("accusative", "pondělí úterý středu čtvrtek pátek sobotu neděli"),
    # po, o
    ("locative", "pondělí úterý středě čtvrtku pátku sobotě neděli"),
    # před, mezi
    ("instrumental", "pondělím úterým středou čtvrtkem pátkem sobotou nedělí"),
])
def test_every_weekday_in_every_case(case, days):
    assert [timefmt.weekday(day, case) for day in WEEK] == days.split()


def test_the_nominative_is_babels_and_dates_after_od_take_the_genitive():
    assert [timefmt.weekday(day) for day in WEEK] == [format_date(day, "EEEE", locale="cs") for day in WEEK]
    thursday = WEEK[3]
    assert timefmt.date_time(thursday) == "čtvrtek 12. 3. 2026, 13:00"
    assert "od " + timefmt.date_time(thursday, "genitive") == "od čtvrtka 12. 3. 2026, 13:00"
    assert "do " + timefmt.date_only(WEEK[2], "genitive") == "do středy 11. 3. 2026"
    # Late on Sunday in UTC is already Monday in Prague.
    assert timefmt.weekday(datetime(2026, 3, 15, 23, 30, tzinfo=timezone.utc), "genitive") == "pondělí"


def test_no_region_name_is_pasted_after_a_preposition_that_would_decline_it():
    """Region names are stored in the nominative ("Pardubický kraj"): "z kraje Pardubický kraj"
    reads wrong, so they follow a colon instead ("z tohoto kraje: Pardubický kraj")."""
    root = Path(__file__).resolve().parent.parent
    pasted = re.compile(r"\b(?:z|do|ke?|ve?|pro|za|o|po)\s+kraj[ei]?\s+\{")
    found = [f"{path.relative_to(root)}: {line.strip()}"
             for folder in ("templates", "trainings")
             for path in (root / folder).rglob("*") if path.suffix in {".html", ".txt", ".py"}
             for line in path.read_text(encoding="utf-8").splitlines() if pasted.search(line)]
    assert found == []


def test_a_term_after_na_or_pro_takes_the_accusative():
    wednesday, saturday = WEEK[2], WEEK[5]
    assert timefmt.term_span(wednesday, wednesday + timedelta(hours=3), "accusative") == (
        "středu 11. 3. 2026, 13:00–16:00")
    assert timefmt.term_span(saturday, saturday + timedelta(days=1), "accusative") == (
        "sobotu 14. 3. 2026, 13:00 – neděli 15. 3. 2026, 13:00")


def test_no_date_filter_follows_a_preposition_in_the_nominative():
    """A date filter after "od", "do", "na", "ve" … must name its case: date_time('genitive')."""
    root = Path(__file__).resolve().parent.parent
    pasted = re.compile(r"\b(?:od|do|na|ve?|pro|po|před|ke?|za)\s+(?:<[^>]+>)?\{\{\s*"
                        r"(?:term_span\([^,)]*,[^,)]*\)\s*\}\}|[^}|]*\|\s*(?:date_time|date_only)\s*\}\})")
    found = [f"{path.relative_to(root)}: {line.strip()}"
             for path in template_files(".html", ".txt")
             for line in path.read_text(encoding="utf-8").splitlines()
             if pasted.search(line) and "'nominative'" not in line]
    assert found == []
