"""The back office's lists say in words what needs attention: a term running now "probíhá", one that
is over "proběhl", a request asked as urgent or waiting too long "spěchá"."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from trainings.extensions import db
from trainings.models import Offer, OfferKind, RequestState, StaffRole, TermForm, Urgency, User, utcnow
from trainings.requests import service

from .helpers import empty_tables, make_term, orp, region
from .staff_helpers import organiser_client, staff_client

PARDUBICE = "svetluse.kotrcova@mpsv.gov.cz"  # the coordinator of Pardubický kraj (seed)


@pytest.fixture(autouse=True)
def clean(app):
    yield
    empty_tables()
    db.session.execute(update(User).where(User.role == StaffRole.COORDINATOR).values(password_hash=None))
    db.session.commit()


def row_of(html: str, term_id: int) -> str:
    return re.search(rf'<tr>\s*<td data-label="Termín">\s*<a href="/sprava/terminy/{term_id}">.*?</tr>',
                     html, re.S).group(0)


def state_cell(row: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", re.search(r'data-label="Stav">(.*?)</td>', row, re.S).group(1)).split())


def test_a_term_running_now_says_probiha_and_one_that_ended_says_probehl(app):
    running = make_term(starts_in=-timedelta(hours=1), hours=3)
    coming = make_term(starts_in=timedelta(days=3))
    ended = make_term(starts_in=-timedelta(hours=5), hours=3)
    client = organiser_client(app)

    start_page = client.get("/sprava/").get_data(as_text=True)
    assert state_cell(row_of(start_page, running.id)) == "probíhá, veřejný"
    assert state_cell(row_of(start_page, coming.id)) == "veřejný"
    assert state_cell(row_of(start_page, ended.id)) == "proběhl, veřejný"  # earlier today

    upcoming = client.get("/sprava/terminy/").get_data(as_text=True)
    assert state_cell(row_of(upcoming, running.id)) == "probíhá, veřejný"
    past = client.get("/sprava/terminy/?obdobi=probehle").get_data(as_text=True)
    assert state_cell(row_of(past, ended.id)) == "proběhl, veřejný"


def _support(urgency, now=None):
    A2 = db.session.scalars(select(Offer).where(Offer.kind == OfferKind.SUPPORT).order_by(Offer.position)).first()
    return service.submit_support(
        service.Requester("Marie Dvořáková", "marie@litomysl.cz", "MěÚ Litomyšl"),
        service.Support(region("CZ053").id, orp("Litomyšl").id, (A2.id,), "Situace.", TermForm.ONLINE, urgency),
        now=now,
    ).request


def test_an_urgent_request_or_one_waiting_too_long_says_specha(app):
    month_ago = utcnow() - timedelta(days=30)
    urgent = _support(Urgency.URGENT)
    soon = _support(Urgency.SOON)
    normal = _support(Urgency.NORMAL)
    waiting_long = _support(Urgency.NORMAL, now=month_ago)
    urgent_but_rejected = _support(Urgency.URGENT)
    service.transition(urgent_but_rejected.id, RequestState.REJECTED, urgent_but_rejected.coordinator,
                       "Mimo projekt.")

    listing = staff_client(app, PARDUBICE).get("/sprava/zadosti/?stav=vse").get_data(as_text=True)
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(
        r'<tr class="[^"]*">\s*<td[^>]*><a href="/sprava/zadosti/(\d+)">.*?</tr>', listing, re.S)}
    for pressing in (urgent, soon, waiting_long):
        assert "<strong class=\"pressing\">spěchá</strong>" in rows[pressing.id]
    for calm in (normal, urgent_but_rejected):
        assert "spěchá</strong>" not in rows[calm.id]
