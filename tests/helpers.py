"""Builders and browser steps shared by the test modules.

Tests import these from here, never from another test module, so that a test file
can be moved or deleted without breaking its neighbours. Staff logins live in
tests/staff_helpers.py.
"""
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import vobject
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from trainings.access import STAFF_PREFIX, declaration
from trainings.extensions import db
from trainings.mail.composers import compose_pending
from trainings.models import Offer, Orp, OutboxMessage, Region, Registration, Term, TermForm

JS_DIR = Path(__file__).parent / "js"
ROOT = Path(__file__).resolve().parent.parent
# Where templates live: the app's shared folder (base, macros, the e-mail layout) and each capability's
# own, trainings/<capability>/templates/ (its pages and e-mails).
TEMPLATE_FOLDERS = (ROOT / "templates", *sorted((ROOT / "trainings").glob("*/templates")))


def template_files(*suffixes: str) -> list[Path]:
    """Every template file with one of these suffixes (".html", ".txt"), in every template folder."""
    return sorted(path for folder in TEMPLATE_FOLDERS for path in folder.rglob("*") if path.suffix in suffixes)
MANAGE_LINK = re.compile(r"http://spod4\.test/prihlaska/[A-Za-z0-9_-]+")
# Any form's token, also of a prefixed form (`item5-csrf_token`): Flask-WTF signs one per session.
CSRF = re.compile(r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"')

# Filled once per session by seed_all() (users: the kraj coordinators, and the demo organiser
# kept for the speed of her password hash); every other table is emptied after each test.
REFERENCE_TABLES = frozenset({"regions", "orps", "offers", "users"})


def empty_tables() -> None:
    """Delete every row a test may have written, children before parents, so that a new
    table is cleaned up without anyone adding it to a list. Users a test created are the
    test's to remove (tests/staff_helpers.py remove_user): their dependent rows go here."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in REFERENCE_TABLES:
            db.session.execute(table.delete())
    db.session.commit()
    forget_edited_facts()  # the project's facts this process keeps are the file's again
    restore_catalogue()


def forget_edited_facts() -> None:
    from trainings.project import forget_edited

    forget_edited()


def restore_catalogue() -> None:
    """Offers are seeded once per session; after a test that edited, added or withdrew one in the
    back office (`edited_at`), the catalogue file's offers are put back as they were."""
    from trainings.catalogue.seed import seed_catalogue
    from trainings.project import catalogue_document

    if db.session.scalar(select(Offer.id).where(Offer.edited_at.is_not(None)).limit(1)) is None:
        return
    slugs = [item["slug"] for item in catalogue_document()["offers"]]
    db.session.execute(Offer.__table__.delete().where(Offer.slug.not_in(slugs)))
    db.session.execute(Offer.__table__.update().values(edited_at=None, withdrawn_at=None))
    seed_catalogue()
    db.session.commit()


# --- the outbox ---------------------------------------------------------------------


def outbox(kind=None, to=None):
    """Queued e-mails, oldest first, written as the outbox worker writes them before sending
    (registration messages are queued as plans: registration/compose.py)."""
    db.session.rollback()  # see what requests committed; also clears a transaction a server error broke
    pending = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.body_text.is_(None))).all()
    if pending:
        compose_pending(pending)
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if to:
        stmt = stmt.where(OutboxMessage.recipient == to)
    return db.session.scalars(stmt).all()


def only_message(kind, to):
    found = outbox(kind, to)
    assert len(found) == 1, [(m.kind, m.recipient) for m in outbox()]
    return found[0]


def manage_link(message):
    """The private link of a registration e-mail."""
    match = MANAGE_LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(0)


# --- reference rows and terms -------------------------------------------------------


def region(code="CZ053"):
    return db.session.scalars(select(Region).where(Region.code == code)).one()


def orp(name):
    return db.session.scalars(select(Orp).where(Orp.name == name)).one()


def offer(slug="od-analyzy-k-tvorbe-ipod"):
    return db.session.scalars(select(Offer).where(Offer.slug == slug)).one()


def make_term(*, slug="od-analyzy-k-tvorbe-ipod", starts_in=timedelta(days=14), hours=3.5, capacity=10,
              form=TermForm.ONLINE, **values):
    starts = datetime.now(timezone.utc).replace(microsecond=0) + starts_in
    term = Term(
        offer=offer(slug),
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        form=form,
        capacity=capacity,
        online_url="https://meet.example.cz/ipod" if form == TermForm.ONLINE else None,
        **values,
    )
    db.session.add(term)
    db.session.commit()
    return term


def held_on(term: Term, starts_at: datetime) -> Term:
    """Move a term (people registered while it was open) to the day it took place."""
    term = db.session.get(Term, term.id, populate_existing=True)
    length = term.ends_at - term.starts_at
    term.starts_at, term.ends_at = starts_at, starts_at + length
    db.session.commit()
    return term


def registration_on(term, email):
    db.session.rollback()
    return db.session.scalars(
        select(Registration).where(Registration.term_id == term.id, Registration.email_normalized == email)
    ).one()


def registration_uid(registration) -> str:
    """The UID of a registration's event in its invitations and feeds."""
    return f"registration-{registration.id}@spod4.test"


# --- what a browser does on the public sign-up form ----------------------------------


def csrf(page):
    """The CSRF token of a page's form."""
    return CSRF.search(page).group(1)


def post_form(client, url, data, form_url=None, prefix=None):
    """Open the page with the form (`form_url`, else `url`), take its CSRF token and send the
    form (the one of `prefix`, where the page has several)."""
    page = client.get(form_url or url)
    assert page.status_code == 200, (form_url or url, page.status_code)
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={name: csrf(page.get_data(as_text=True)), **data})


def form_url(term_or_id):
    term_id = getattr(term_or_id, "id", term_or_id)
    return f"/termin/{term_id}/prihlaska"


def form_data(**overrides):
    """What Jana from OSPOD Litomyšl types; an override of None leaves the field out."""
    data = {
        "name": "Jana Nováková",
        "email": "jana.novakova@litomysl.cz",
        "employer_type": "ospod",
        "region": region("CZ053").id,
        "orp": orp("Litomyšl").id,
        "job_title": "sociální pracovnice",
        "consent": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def person(n, orp_name="Litomyšl"):
    """Overrides for the n-th colleague from an OSPOD in Pardubický kraj."""
    return {"name": f"Účastnice {n}", "email": f"ucastnice{n}@ospod.cz", "orp": orp(orp_name).id}


def register_via_form(client, term, **overrides):
    """Open the term's form, take the CSRF token from it and send the form."""
    page = client.get(form_url(term))
    assert page.status_code == 200
    client.csrf_token = csrf(page.get_data(as_text=True))
    data = {"csrf_token": client.csrf_token, **form_data(**overrides)}
    return client.post(form_url(term), data=data)


def token_of(response):
    """The private token of the registration a sign-up just made, from the link in the e-mail
    it queued: the answer itself shows none, as it looks the same for an address already on
    the term (registration.views._register)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert urlsplit(response.headers["Location"]).path.endswith("/odeslano")
    newest = outbox()[-1]
    assert newest.kind in ("registration_confirmed", "registration_waitlisted"), newest.kind
    return urlsplit(manage_link(newest)).path.removeprefix("/prihlaska/")


def session_csrf(client, term):
    """A CSRF token of this browser session, for crafted requests.

    Flask-WTF signs one token per session, so any form this client opened
    carries a valid one (kept from the last form it opened).
    """
    if getattr(client, "csrf_token", None) is None:
        client.csrf_token = csrf(client.get(form_url(term)).get_data(as_text=True))
    return client.csrf_token


def open_link(client, link):
    """Open a private link from an e-mail; it must show a page."""
    page = client.get(link)
    assert page.status_code == 200, (link, page.status_code)
    return page.get_data(as_text=True)


def cancel_via_link(client, link):
    """Open the private link from the e-mail, follow "Zrušit přihlášku" to the confirmation
    page and press "Ano, zrušit přihlášku" there."""
    html = open_link(client, link)
    confirm = re.search(r'<a class="button secondary" href="([^"]+/zrusit)">Zrušit přihlášku</a>', html).group(1)
    assert confirm == urlsplit(link).path + "/zrusit"
    # Opened and posted on the link's host, so the browser sends the session cookie the page set.
    html = open_link(client, urljoin(link, confirm))
    assert "Ano, zrušit přihlášku" in html
    action = re.search(r'<form method="post" action="([^"]+/zrusit)"', html).group(1)
    assert action == confirm
    return client.post(urljoin(link, action), data={"csrf_token": csrf(html)})


def field_error(html, field):
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


# --- calendars, read by parsers other than the one that wrote them -----------------------


def read(text):
    """vobject's reading of an .ics; it raises on what it cannot parse."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return vobject.readOne(text, validate=True)


def icaljs(*texts):
    """ical.js's reading of each .ics, through tests/js/parse.mjs.

    Skipped where node or ical.js is missing, unless REQUIRE_ICALJS=1 (as CI
    sets it), which makes that a failure.
    """
    missing = None
    if shutil.which("node") is None:
        missing = "node is not installed; the ical.js checks need it"
    elif not (JS_DIR / "node_modules" / "ical.js").is_dir():
        missing = "ical.js is not installed; run `npm ci --prefix tests/js`"
    if missing:
        if os.environ.get("REQUIRE_ICALJS") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    texts = [t.decode("utf-8") if isinstance(t, bytes) else t for t in texts]
    result = subprocess.run(
        ["node", str(JS_DIR / "parse.mjs")], input=json.dumps(texts), capture_output=True, text=True,
        timeout=30, check=True,
    )
    return json.loads(result.stdout)


def calendar_objects(message):
    """(METHOD, UID, SEQUENCE, STATUS) of each .ics attachment, read by vobject and ical.js alike."""
    texts = [a["data"] for a in message.attachments]
    facts = []
    for text in texts:
        cal = read(text)
        facts.append((cal.method.value, cal.vevent.uid.value, int(cal.vevent.sequence.value), cal.vevent.status.value))
    for js, fact in zip(icaljs(*texts), facts, strict=True):
        (event,) = js["events"]
        assert (js["method"], event["uid"], event["sequence"], event["status"]) == fact
    return facts


# --- every page of the app, with its URL arguments filled ------------------------------


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def model_for(argument):
    """`message_id` → OutboxMessage: the mapped class whose snake-case name ends in `message`."""
    thing = argument.removesuffix("_id")
    classes = [m.class_ for m in db.Model.registry.mappers]
    matches = [c for c in classes if _snake(c.__name__) == thing] or [
        c for c in classes if _snake(c.__name__).endswith("_" + thing)
    ]
    return matches[0] if len(matches) == 1 else None


def url_of(app, rule):
    """The rule's URL: an int `<thing>_id` gets the id of a row of `model_for(thing)` (of the row
    belonging to the arguments already filled, where the model has such a column), `code` a
    registration's check-in code, any other argument a placeholder."""
    values = {}
    # In path order, so `item_id` is looked up among the rows of the `request_id` already chosen.
    for name in re.findall(r"<(?:[^:<>]+:)?(\w+)>", rule.rule):
        converter = rule._converters[name]
        model = model_for(name) if isinstance(converter, IntegerConverter) else None
        if model is not None:
            stmt = select(model.id).order_by(model.id).limit(1)
            for chosen, value in values.items():
                if chosen in model.__table__.columns:
                    stmt = stmt.where(model.__table__.columns[chosen] == value)
            values[name] = db.session.scalar(stmt) or 1
        elif name == "code":
            values[name] = db.session.scalar(
                select(Registration.check_in_code).order_by(Registration.id).limit(1)) or "x"
        else:
            values[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def staff_rules(app):
    """(rule, method) of every staff-only page: what the app does not declare public (a
    back-office page declaring nothing is closed, as trainings/access.py enforces it).
    tests/test_access.py holds these declarations against its hand-written table."""
    found = []
    for rule in app.url_map.iter_rules():
        access = declaration(app, rule.endpoint)
        staff_only = rule.rule.startswith(STAFF_PREFIX) if access is None else not access.public
        if staff_only:
            found += [(rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found
