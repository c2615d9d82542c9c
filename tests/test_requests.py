"""Journey 2 of PRODUCT.md: a kraj asks for a workshop "na klíč" (or methodical
support A1–A7, or a package of kraj items 1–12).

The request reaches the MPSV coordinator of that kraj and nobody else, moves
through its states with a history, and an agreed workshop becomes a closed
term that only the kraj's people can sign up for, through a private link.
Everything goes through HTTP the way a browser does; the database and the
outbox are checked afterwards. The working-day clock is tested on its own.
"""
import re
from dataclasses import replace
from types import SimpleNamespace
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import delete, select, update

from trainings.extensions import db
from trainings.models import (
    AuditEntry,
    Registration,
    RegistrationState,
    RequestEventKind,
    RequestKind,
    RequestState,
    REQUEST_TRANSITIONS,
    StaffRole,
    SupportRequest,
    Term,
    TermForm,
    Urgency,
    User,
    utcnow,
)
from trainings.requests import service
from trainings.terms.service import TermData
from trainings.timefmt import PRAGUE
from trainings.workdays import add_working_days, is_overdue, working_days_between

from .helpers import csrf, empty_tables, offer, only_message, orp, outbox, post_form, region
from .staff_helpers import staff_client as log_in

PARDUBICE = "svetluse.kotrcova@mpsv.gov.cz"  # Pardubický kraj (seed 004)
BRNO = "silvie.pazderova@mpsv.gov.cz"  # Jihomoravský kraj
ALENA = "alena.svobodova1@mpsv.gov.cz"  # Kraj Vysočina and Olomoucký kraj
REQUESTER = "marie.dvorakova@pardubickykraj.cz"
ADMIN = "spravce@mpsv.example"
MARKER = "B213XQ"  # in the closed term's venue: must show up in no public listing
FOLLOW_LINK = re.compile(r"http://spod4\.test(/zadost/[A-Za-z0-9_-]{20,})")


# A server error comes back as the 500 page a person would see (conftest.py), so a
# test sees it as a status, never as a pass.
pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


@pytest.fixture(autouse=True)
def clean(app):
    """The administrator a test logged in as goes again; the rows that point at her go first."""
    yield
    empty_tables()
    db.session.execute(delete(User).where(User.email.in_([ADMIN])))
    # The seeded coordinators start without passwords (tests/test_staff_auth.py relies on it).
    db.session.execute(update(User).where(User.role == StaffRole.COORDINATOR).values(password_hash=None))
    db.session.commit()


# --- helpers: what a browser does -----------------------------------------------


def post_item(client, detail, item, **values):
    prefix = f"item{item.id}"
    return post_form(client, f"{detail}/polozka/{item.id}/stav", {f"{prefix}-{k}": v for k, v in values.items()},
                     detail, prefix)


messages = outbox  # the journey's word for it


def the_request():
    db.session.rollback()
    return db.session.scalars(select(SupportRequest)).one()


def page_text(response):
    return response.get_data(as_text=True)


def field_error(html, field):
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def workshop_request(**overrides):
    """What Marie from the Pardubice regional office types into the "na klíč" form."""
    data = {
        "name": "Marie Dvořáková",
        "email": REQUESTER,
        "phone": "+420 466 026 111",
        "organisation": "Krajský úřad Pardubického kraje, odbor sociálních věcí",
        "region": region("CZ053").id,
        "orp": "",
        "topic_offer": offer("od-analyzy-k-tvorbe-ipod").id,
        "topic_text": "",
        "participant_needs": "Sjednotit postup při tvorbě IPOD napříč ORP kraje.",
        "expected_participants": "24",
        "preferred_dates": "březen nebo duben, ne v pátek",
        "form": "prezencni",
        "place": "Komenského náměstí 125, Pardubice",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit_workshop_request(client, **overrides):
    response = post_form(client, "/zadost/workshop-na-klic", workshop_request(**overrides))
    assert response.status_code == 302, page_text(response)[:3000]
    return response


def participant(n, region_code="CZ053", orp_name="Litomyšl"):
    return {
        "name": f"Účastnice {n}",
        "email": f"ucastnice{n}@ospod.cz",
        "employer_type": "ospod",
        "region": region(region_code).id,
        "orp": orp(orp_name).id,
        "job_title": "sociální pracovnice",
        "consent": "y",
    }


def unfolded(response):
    """The body as text; iCalendar lines folded at 75 octets are joined again. An image
    (/favicon.ico) has no text to leak a term through."""
    if not response.mimetype.startswith(("text/", "application/")):
        return ""
    return page_text(response).replace("\r\n ", "").replace("\n ", "")


# --- journey 2, end to end ------------------------------------------------------


def test_a_workshop_na_klic_from_pardubicky_kraj_becomes_a_closed_term_for_its_people(app):
    # 1. Marie from the Pardubice regional office finds the form from the catalogue.
    requester = app.test_client()
    offer_page = page_text(requester.get("/nabidka/workshopy-na-klic"))
    assert "/zadost/workshop-na-klic" in offer_page
    form = page_text(requester.get("/zadost/workshop-na-klic"))
    assert "Žádost o workshop „na klíč“" in form and "Od analýzy k tvorbě IPOD" in form
    response = submit_workshop_request(requester)

    # She lands on her private page and gets a confirmation with its link.
    follow_path = urlsplit(response.headers["Location"]).path
    html = page_text(requester.get(follow_path))
    assert "Žádost jsme přijali" in html and "Stav: <strong>nová</strong>" in html
    assert "Světluše Kotrčová" in html
    received = only_message("request_received", REQUESTER)
    assert "Žádost přijata" in received.subject and "Pardubický kraj" in received.subject
    assert "Světluše Kotrčová" in received.body_text
    link = FOLLOW_LINK.search(received.body_text).group(1)
    assert "nová" in page_text(app.test_client().get(link))

    # 2. It reaches the Pardubice coordinator, and nobody else.
    req = the_request()
    assert (req.kind, req.state, req.region.code, req.coordinator.email) == (
        RequestKind.CUSTOM_WORKSHOP, RequestState.NEW, "CZ053", PARDUBICE)
    assert req.topic == "Od analýzy k tvorbě IPOD" and req.expected_participants == 24
    assert req.consent_at is not None and req.consent_version == app.config["CONSENT_VERSION"]
    assert {m.recipient for m in messages()} == {REQUESTER, PARDUBICE}
    notice = only_message("request_new", PARDUBICE)
    assert "Nová žádost: workshop na klíč – Pardubický kraj" == notice.subject
    assert f"http://spod4.test/sprava/zadosti/{req.id}" in notice.body_text
    assert "Sjednotit postup při tvorbě IPOD" in notice.body_text

    coordinator = log_in(app, PARDUBICE)
    listing = page_text(coordinator.get("/sprava/zadosti/"))
    assert f'/sprava/zadosti/{req.id}"' in listing and "Marie Dvořáková" in listing
    assert "Po lhůtě" not in listing
    assert "Marie Dvořáková" in page_text(coordinator.get(f"/sprava/zadosti/{req.id}"))
    other = log_in(app, BRNO)
    assert "Marie Dvořáková" not in page_text(other.get("/sprava/zadosti/"))
    assert other.get(f"/sprava/zadosti/{req.id}").status_code == 403
    assert post_form(other, f"/sprava/zadosti/{req.id}/stav", {"to_state": "v_reseni"},
                     form_url="/sprava/zadosti/").status_code == 403

    # 3. It moves through its states, with comments internal and visible.
    detail = f"/sprava/zadosti/{req.id}"
    assert post_form(coordinator, f"{detail}/stav", {"to_state": "v_reseni"}, detail).status_code == 302
    refused = post_form(coordinator, f"{detail}/stav", {"to_state": "uzavreno"}, detail)
    assert refused.status_code == 422
    assert "Ze stavu „v řešení“ nelze přejít do stavu „uzavřeno“." in page_text(refused)
    post_form(coordinator, f"{detail}/komentar", {"text": "Lektorka Horáková má volno jen v dubnu."}, detail)
    post_form(coordinator, f"{detail}/komentar",
              {"text": "Navrhujeme úterý 13. dubna, 9–12:30, na krajském úřadě.", "visible": "y"}, detail)
    assert post_form(coordinator, f"{detail}/stav", {"to_state": "dohodnuto", "text": "Termín potvrzen."},
                     detail).status_code == 302

    updates = messages("request_updated", REQUESTER)
    assert [m.subject for m in updates] == [
        "Vaše žádost (workshop na klíč): v řešení",
        "Vaše žádost (workshop na klíč): nová zpráva",
        "Vaše žádost (workshop na klíč): dohodnuto",
    ]
    assert "Navrhujeme úterý 13. dubna" in updates[1].body_text
    assert all("Horáková" not in m.body_text for m in messages())  # the internal note stays inside
    # The requester follows it on her page: states and the visible comment, not the internal one.
    html = page_text(requester.get(follow_path))
    assert "Stav: <strong>dohodnuto</strong>" in html and "Navrhujeme úterý 13. dubna" in html
    assert "Horáková" not in html
    assert "Horáková" in page_text(coordinator.get(detail))

    req = the_request()
    assert req.answered_at is not None
    history = [(e.kind, e.from_state, e.to_state, e.actor.email if e.actor else None, e.visible_to_requester)
               for e in req.events]
    assert history == [
        (RequestEventKind.SUBMITTED, None, RequestState.NEW, None, True),
        (RequestEventKind.STATE, RequestState.NEW, RequestState.IN_PROGRESS, PARDUBICE, True),
        (RequestEventKind.COMMENT, None, None, PARDUBICE, False),
        (RequestEventKind.COMMENT, None, None, PARDUBICE, True),
        (RequestEventKind.STATE, RequestState.IN_PROGRESS, RequestState.AGREED, PARDUBICE, True),
    ]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "support_requests").order_by(AuditEntry.id)
    ).all()
    assert actions == ["request.state_changed", "request.commented", "request.commented", "request.state_changed"]

    # 4. The agreed request becomes a closed term, limited to Pardubický kraj.
    term_page = page_text(coordinator.get(f"{detail}/termin"))
    assert "jen pracovníci z tohoto kraje: Pardubický kraj" in term_page
    day = (datetime.now(PRAGUE) + timedelta(days=30)).date()
    response = post_form(coordinator, f"{detail}/termin", {
        "offer": offer("od-analyzy-k-tvorbe-ipod").id,
        "day": day.isoformat(), "start": "09:00", "end": "12:30",
        "form": "prezencni", "region": region("CZ053").id,
        "venue": f"Krajský úřad Pardubice, sál {MARKER}",
        "capacity": "2", "per_orp_limit": "", "deadline": "", "lecturer": "Mgr. Jana Horáková",
        "restriction": "kraj",
    })
    assert response.status_code == 302, page_text(response)[:3000]
    db.session.rollback()
    term = db.session.scalars(select(Term)).one()
    assert (term.public, term.request_id, term.restricted_region.code, term.restricted_orp_id) == (
        False, req.id, "CZ053", None)
    assert term.signup_token and term.starts_at.astimezone(PRAGUE).hour == 9
    assert the_request().state == RequestState.SCHEDULED
    scheduled = only_message("request_term_created", REQUESTER)
    signup_link = f"http://spod4.test/prihlaska-na-termin/{term.signup_token}"
    assert signup_link in scheduled.body_text
    assert "Přihlásit se mohou jen pracovníci z tohoto kraje: Pardubický kraj." in scheduled.body_text
    assert signup_link in page_text(requester.get(follow_path))
    assert f"/prihlaska-na-termin/{term.signup_token}" in page_text(coordinator.get(detail))

    # 5. It is in no public listing, feed or API answer.
    assert_absent_from_public_pages(app, term)

    # 6. A person from the kraj signs up through the private link; the usual rules hold.
    signup = f"/prihlaska-na-termin/{term.signup_token}"
    form = page_text(app.test_client().get(signup))
    assert "Tento termín je uzavřený" in form and "jen pro pracovníky z tohoto kraje: Pardubický kraj" in form
    assert f'action="{signup}"' in form
    for n in (1, 2, 3):
        response = post_form(app.test_client(), signup, participant(n))
        assert response.status_code == 302, page_text(response)[:3000]
    db.session.rollback()
    states = db.session.scalars(select(Registration.state).order_by(Registration.id)).all()
    assert states == [RegistrationState.CONFIRMED, RegistrationState.CONFIRMED, RegistrationState.WAITLISTED]
    confirmation = only_message("registration_confirmed", "ucastnice1@ospod.cz")
    assert MARKER in confirmation.body_text
    only_message("registration_waitlisted", "ucastnice3@ospod.cz")

    # A person from another kraj is refused, with the reason next to the kraj field, and what she typed kept.
    refused = post_form(app.test_client(), signup, participant(4, "CZ064", "Blansko"))
    html = page_text(refused)
    assert refused.status_code == 422
    assert field_error(html, "region") == "Tento termín je určen jen pro pracovníky z tohoto kraje: Pardubický kraj."
    assert 'value="Účastnice 4"' in html
    assert not messages(to="ucastnice4@ospod.cz")

    # The coordinator sees the registrations, then closes the request.
    assert "Obsazenost: 2 z 2 míst, na čekací listině: 1." in page_text(coordinator.get(detail))
    assert post_form(coordinator, f"{detail}/stav", {"to_state": "uzavreno"}, detail).status_code == 302
    html = page_text(requester.get(follow_path))
    assert "Stav: <strong>uzavřeno</strong>" in html and "Napsat zprávu k žádosti" not in html


def assert_absent_from_public_pages(app, term):
    """Walks the URL map: every public GET page without arguments (catalogue, feeds, API),
    and those taking a slug or a term id, filled for this term's workshop and kraj."""
    client = app.test_client()
    checked = []
    fills = {"slug": [term.offer.slug, term.restricted_region.slug], "term_id": [term.id]}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/sprava", "/static")):
            continue
        if not set(rule.arguments) <= set(fills):
            continue  # private links (tokens) are not public listings
        values = [{}] if not rule.arguments else [
            {name: value} for name in rule.arguments for value in fills[name]
        ]
        for args in values:
            with app.test_request_context():
                url = url_for(rule.endpoint, **args)
            response = client.get(url)
            checked.append(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            body = unfolded(response)
            assert MARKER not in body, url
            assert f"/termin/{term.id}/" not in body, url
            assert term.signup_token not in body, url
    assert {"/", "/kalendar.ics", "/kraj/pardubicky/kalendar.ics", "/api/v1/terms",
            "/nabidka/od-analyzy-k-tvorbe-ipod"} <= set(checked)
    assert client.get(f"/termin/{term.id}/prihlaska").status_code == 404


def test_a_closed_term_is_reachable_only_through_its_own_link(app):
    workshop, litomysl = offer(), orp("Litomyšl")
    starts = utcnow() + timedelta(days=9)
    term = Term(offer=workshop, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
                capacity=5, public=False, signup_token="tajny-odkaz-1234567890", restricted_orp_id=litomysl.id)
    db.session.add(term)
    db.session.commit()
    client = app.test_client()
    assert client.get("/prihlaska-na-termin/jiny-odkaz").status_code == 404
    assert client.get(f"/prihlaska-na-termin/{'x' * 200}").status_code == 404
    html = page_text(client.get("/prihlaska-na-termin/tajny-odkaz-1234567890"))
    # An ORP restriction is explained, and the form starts at that ORP.
    assert "jen pro pracovníky z ORP Litomyšl" in html
    assert f'<option selected value="{litomysl.id}">' in html
    # It offers no other: one kraj, one ORP (the walk found every kraj listed).
    raw = client.get("/prihlaska-na-termin/tajny-odkaz-1234567890").get_data(as_text=True)
    orp_select = raw[raw.index('name="orp"'):raw.index("</select>", raw.index('name="orp"'))]
    region_select = raw[raw.index('name="region"'):raw.index("</select>", raw.index('name="region"'))]
    assert "Litomyšl" in orp_select and "Svitavy" not in orp_select
    assert "Pardubický kraj" in region_select and "Jihomoravský kraj" not in region_select
    refused = post_form(client, "/prihlaska-na-termin/tajny-odkaz-1234567890", participant(1, orp_name="Svitavy"))
    assert field_error(page_text(refused), "orp") == "Tento termín je určen jen pro pracovníky z ORP Litomyšl."


# --- the other two forms --------------------------------------------------------------


def test_an_ospod_asks_for_support_a2_and_a5_and_is_reminded_not_to_write_personal_data(app):
    client = app.test_client()
    page = page_text(client.get("/metodicka-podpora"))
    assert "Formulář žádosti o podporu bude doplněn" not in page
    assert "/zadost/metodicka-podpora?polozka=konzultace-individualnich-pripadu" in page

    form = page_text(client.get("/zadost/metodicka-podpora?polozka=konzultace-individualnich-pripadu"))
    assert "nepište sem jména, data narození" in form
    a2 = offer("konzultace-individualnich-pripadu").id
    assert re.search(rf'<input checked id="items-\d" name="items" type="checkbox" value="{a2}">', form)

    data = {
        "name": "Petra Malá", "email": "petra.mala@jihlava-city.cz", "organisation": "OSPOD Jihlava",
        "region": region("CZ063").id, "orp": orp("Jihlava").id,
        "situation": "Opakovaně řešíme péči o batolata v rodinách s duševním onemocněním rodiče.",
        "form": "online", "urgency": "brzy", "consent": "y",
    }
    # Without any item, without consent, with a bad e-mail: Czech messages, nothing lost.
    bad = post_form(client, "/zadost/metodicka-podpora", {**data, "email": "petra@", "consent": ""})
    html = page_text(bad)
    assert bad.status_code == 422
    assert field_error(html, "items") == "Vyberte alespoň jednu položku A1–A7."
    assert field_error(html, "email").startswith("Zadejte platnou e-mailovou adresu")
    assert field_error(html, "consent") == "Bez souhlasu se zpracováním údajů nelze žádost přijmout."
    assert "Opakovaně řešíme péči o batolata" in html
    assert not messages()

    a5 = offer("nastaveni-a-vyuziti-sluzeb-pro-rodiny-a-deti").id
    response = client.post("/zadost/metodicka-podpora", data={
        "csrf_token": csrf(html), **data, "items": [a2, a5]})
    assert response.status_code == 302, page_text(response)[:3000]

    req = the_request()
    assert (req.kind, req.orp.name, req.preferred_form_label, req.urgency.label) == (
        RequestKind.SUPPORT, "Jihlava", "online", "spěchá – nejlépe do 14 dnů")
    assert [item.offer.code for item in req.items] == ["A2", "A5"]
    # Vysočina's coordinator also covers Olomoucký kraj: she gets it, and sees requests of both.
    assert {m.recipient for m in messages()} == {"petra.mala@jihlava-city.cz", ALENA}
    olomouc = service.submit_support(
        service.Requester("Jan Novák", "jan.novak@olomouc.eu", "OSPOD Olomouc"),
        service.Support(region("CZ071").id, orp("Olomouc").id, (a2,), "Kazuistika batolete.",
                        TermForm.IN_PERSON, Urgency.NORMAL),
    ).request
    assert olomouc.coordinator.email == ALENA
    listing = page_text(log_in(app, ALENA).get("/sprava/zadosti/"))
    assert "OSPOD Jihlava" in listing and "OSPOD Olomouc" in listing
    assert "OSPOD Olomouc" not in page_text(log_in(app, PARDUBICE).get("/sprava/zadosti/"))
    listing = page_text(log_in(app, ADMIN).get("/sprava/zadosti/"))
    assert "OSPOD Jihlava" in listing and "OSPOD Olomouc" in listing


def test_a_kraj_package_is_one_request_whose_items_are_followed_each_on_its_own(app):
    client = app.test_client()
    offer_page = page_text(client.get("/nabidka-pro-kraje"))
    assert "/zadost/balicek-pro-kraj?polozka=" in offer_page
    form = page_text(client.get("/zadost/balicek-pro-kraj"))
    assert "A. Metodická podpora, síť služeb a monitoring" in form
    assert "C. Participace dětí a mezikrajská spolupráce" in form

    items = _region_items("2", "6", "10")
    data = {
        "name": "Tomáš Beneš", "email": "tomas.benes@kraj-lbc.cz", "organisation": "Krajský úřad Libereckého kraje",
        "region": region("CZ051").id, "consent": "y", "items": list(items.values()),
        f"note_{items['2']}": "Chybí nám služby pro rodiny s dětmi do 7 let na Frýdlantsku.",
        f"note_{items['10']}": "Rádi bychom na jaře 2027.",
        "note": "Kontakt také přes sekretariát odboru.",
    }
    response = post_form(client, "/zadost/balicek-pro-kraj", data)
    assert response.status_code == 302, page_text(response)[:3000]
    req = the_request()
    assert req.kind == RequestKind.REGION_PACKAGE and req.coordinator.email == "iveta.majerova1@mpsv.gov.cz"
    notes = {item.offer.code: (item.note, item.state) for item in req.items}
    assert notes == {
        "2": ("Chybí nám služby pro rodiny s dětmi do 7 let na Frýdlantsku.", RequestState.NEW),
        "6": (None, RequestState.NEW),
        "10": ("Rádi bychom na jaře 2027.", RequestState.NEW),
    }

    coordinator = log_in(app, "iveta.majerova1@mpsv.gov.cz")
    detail = f"/sprava/zadosti/{req.id}"
    item = {i.offer.code: i for i in req.items}
    refused = post_item(coordinator, detail, item["6"], to_state="zamitnuto")
    assert refused.status_code == 422 and "Uveďte důvod zamítnutí" in page_text(refused)
    rejected = post_item(coordinator, detail, item["6"], to_state="zamitnuto",
                         text="Kompetenční model kraj už zavedl v roce 2026.")
    assert rejected.status_code == 302
    assert post_item(coordinator, detail, item["2"], to_state="v_reseni").status_code == 302

    req = the_request()
    assert {i.offer.code: i.state for i in req.items} == {
        "2": RequestState.IN_PROGRESS, "6": RequestState.REJECTED, "10": RequestState.NEW}
    assert req.state == RequestState.NEW and req.answered_at is not None
    assert [m.subject for m in messages("request_updated")] == [
        "Vaše žádost (balíček podpory pro kraj): změna u položky"] * 2
    html = page_text(app.test_client().get(FOLLOW_LINK.search(messages("request_updated")[0].body_text).group(1)))
    assert "Kompetenční model kraj už zavedl" in html

    # Closing the request closes the items still open, each with its own history entry.
    service.transition(req.id, RequestState.IN_PROGRESS, req.coordinator)
    service.transition(req.id, RequestState.REJECTED, req.coordinator, "Kraj žádost stáhl.")
    req = the_request()
    assert {i.offer.code: i.state for i in req.items} == {
        "2": RequestState.REJECTED, "6": RequestState.REJECTED, "10": RequestState.REJECTED}
    assert req.rejection_reason == "Kraj žádost stáhl."
    with pytest.raises(service.RequestError):
        service.transition_item(req.id, item["2"].id, RequestState.IN_PROGRESS, req.coordinator)


def _region_items(*codes):
    from trainings.catalogue.queries import offers_of_kind
    from trainings.models import OfferKind

    return {o.code: o.id for o in offers_of_kind(OfferKind.REGION_SUPPORT) if o.code in codes}


def test_forms_keep_what_was_typed_when_the_csrf_token_expired(app):
    client = app.test_client()
    response = client.post("/zadost/workshop-na-klic", data={**workshop_request(), "csrf_token": "stary"})
    html = page_text(response)
    assert response.status_code == 422
    assert "Platnost formuláře vypršela" in html and "Sjednotit postup při tvorbě IPOD" in html
    assert not messages()


def test_a_workshop_request_needs_a_topic_and_an_orp_of_its_kraj(app):
    client = app.test_client()
    bad = post_form(client, "/zadost/workshop-na-klic", workshop_request(
        topic_offer="", topic_text="", orp=orp("Blansko").id, expected_participants="0"))
    html = page_text(bad)
    assert bad.status_code == 422
    assert field_error(html, "topic_text") == "Vyberte téma z nabídky, nebo je popište vlastními slovy."
    assert field_error(html, "orp") == "Vybraná ORP nepatří do zvoleného kraje."
    assert field_error(html, "expected_participants") == "Zadejte číslo od 1 do 500."
    # A topic in her own words is enough; the ORP narrows it.
    submit_workshop_request(client, topic_offer="", topic_text="Práce s rodinou při návratu dítěte z ÚVP",
                            orp=orp("Litomyšl").id)
    req = the_request()
    assert req.topic == "Práce s rodinou při návratu dítěte z ÚVP" and req.place_label.endswith("ORP Litomyšl")


# --- the workflow rules ------------------------------------------------------------------


def _request(now=None, region_code="CZ053"):
    return service.submit_custom_workshop(
        service.Requester("Marie Dvořáková", REQUESTER, "KÚ Pardubického kraje"),
        service.CustomWorkshop(region(region_code).id, "IPOD", 20, "jaro", topic_text="IPOD"),
        now=now,
    ).request


def test_every_transition_comes_from_the_one_map(app):
    req = _request()
    actor = req.coordinator
    for state in RequestState:
        assert state.is_final == (state in (RequestState.CLOSED, RequestState.REJECTED))
    with pytest.raises(service.RequestError, match="nelze přejít"):
        service.transition(req.id, RequestState.AGREED, actor)
    with pytest.raises(service.RequestError, match="důvod zamítnutí"):
        service.transition(req.id, RequestState.REJECTED, actor, "  ")
    path = [RequestState.IN_PROGRESS, RequestState.AGREED, RequestState.IN_PROGRESS, RequestState.AGREED,
            RequestState.SCHEDULED, RequestState.CLOSED]
    for state in path:
        assert state in REQUEST_TRANSITIONS[the_request().state]
        service.transition(req.id, state, actor)
    assert the_request().state == RequestState.CLOSED
    for state in RequestState:
        with pytest.raises(service.RequestError):
            service.transition(req.id, state, actor)


def test_a_closed_term_needs_an_agreed_workshop_request_and_stays_in_its_kraj(app):
    req = _request()
    starts = utcnow() + timedelta(days=20)
    data = TermData(offer_id=offer().id, starts_at=starts, ends_at=starts + timedelta(hours=3),
                    form=TermForm.ONLINE, capacity=10, restricted_region_id=req.region_id)
    with pytest.raises(service.RequestError, match="dohodnuté"):
        service.create_closed_term(req.id, data, req.coordinator)
    service.transition(req.id, RequestState.IN_PROGRESS, req.coordinator)
    service.transition(req.id, RequestState.AGREED, req.coordinator)
    with pytest.raises(service.RequestError, match="Pardubický kraj"):
        service.create_closed_term(req.id, replace(data, restricted_region_id=region("CZ064").id), req.coordinator)
    first = service.create_closed_term(req.id, data, req.coordinator)
    later = starts + timedelta(days=7)
    second = service.create_closed_term(
        req.id, replace(data, public=True, starts_at=later, ends_at=later + timedelta(hours=3)), req.coordinator)
    db.session.rollback()
    assert [t.id for t in the_request().terms] == [first.id, second.id]
    assert not db.session.get(Term, second.id).public  # a request's term is always closed
    assert the_request().state == RequestState.SCHEDULED
    assert len(messages("request_term_created", REQUESTER)) == 2


def test_the_requester_can_write_back_and_the_coordinator_hears_of_it(app):
    client = app.test_client()
    response = submit_workshop_request(client)
    follow = urlsplit(response.headers["Location"]).path
    empty = post_form(client, f"{follow}/zprava", {"text": " "}, follow)
    assert empty.status_code == 422
    post_form(client, f"{follow}/zprava", {"text": "Preferujeme spíše duben."}, follow)
    req = the_request()
    event = req.events[-1]
    assert (event.actor_id, event.kind, event.text) == (None, RequestEventKind.COMMENT, "Preferujeme spíše duben.")
    message = only_message("request_requester_message", PARDUBICE)
    assert "Preferujeme spíše duben." in message.body_text
    assert req.answered_at is None  # her own message is no answer
    assert client.get("/zadost/neexistuje-" + "x" * 30).status_code == 404
    assert client.get(follow).headers["Referrer-Policy"] == "no-referrer"


def test_a_request_without_an_answer_for_more_than_5_working_days_is_highlighted(app):
    month_ago = utcnow() - timedelta(days=30)
    old = _request(now=month_ago)
    fresh = _request()
    answered = _request(now=month_ago)
    service.comment(answered.id, answered.coordinator, "Ozveme se v pondělí.", visible_to_requester=True)
    internal = _request(now=month_ago)
    service.comment(internal.id, internal.coordinator, "Zjistit lektora.", visible_to_requester=False)
    rejected = _request(now=month_ago)
    service.transition(rejected.id, RequestState.REJECTED, rejected.coordinator, "Mimo projekt.")

    listing = page_text(log_in(app, PARDUBICE).get("/sprava/zadosti/?stav=vse"))
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(
        r'<tr class="[^"]*">\s*<td[^>]*><a href="/sprava/zadosti/(\d+)">.*?</tr>', listing, re.S)}
    assert "Po lhůtě" in rows[old.id] and "Po lhůtě" in rows[internal.id]  # an internal note is no answer
    for other in (fresh, answered, rejected):
        assert "Po lhůtě" not in rows[other.id]
    assert "2</strong> žádosti čekají na odpověď déle než 5 pracovních dní" in listing
    assert list(rows)[:2] == [internal.id, old.id]  # overdue first, newest first among them


def test_the_5_working_day_clock_runs_across_a_holiday_and_a_weekend():
    friday = datetime(2026, 10, 23, 15, 0, tzinfo=PRAGUE)
    waiting = SimpleNamespace(created_at=friday, answered_at=None, state=RequestState.NEW)
    # Mon 26., Tue 27., (Wed 28. 10. státní svátek), Thu 29., Fri 30., (weekend), Mon 2. 11.
    assert not is_overdue(waiting, datetime(2026, 10, 30, 23, 0, tzinfo=PRAGUE))
    assert not is_overdue(waiting, datetime(2026, 11, 2, 23, 59, tzinfo=PRAGUE))
    assert is_overdue(waiting, datetime(2026, 11, 3, 0, 1, tzinfo=PRAGUE))
    # Sent on Thursday before Easter 2027: Velký pátek and Velikonoční pondělí do not count.
    easter = SimpleNamespace(created_at=datetime(2027, 3, 25, 10, 0, tzinfo=PRAGUE), answered_at=None,
                             state=RequestState.IN_PROGRESS)
    assert not is_overdue(easter, datetime(2027, 4, 5, 18, 0, tzinfo=PRAGUE))
    assert is_overdue(easter, datetime(2027, 4, 6, 8, 0, tzinfo=PRAGUE))
    answered = SimpleNamespace(created_at=friday, answered_at=friday + timedelta(days=1), state=RequestState.NEW)
    closed = SimpleNamespace(created_at=friday, answered_at=None, state=RequestState.CLOSED)
    assert not is_overdue(answered, datetime(2027, 1, 1, tzinfo=PRAGUE))
    assert not is_overdue(closed, datetime(2027, 1, 1, tzinfo=PRAGUE))


# --- the working-day clock ------------------------------------------------------------


def test_working_days_skip_weekends_and_czech_public_holidays():
    # Friday 23. 10. 2026 → Wed 28. 10. is Den vzniku samostatného československého státu,
    # then a weekend (and the clocks go back on Sunday 25. 10.).
    friday = date(2026, 10, 23)
    assert working_days_between(friday, date(2026, 10, 27)) == 2  # Mon, Tue
    assert working_days_between(friday, date(2026, 10, 28)) == 2  # the holiday
    assert working_days_between(friday, date(2026, 11, 1)) == 4  # Thu, Fri; Sat, Sun
    assert working_days_between(friday, date(2026, 11, 2)) == 5
    assert add_working_days(friday, 5) == date(2026, 11, 2)
    # Velikonoce 2027: Velký pátek 26. 3. and Velikonoční pondělí 29. 3.
    assert working_days_between(date(2027, 3, 25), date(2027, 3, 30)) == 1
    assert add_working_days(date(2027, 3, 25), 5) == date(2027, 4, 5)
    # Christmas and New Year: 24.–26. 12., 1. 1.
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5  # 28.–31. 12. and 4. 1.
    # Dates are Prague's: 22:30 UTC on Thursday is already Friday in Prague, so only Monday follows.
    friday_in_prague = datetime(2026, 10, 22, 22, 30, tzinfo=timezone.utc)
    assert working_days_between(friday_in_prague, date(2026, 10, 26)) == 1
    assert working_days_between(date(2026, 11, 2), date(2026, 10, 23)) == 0


# --- the closed term from the coordinator's side --------------------------------------


def _agreed_request(orp_name=None):
    req = _request()
    if orp_name:
        req.orp_id = orp(orp_name).id
        db.session.commit()
    service.transition(req.id, RequestState.IN_PROGRESS, req.coordinator)
    service.transition(req.id, RequestState.AGREED, req.coordinator)
    return the_request()


def closed_term_form(**overrides):
    day = (datetime.now(PRAGUE) + timedelta(days=30)).date()
    data = {"offer": offer("od-analyzy-k-tvorbe-ipod").id, "day": day.isoformat(), "start": "09:00",
            "end": "12:30", "form": "online", "region": "", "venue": "", "online_url": "https://meet.example.cz/x",
            "capacity": "20", "per_orp_limit": "", "deadline": "", "lecturer": "", "restriction": "kraj"}
    data.update(overrides)
    return data


def test_after_a_closed_term_the_coordinator_is_back_on_her_request_with_its_link(app):
    req = _agreed_request()
    coordinator = log_in(app, PARDUBICE)
    detail = f"/sprava/zadosti/{req.id}"
    response = post_form(coordinator, f"{detail}/termin", closed_term_form())
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == detail
    db.session.rollback()
    term = db.session.scalars(select(Term)).one()
    link = f"http://spod4.test/prihlaska-na-termin/{term.signup_token}"
    html = page_text(coordinator.get(response.headers["Location"]))
    # The message names the new term and gives its link, ready to copy.
    notice = re.search(r'<div class="notice notice-success"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "Od analýzy k tvorbě IPOD" in notice and term.starts_at.astimezone(PRAGUE).strftime("%-d. %-m.") in notice
    assert f'href="{link}"' in notice
    # Said as a sentence that ends where the term's line ends, and of no one whose gender is unknown.
    assert notice.strip().startswith("Uzavřený termín je vypsaný: Od analýzy k tvorbě IPOD, ")
    assert "Odkaz k přihlášení odešel e-mailem na adresu žádosti" in notice and "Zadavatel" not in notice
    # On the request, the link is a link and a read-only field to copy from, with a copy button.
    card = html[html.index(f'id="termin-{term.id}"'):]
    assert f'<a href="{link}"' in card
    copy_field = re.search(rf'<input[^>]*value="{re.escape(link)}"[^>]*>', card).group(0)
    assert "readonly" in copy_field and 'type="text"' in copy_field
    assert 'data-copy=' in card and "Kopírovat odkaz" in card
    # The form's date needs no format hint that contradicts the picker.
    form_page = page_text(coordinator.get(f"{detail}/termin"))
    assert "RRRR" not in form_page
    assert re.search(r'<input[^>]*id="start"[^>]*type="time"|<input[^>]*type="time"[^>]*id="start"', form_page)


def test_a_wrong_orp_on_a_closed_term_is_said_next_to_the_orp_field(app):
    starts = utcnow() + timedelta(days=9)
    term = Term(offer=offer(), starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
                capacity=5, public=False, signup_token="odkaz-pro-litomysl-123456", restricted_orp_id=orp("Litomyšl").id)
    db.session.add(term)
    db.session.commit()
    refused = post_form(app.test_client(), f"/prihlaska-na-termin/{term.signup_token}", participant(1, orp_name="Svitavy"))
    html = page_text(refused)
    assert field_error(html, "orp") == "Tento termín je určen jen pro pracovníky z ORP Litomyšl."
    assert field_error(html, "region") is None


def test_the_closed_term_form_takes_a_date_and_times_typed_the_czech_way(app):
    req = _agreed_request()
    coordinator = log_in(app, PARDUBICE)
    url = f"/sprava/zadosti/{req.id}/termin"
    day = (datetime.now(PRAGUE) + timedelta(days=40)).date()
    wrong = post_form(coordinator, url, closed_term_form(day="31. 2. 2027", start="devět", end="25:00"))
    html = page_text(wrong)
    assert wrong.status_code == 422
    assert field_error(html, "day") == "Zadejte datum, např. 12. 3. 2027."
    assert field_error(html, "start") == "Zadejte čas, např. 9:00."
    assert 'value="31. 2. 2027"' in html and 'value="devět"' in html  # what was typed stays
    response = post_form(coordinator, url, closed_term_form(day=f"{day.day}. {day.month}. {day.year}",
                                                            start="9.00", end="12:30"))
    assert response.status_code == 302, page_text(response)[:2000]
    db.session.rollback()
    term = db.session.scalars(select(Term)).one()
    assert term.starts_at.astimezone(PRAGUE).replace(tzinfo=None) == datetime(day.year, day.month, day.day, 9, 0)
    assert term.ends_at.astimezone(PRAGUE).strftime("%H:%M") == "12:30"


def test_the_coordinators_start_page_names_the_requests_waiting_for_her_answer(app):
    coordinator = log_in(app, PARDUBICE)
    assert "na odpověď" not in page_text(coordinator.get("/sprava/"))
    req = _request()
    _request(region_code="CZ064")  # another kraj's: not hers
    start = page_text(coordinator.get("/sprava/"))
    assert "1 nová žádost čeká na odpověď." in start and "/sprava/zadosti/?stav=nova" in coordinator.get(
        "/sprava/").get_data(as_text=True)
    _request()
    assert "2 nové žádosti čekají na odpověď." in page_text(coordinator.get("/sprava/"))
    service.transition(req.id, RequestState.IN_PROGRESS, req.coordinator)  # answered: no longer waiting
    assert "1 nová žádost čeká na odpověď." in page_text(coordinator.get("/sprava/"))
