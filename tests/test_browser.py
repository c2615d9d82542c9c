"""Accessibility and HTML validity in a real browser (headless Debian Chromium driven by Playwright).

The app runs as a real HTTP server (werkzeug, in a thread) on an SQLite file with the SPOD4
catalogue, demo terms, the demo organiser, a term at the door, a request and a closed term.
Then:

- axe-core (WCAG 2.1 A and AA rules) on every public page, the error state of every public form,
  and every staff page type (the staff GET pages are enumerated from app.url_map, so a new page is
  checked without touching this file); at 320 px no page may scroll sideways;
- the Nu HTML Checker (vnu.jar) on the HTML the server sent for all those pages, in one batch;
- the three journeys by keyboard only: a worker signs up, a coordinator requests a workshop,
  an organiser logs in and marks someone present at the door.

Without Chromium (installed by `make test`) or the npm tools the tests are skipped with the reason;
REQUIRE_BROWSER=1 (CI sets it) turns such a skip into a failure.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from trainings import tokens
from trainings.catalogue import editing as catalogue_editing
from trainings.demo import DEMO_ORGANISER, seed_demo_organiser, seed_demo_terms
from trainings.extensions import db
from trainings.models import (
    Offer, OfferKind, OfferStatus, Orp, PersonLink, Region, Registration, StaffRole, Term, TermForm, UserToken,
    utcnow,
)
from trainings.registration import service as registration_service
from trainings.requests import service as requests_service
from trainings.people import accounts
from trainings.terms import service as terms_service

from .conftest import build_app
from .staff_helpers import enrol_second_factor, fresh_app_code

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_ROUTE = "/__test__/axe.min.js"  # served from the app's origin, so the CSP (script-src 'self') allows it

pytestmark = pytest.mark.slow  # a real Chromium and the Nu HTML Checker: minutes (tests/conftest.py)


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium with apt-get)"
    if not AXE.exists() or not VNU.exists():
        return "axe-core / vnu-jar missing (npm ci --prefix tests/js)"
    if not shutil.which("java"):
        return "java not found (the Nu HTML Checker needs it)"
    return None


@pytest.fixture(scope="module", autouse=True)
def _tools():
    reason = _missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


# --- the application with data for every page type ---------------------------------------


class Site:
    """The served app and the ids/tokens its pages need."""


def _seed(app) -> Site:
    site = Site()
    with app.app_context():
        seed_demo_terms()
        seed_demo_organiser()
        site.organiser_email, site.organiser_password = DEMO_ORGANISER
        organiser = accounts.user_by_email(site.organiser_email)
        # Every staff page is seen by an admin (coordinators' and privacy pages are not the organiser's).
        site.admin_email, site.admin_password = "spravce@spod4.example", "dlouhe-heslo-spravce"
        admin = accounts.create_user(site.admin_email, "Správce Testovací", StaffRole.ADMIN, site.admin_password)
        site.totp_secrets = {site.admin_email: enrol_second_factor(admin)}  # administrators must have the app
        pardubice = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        litomysl = db.session.scalars(select(Orp).where(Orp.name == "Litomyšl")).one()
        site.region_slug = pardubice.slug
        ipod = db.session.scalars(select(Offer).where(Offer.slug == "od-analyzy-k-tvorbe-ipod")).one()
        site.offer_slug, site.offer_title = ipod.slug, ipod.title
        site.planned_slug = db.session.scalars(
            select(Offer.slug).where(Offer.kind == OfferKind.WORKSHOP, Offer.status == OfferStatus.PLANNED)
            .order_by(Offer.position)).first()

        # A term at the door: starts in an hour, people on it (confirmed and one waiting).
        starts = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(hours=1)
        door = terms_service.create_term(terms_service.TermData(
            offer_id=ipod.id, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.IN_PERSON,
            capacity=2, region_id=pardubice.id, venue="Krajský úřad, Pardubice", lecturer="Lektorský tým SPOD4",
        ), organiser)
        db.session.commit()
        outcomes = [registration_service.register(door.id, registration_service.Applicant(
            name=f"Jana Nováková {i}", email=f"jana{i}@example.cz",
            employer_type=registration_service.EmployerType.OSPOD, job_title="sociální pracovnice",
            region_id=pardubice.id, orp_id=litomysl.id)) for i in range(3)]
        site.door_term = door.id
        # Lidé: a lecturer's page, with the term she teaches.
        lecturer = accounts.create_user("lektorka@spod4.example", "Lucie Lektorská", StaffRole.LECTURER)
        door.lecturers.append(lecturer)
        site.person = lecturer.id
        site.registration = outcomes[0].registration.id
        site.manage_token = outcomes[0].token
        site.check_in_code = db.session.get(Registration, site.registration).check_in_code
        # Moje vzdělávání of the first person, as the e-mailed link opens it (only its hash is stored).
        site.person_token = "browser-test-person-token"
        db.session.add(PersonLink(email_normalized="jana0@example.cz", purpose="page",
                                  token_hash=tokens.token_hash(site.person_token),
                                  expires_at=utcnow() + timedelta(days=1)))
        db.session.commit()

        # A coordinator's request, and a closed term with its own sign-up link.
        submitted = requests_service.submit_custom_workshop(
            requests_service.Requester(name="Petra Krajská", email="petra@kr-pardubicky.cz",
                                       organisation="Krajský úřad Pardubického kraje"),
            requests_service.CustomWorkshop(region_id=pardubice.id, participant_needs="Vyhodnocování situace dítěte.",
                                            expected_participants=15, preferred_dates="březen 2027",
                                            topic_text="Vyhodnocování situace dítěte"))
        site.request = submitted.request.id
        item = db.session.scalars(select(Offer.id).where(Offer.kind == OfferKind.REGION_SUPPORT)
                                  .order_by(Offer.position)).first()
        package = requests_service.submit_region_package(
            requests_service.Requester(name="Petra Krajská", email="petra@kr-pardubicky.cz",
                                       organisation="Krajský úřad Pardubického kraje"),
            requests_service.RegionPackage(region_id=pardubice.id, items=((item, "Pro nové pracovníky."),)),
        )
        site.package_request, site.package_token = package.request.id, package.token
        site.request_token = submitted.token
        site.planned_request_token = _planned_request(ipod, pardubice, starts)
        closed = terms_service.create_term(terms_service.TermData(
            offer_id=ipod.id, starts_at=starts + timedelta(days=20), ends_at=starts + timedelta(days=20, hours=3),
            form=TermForm.ONLINE, capacity=15, online_url="https://meet.example.cz/x", public=False,
            restricted_region_id=pardubice.id), organiser)
        db.session.commit()
        site.closed_token = closed.signup_token
        site.term = db.session.scalars(select(Term.id).where(Term.public.is_(True), Term.id != door.id)).first()

        # A one-time link to set a staff password (only its hash is stored).
        site.password_token = "browser-test-password-token"
        db.session.add(UserToken(user=organiser, token_hash=tokens.token_hash(site.password_token),
                                 expires_at=utcnow() + timedelta(days=1)))
        db.session.commit()
        _seed_after_the_workshop(site, ipod, pardubice, litomysl, organiser)
        _seed_switch_and_handover(site, door, outcomes, pardubice, litomysl)
        _seed_catalogue_edits(site, organiser)
        db.session.remove()
    return site


def _planned_request(ipod, pardubice, starts) -> str:
    """A request that became a closed term: its page shows the term's sign-up link, a long word
    that must still wrap at 320 px. The link of a request whose page shows it."""
    from trainings.models import RequestState

    planned = requests_service.submit_custom_workshop(
        requests_service.Requester(name="Eva Krajská", email="eva@kr-pardubicky.cz",
                                   organisation="Krajský úřad Pardubického kraje"),
        requests_service.CustomWorkshop(region_id=pardubice.id, participant_needs="Tvorba IPOD.",
                                        expected_participants=12, preferred_dates="duben 2027", topic_offer_id=ipod.id))
    coordinator = planned.request.coordinator
    requests_service.transition(planned.request.id, RequestState.IN_PROGRESS, coordinator, "Hledáme termín.")
    requests_service.transition(planned.request.id, RequestState.AGREED, coordinator)
    requests_service.create_closed_term(planned.request.id, terms_service.TermData(
        offer_id=ipod.id, starts_at=starts + timedelta(days=30), ends_at=starts + timedelta(days=30, hours=3),
        form=TermForm.ONLINE, capacity=12, online_url="https://meet.example.cz/y",
        restricted_region_id=pardubice.id), coordinator)
    db.session.commit()
    return planned.token


def _seed_catalogue_edits(site, organiser):
    """A support item edited once and with a draft waiting: its history has a version to restore and
    its preview shows the draft in the public list (the staff page walk takes its id)."""
    support = db.session.scalars(select(Offer).where(Offer.kind == OfferKind.SUPPORT).order_by(Offer.position)).first()
    values = catalogue_editing.values_of(support)
    catalogue_editing.save_draft(support, {**values, "audience": "Pracovníci OSPOD a krajských úřadů."}, organiser)
    catalogue_editing.publish(support, organiser)
    draft = catalogue_editing.save_draft(support, {**values, "summary": "Nové shrnutí položky."}, organiser)
    site.offer_id, site.revision_id = support.id, draft.id


def _seed_switch_and_handover(site, door, outcomes, pardubice, litomysl):
    """A seat offered to a colleague (her confirmation page), and a switch waiting for the full door term."""
    from trainings.registration import handover, switching

    colleague = registration_service.Applicant(
        name="Petra Malá", email="petra.mala@example.cz", employer_type=registration_service.EmployerType.OSPOD,
        job_title="sociální pracovnice", region_id=pardubice.id, orp_id=litomysl.id)
    site.handover_token = handover.offer(outcomes[1].registration.id, colleague).token
    site.handover_giver_token = outcomes[1].token
    other_term = db.session.scalars(select(Term.id).where(
        Term.offer_id == door.offer_id, Term.public.is_(True), Term.id != door.id, Term.starts_at > door.starts_at)
        .order_by(Term.starts_at)).first()
    iva = registration_service.register(other_term, registration_service.Applicant(
        name="Iva Zelená", email="iva@example.cz", employer_type=registration_service.EmployerType.OSPOD,
        job_title="sociální pracovnice", region_id=pardubice.id, orp_id=litomysl.id))
    site.switch_holder_token = iva.token
    site.switch_entry_token = switching.switch(iva.registration.id, door.id).token


def _seed_after_the_workshop(site, ipod, pardubice, litomysl, organiser):
    """A workshop that ended two days ago: osvědčení to verify (one valid, one whose attendance was taken
    back) and questionnaires (one open, one answered)."""
    from trainings.certificates import service as certificates_service
    from trainings.feedback import service as feedback_service
    from trainings.registration import staff_actions

    starts = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=3)
    past = terms_service.create_term(terms_service.TermData(
        offer_id=ipod.id, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
        capacity=10, online_url="https://meet.example.cz/ipod", lecturer="Mgr. Petra Lektorová"), organiser)
    db.session.commit()
    people = [registration_service.register(past.id, registration_service.Applicant(
        name=name, email=f"hana{i}@example.cz", employer_type=registration_service.EmployerType.OSPOD,
        job_title="sociální pracovnice", region_id=pardubice.id, orp_id=litomysl.id)).registration.id
        for i, name in enumerate(["Mgr. Hana Dvořáková", "Eva Malá", "Jana Svobodová"])]
    past = db.session.get(Term, past.id)
    past.starts_at, past.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=2) + timedelta(hours=3)
    db.session.commit()
    for registration_id in people:
        staff_actions.mark_attendance(registration_id, True, organiser)
    feedback_service.send_invitations()
    certificates_service.issue_codes([db.session.get(Registration, i) for i in people])
    site.certificate_code = db.session.get(Registration, people[0]).certificate_code
    site.invalid_certificate_code = db.session.get(Registration, people[1]).certificate_code
    staff_actions.mark_attendance(people[1], False, organiser)
    site.questionnaire = urlsplit(feedback_service.questionnaire_url(people[0])).path
    answered = urlsplit(feedback_service.questionnaire_url(people[2])).path
    feedback_service.submit(answered.rsplit("/", 1)[1], {"obsah": 5}, "Užitečné.")
    site.feedback_thanks, site.feedback_answered = answered + "/dekujeme", answered


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    app = build_app(f"sqlite:///{folder / 'browser.sqlite3'}", folder / "mail")
    site = _seed(app)
    site.app = app
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_port}"
    site.folder = folder
    yield site
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _context(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="cs-CZ")
    axe = AXE.read_bytes()
    context.route(site.base + AXE_ROUTE, lambda route: route.fulfill(
        status=200, body=axe, headers={"Content-Type": "text/javascript"}))
    context.set_default_timeout(10_000)
    return context


# --- checks ----------------------------------------------------------------------------------


class Findings:
    def __init__(self, folder: Path):
        self.folder = folder
        self.axe: dict[str, list] = {}
        self.overflow: dict[str, int] = {}
        self.html: dict[str, Path] = {}
        self.status: dict[str, int] = {}

    def check(self, page, name: str, response, base: str, expect_status=200):
        """axe-core and the 320 px test on the page shown, and keep the HTML the server sent."""
        self.status[name] = response.status if response else 0
        if expect_status is not None and self.status[name] != expect_status:
            return
        path = self.folder / f"{len(self.html):03d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.html"
        path.write_bytes(response.body())
        self.html[name] = path
        page.add_script_tag(url=base + AXE_ROUTE)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        if result["violations"]:
            self.axe[name] = result["violations"]
        size = page.viewport_size
        page.set_viewport_size({"width": 320, "height": 640})
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 321:
            self.overflow[name] = width
        page.set_viewport_size(size)


def _report_axe(findings: dict[str, list]) -> str:
    lines = []
    for name, violations in findings.items():
        for v in violations:
            lines.append(f"{name}: [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"][:5]:
                lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
                lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


def _submit_empty(page, form_selector="main form[method=post]:not([action$=odhlaseni])"):
    """Submit a form as it is (the forms are novalidate, so the server answers with its errors)."""
    with page.expect_navigation() as nav:
        page.locator(f"{form_selector} button[type=submit]").first.click()
    return nav.value


def _fill_path(rule, site) -> str | None:
    values = {"term_id": site.door_term, "registration_id": site.registration, "request_id": site.request,
              "code": site.check_in_code, "token": site.password_token, "user_id": site.person}
    values.update(offer_id=site.offer_id, revision_id=site.revision_id)
    path = rule.rule
    for argument in rule.arguments:
        if argument not in values:
            return None
        path = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(values[argument]), path)
    return path


NOT_HTML = re.compile(r"\.(csv|xlsx|pdf|ics|json)$")


def staff_pages(site) -> list[tuple[str, str]]:
    pages = []
    for rule in site.app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/sprava/") or NOT_HTML.search(rule.rule):
            continue
        path = _fill_path(rule, site)
        assert path, f"tests/test_browser.py does not know how to fill {rule.rule}"
        pages.append((rule.endpoint, path))
    pages.append(("staff_terms.new (duplicate)", f"/sprava/terminy/novy?z={site.door_term}"))
    pages.append(("staff_terms.index (past)", "/sprava/terminy/?obdobi=probehle"))
    pages.append(("requests_staff.detail (kraj package)", f"/sprava/zadosti/{site.package_request}"))
    return sorted(pages)


def test_every_page_passes_axe_and_the_html_checker(browser, site):
    findings = Findings(site.folder)
    base = site.base
    context = _context(browser, site)
    page = context.new_page()

    public = [
        ("catalogue", "/"),
        ("catalogue filtered", f"/?q=IPOD&form=online&kraj={site.region_slug}&volna=1"),
        ("catalogue filtered, nothing found", "/?q=zadny-takovy-workshop"),
        ("running workshop with terms", f"/nabidka/{site.offer_slug}"),
        ("planned workshop with interest form", f"/nabidka/{site.planned_slug}"),
        ("A1-A7 support", "/metodicka-podpora"),
        ("kraj offer", "/nabidka-pro-kraje"),
        ("B training item", "/nabidka/proskoleni-ospod-orp-v-aktualnich-tematech"),
        ("privacy", "/ochrana-osobnich-udaju"),
        ("accessibility statement", "/prohlaseni-o-pristupnosti"),
        ("private registration page", f"/prihlaska/{site.manage_token}"),
        ("cancel confirmation", f"/prihlaska/{site.manage_token}/zrusit"),
        ("Moje vzdělávání", f"/moje-vzdelavani/{site.person_token}"),
        ("ended private link", "/moje-vzdelavani/neplatny-odkaz"),
        ("request follow page", f"/zadost/{site.request_token}"),
        ("request follow page with a closed term's link", f"/zadost/{site.planned_request_token}"),
        ("kraj package follow page", f"/zadost/{site.package_token}"),
        ("closed term sign-up", f"/prihlaska-na-termin/{site.closed_token}"),
        ("page after a sign-up", f"/termin/{site.term}/prihlaska/odeslano"),
        ("certificate verification form", "/overeni-osvedceni"),
        ("certificate valid", f"/overeni-osvedceni/{site.certificate_code}"),
        ("certificate not valid", f"/overeni-osvedceni/{site.invalid_certificate_code}"),
        ("feedback thank-you", site.feedback_thanks),
        ("feedback already answered", site.feedback_answered),
        ("switch to another term", f"/prihlaska/{site.manage_token}/jiny-termin"),
        ("hand over the seat", f"/prihlaska/{site.manage_token}/predat"),
        ("seat offered to a colleague (giver's page)", f"/prihlaska/{site.handover_giver_token}"),
        ("colleague's confirmation", f"/predani-mista/{site.handover_token}"),
        ("seat kept while waiting for another term", f"/prihlaska/{site.switch_holder_token}"),
        ("waiting entry of a switch", f"/prihlaska/{site.switch_entry_token}"),
    ]
    for name, path in public:
        findings.check(page, name, page.goto(base + path), base)
    findings.check(page, "404 page", page.goto(base + "/neexistuje"), base, expect_status=404)
    findings.check(page, "certificate unknown", page.goto(base + "/overeni-osvedceni/ABCDEFGHJKMN"), base,
                   expect_status=404)
    findings.check(page, "seat offer lapsed", page.goto(base + "/predani-mista/neplatny-odkaz"), base,
                   expect_status=410)
    findings.check(page, "certificate lookup with errors", page.goto(base + "/overeni-osvedceni?kod=x"), base,
                   expect_status=422)

    forms = [
        ("registration form", f"/termin/{site.term}/prihlaska", "main form[method=post]"),
        ("custom workshop request", "/zadost/workshop-na-klic", "main form[method=post]"),
        ("A1-A7 request", "/zadost/metodicka-podpora", "main form[method=post]"),
        ("kraj package request", "/zadost/balicek-pro-kraj", "main form[method=post]"),
        ("interest form", f"/nabidka/{site.planned_slug}", "main form[method=post]"),
        ("request follow message", f"/zadost/{site.request_token}", "main form[method=post]"),
        ("staff login", "/sprava/prihlaseni", "main form[method=post]"),
        ("Moje vzdělávání request", "/moje-vzdelavani", "main form[method=post]"),
        ("forgotten staff password", "/sprava/zapomenute-heslo", "main form[method=post]"),
        ("feedback questionnaire", site.questionnaire, "main form[method=post]"),
        ("switch form", f"/prihlaska/{site.manage_token}/jiny-termin", "main form[method=post]"),
        ("hand-over form", f"/prihlaska/{site.manage_token}/predat", "main form[method=post]"),
        ("colleague's confirmation form", f"/predani-mista/{site.handover_token}", "main form[method=post]"),
    ]
    for name, path, selector in forms:
        response = page.goto(base + path)
        if name != "interest form" and name != "request follow message":
            findings.check(page, name, response, base)
        response = _submit_empty(page, selector)
        findings.check(page, f"{name} with errors", response, base, expect_status=None)
        assert page.locator(".error-summary").count() == 1, f"{name}: no error summary after an empty submit"
        # The summary takes the focus (autofocus), so the next Tab reaches the first field in error.
        assert page.evaluate("document.activeElement.id") == "chyby", name

    # The back office, logged in as the organiser.
    _log_in(page, site, site.admin_email, site.admin_password)
    for endpoint, path in staff_pages(site):
        findings.check(page, f"staff {endpoint}", page.goto(base + path), base)
    findings.check(page, "staff second factor settings", page.goto(base + "/sprava/ucet/dvoufazove-overeni"), base)
    findings.check(page, "staff new term with errors", _goto_and_submit(page, base + "/sprava/terminy/novy"),
                   base, expect_status=None)
    context.close()

    bad_status = {name: status for name, status in findings.status.items()
                  if status != 200 and name not in ("404 page", "ended private link", "certificate unknown", "seat offer lapsed") and "with errors" not in name}
    vnu = _validate(findings.html)
    problems = []
    if bad_status:
        problems.append(f"pages that did not answer 200: {bad_status}")
    if findings.axe:
        problems.append("axe-core (WCAG 2.1 A/AA) violations:\n" + _report_axe(findings.axe))
    if vnu:
        problems.append("Nu HTML Checker errors:\n" + "\n".join(vnu))
    if findings.overflow:
        problems.append(f"pages wider than 320 px (scrollWidth): {findings.overflow}")
    print(f"\nchecked {len(findings.html)} pages: " + ", ".join(findings.html))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _goto_and_submit(page, url):
    page.goto(url)
    return _submit_empty(page)


def _validate(files: dict[str, Path]) -> list[str]:
    names = {str(path): name for name, path in files.items()}
    run = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--stdout", *names],
                         capture_output=True, text=True, timeout=120)
    messages = json.loads(run.stdout or "{}").get("messages", [])
    errors = []
    for m in messages:
        if m.get("type") == "error" or m.get("subType") == "fatal":
            where = names.get(m.get("url", "").removeprefix("file:"), m.get("url"))
            errors.append(f"{where}:{m.get('lastLine')}: {m.get('message')} | {m.get('extract', '').strip()[:160]}")
    if run.returncode not in (0, 1) or (not messages and run.returncode):
        errors.append(f"vnu failed ({run.returncode}): {run.stderr[:500]}")
    return errors


# --- keyboard only ---------------------------------------------------------------------------


def _tab_to(page, predicate: str, limit: int = 150, shift=False) -> None:
    """Press Tab until `predicate` (JS, gets the focused element as `el`) holds."""
    test = f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if shift else "Tab")
        if page.evaluate(test):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def _focus_visible(page) -> None:
    style = page.evaluate("""(() => { const s = getComputedStyle(document.activeElement);
        return {outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow}; })()""")
    visible = (style["outline"] != "none" and style["width"] != "0px") or style["shadow"] != "none"
    assert visible, f"focus not visible on {page.evaluate('document.activeElement.outerHTML')[:200]}: {style}"


def _choose(page, text: str, limit=40) -> None:
    """Pick an option of the focused <select> with the arrow keys."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.selectedOptions[0]?.text") == text:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {text!r} not reached by the keyboard")


def _named(name):
    return f"el.name === {json.dumps(name)}"


def _log_in(page, site, email=None, password=None):
    page.goto(site.base + "/sprava/prihlaseni")
    _tab_to(page, _named("email"))
    page.keyboard.type(email or site.organiser_email)
    page.keyboard.press("Tab")
    page.keyboard.type(password or site.organiser_password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if urlsplit(page.url).path == "/sprava/overeni":
        # The second factor: the code the person's app shows next (each code is taken once, and
        # the same person may log in twice within one 30-second step here).
        email = email or site.organiser_email
        with site.app.app_context():
            user_id = accounts.user_by_email(email).id
            code = fresh_app_code(user_id, site.totp_secrets[email])
        _tab_to(page, _named("code"))
        page.keyboard.type(code)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert "/sprava/" in page.url and "prihlaseni" not in page.url and "overeni" not in page.url


# Words split over two lines inside a table cell ("prezenčn|ě"); long e-mails and links may wrap.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main td, main th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s–·,;()]+/g)) {
        if (/@|:\\/\\//.test(m[0])) continue;
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.bottom)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_words_in_public_tables_break_only_between_words(browser, site, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="cs-CZ")
    page = context.new_page()
    broken = {}
    for path in ("/", f"/nabidka/{site.offer_slug}", "/nabidka-pro-kraje", f"/prihlaska/{site.manage_token}"):
        page.goto(site.base + path)
        if words := page.evaluate(BROKEN_WORDS):
            broken[path] = words
    context.close()
    assert not broken, broken


def test_keyboard_journeys(browser, site):
    context = _context(browser, site)
    page = context.new_page()

    # 1. An OSPOD worker: skip link, the workshop, its sign-up, the form, the confirmation.
    page.goto(site.base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    _focus_visible(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "obsah"
    _tab_to(page, f"el.tagName === 'A' && el.textContent.trim() === {json.dumps(site.offer_title)}")
    _focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, "el.tagName === 'A' && el.textContent.startsWith('Přihlásit se')")
    _focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/prihlaska" in page.url
    _tab_to(page, _named("name"))
    page.keyboard.type("Alena Klávesová")
    page.keyboard.press("Tab")
    page.keyboard.type("alena.klavesova@example.cz")
    page.keyboard.press("Tab")  # phone: optional
    page.keyboard.press("Tab")  # the employer type radios
    assert page.evaluate("document.activeElement.type") == "radio"
    page.keyboard.press("Space")
    _tab_to(page, _named("region"))
    _choose(page, "Pardubický kraj")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "orp"
    _choose(page, "Litomyšl")
    _tab_to(page, _named("job_title"))
    page.keyboard.type("sociální pracovnice")
    _tab_to(page, _named("consent"))
    page.keyboard.press("Space")
    _tab_to(page, "el.type === 'submit'")
    _focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/prihlaska/" in page.url, page.content()[:2000]
    assert page.locator(".error-summary").count() == 0
    assert "Alena Klávesová" in page.content() or page.locator(".notice").count() > 0

    # 2. A coordinator asks for a workshop "na klíč".
    page.goto(site.base + "/zadost/workshop-na-klic")
    _tab_to(page, _named("name"))
    page.keyboard.type("Marie Koordinátorová")
    page.keyboard.press("Tab")
    page.keyboard.type("marie@kr-pardubicky.cz")
    _tab_to(page, _named("organisation"))
    page.keyboard.type("Krajský úřad Pardubického kraje")
    _tab_to(page, _named("region"))
    _choose(page, "Pardubický kraj")
    _tab_to(page, _named("topic_offer"))
    page.keyboard.press("ArrowDown")  # the first workshop of the catalogue as the topic
    assert page.evaluate("document.activeElement.value")
    _tab_to(page, _named("participant_needs"))
    page.keyboard.type("Práce s IPOD v malých ORP.")
    _tab_to(page, _named("expected_participants"))
    page.keyboard.type("12")
    _tab_to(page, _named("preferred_dates"))
    page.keyboard.type("duben 2027")
    _tab_to(page, _named("consent"))
    page.keyboard.press("Space")
    _tab_to(page, "el.type === 'submit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/zadost/" in page.url and page.locator(".error-summary").count() == 0, page.content()[:2000]

    # 3. The organiser logs in and marks a person present at the door.
    _log_in(page, site)
    page.goto(site.base + f"/sprava/terminy/{site.door_term}/prichody")
    _tab_to(page, "el.tagName === 'BUTTON' && el.closest('form').querySelector('[name=attended][value=ano]')")
    _focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".check-in-row.is-present").count() == 1, page.content()[:3000]
    context.close()


def _choose_starting(page, prefix: str, limit=40) -> None:
    """Pick the option of the focused <select> whose text starts with `prefix`, with the arrow keys."""
    for _ in range(limit):
        if (page.evaluate("document.activeElement.selectedOptions[0]?.text") or "").startswith(prefix):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option starting {prefix!r} reached by the keyboard")


def _press_enter(page):
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def test_an_administrator_invites_a_coordinator_who_sets_her_password_and_sees_her_krajs_requests(browser, site):
    """Lidé by keyboard only: the administrator invites a coordinator for Kraj Vysočina, then gives
    her Pardubický kraj; she sets her password from the e-mailed link, sets up her app at the first
    login and finds the kraj's request. Every page of the way passes axe and the HTML checker."""
    import pyotp

    from .helpers import outbox

    findings = Findings(site.folder)
    email = "nova.koordinace@mpsv.gov.cz"
    context = _context(browser, site)
    page = context.new_page()
    _log_in(page, site, site.admin_email, site.admin_password)
    _tab_to(page, "el.tagName === 'A' && el.textContent.trim() === 'Lidé'")
    _focus_visible(page)
    findings.check(page, "people.index", _press_enter(page), site.base)
    _tab_to(page, "el.tagName === 'A' && el.textContent.trim() === 'Pozvat nový účet'")
    findings.check(page, "people.invite", _press_enter(page), site.base)
    _tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Pozvat'")
    response = _press_enter(page)
    assert page.evaluate("document.activeElement.id") == "chyby"  # the summary takes the focus
    findings.check(page, "people.invite (errors)", response, site.base, expect_status=422)
    _tab_to(page, _named("email"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("Mgr. Nová Koordinátorka")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "role"
    _choose(page, "Koordinace kraje")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "region_id"
    _choose_starting(page, "Kraj Vysočina")
    _tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Pozvat'")
    _focus_visible(page)
    findings.check(page, "people.detail (coordinator)", _press_enter(page), site.base)
    assert "odkaz k nastavení hesla je na cestě" in page.content()

    _tab_to(page, _named("region_id"))
    _choose_starting(page, "Pardubický kraj")
    _tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Přidělit kraj'")
    _press_enter(page)
    notice = page.locator(".notice").all_inner_texts()
    assert any("Dosavadní koordinace (Světluše Kotrčová) kraj už nemá" in text for text in notice), notice
    context.close()

    # She sets her password from the e-mail, as she would click it.
    with site.app.app_context():
        (message,) = outbox("staff_password_link", email)
        link = re.search(r"https?://\S+/sprava/heslo/[\w-]+", message.body_text).group(0)
    context = _context(browser, site)
    page = context.new_page()
    findings.check(page, "auth.set_password (invited)", page.goto(site.base + urlsplit(link).path), site.base)
    _tab_to(page, _named("password"))
    page.keyboard.type("heslo-nove-koordinace")
    page.keyboard.press("Tab")
    page.keyboard.type("heslo-nove-koordinace")
    _press_enter(page)
    assert urlsplit(page.url).path == "/sprava/prihlaseni"

    # Her first login leads to the app's setup; then the kraj's requests.
    _tab_to(page, _named("email"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("heslo-nove-koordinace")
    _press_enter(page)
    assert urlsplit(page.url).path == "/sprava/overeni/nastaveni"
    with site.app.app_context():
        secret = accounts.user_by_email(email).totp_secret
    _tab_to(page, _named("code"))
    page.keyboard.type(pyotp.TOTP(secret).now())
    _press_enter(page)
    _tab_to(page, "el.tagName === 'A' && el.textContent.includes('pokračovat')")
    _press_enter(page)
    _tab_to(page, "el.tagName === 'A' && el.textContent.trim() === 'Žádosti'")
    findings.check(page, "requests_staff.index (new coordinator)", _press_enter(page), site.base)
    assert "Petra Krajská" in page.content()
    context.close()

    assert not findings.axe, _report_axe(findings.axe)
    assert not findings.overflow, findings.overflow
    assert _validate(findings.html) == []


def test_an_organiser_edits_previews_publishes_and_restores_a_workshop_by_keyboard(browser, site):
    """A planned workshop starts running: the organiser changes its status, period and description,
    sees the draft as the public page, publishes it (the public page and the API change only then),
    and restores the previous version from the history; every page passes axe-core and vnu."""
    with site.app.app_context():
        planned = db.session.scalars(select(Offer).where(Offer.slug == site.planned_slug)).one()
        title, old_description = planned.title, planned.description
    public_url, api_url = f"{site.base}/nabidka/{site.planned_slug}", f"{site.base}/api/v1/offers/{site.planned_slug}"
    shots = Path("/tmp/catalogue")
    shots.mkdir(exist_ok=True)
    findings = Findings(site.folder)
    context = _context(browser, site)
    page = context.new_page()
    anonymous = browser.new_context()

    def public_text():
        return anonymous.request.get(public_url).text()

    def api():
        return anonymous.request.get(api_url).json()

    _log_in(page, site)
    _tab_to(page, "el.tagName === 'A' && el.textContent.trim() === 'Katalog nabídky'")
    _focus_visible(page)
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    findings.check(page, "catalogue list", nav.value, site.base)
    _tab_to(page, f"el.tagName === 'A' && el.textContent.trim() === {json.dumps(title)}")
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    findings.check(page, "offer form", nav.value, site.base)
    page.screenshot(path=shots / "edit-1280.png", full_page=True)

    _tab_to(page, _named("status"))
    page.keyboard.press("ArrowUp")  # "probíhající" comes before "plánovaný"
    assert page.evaluate("document.querySelector('[name=status]:checked').value") == "running"
    _tab_to(page, _named("period"))
    page.keyboard.press("Control+A")
    page.keyboard.type("podzim 2027")
    _tab_to(page, _named("description"))
    page.keyboard.press("Control+A")
    page.keyboard.type("Workshop o práci s celou rodinou: jak vyhodnotit vztahy a zdroje.")
    _tab_to(page, "el.type === 'submit' && el.textContent.includes('náhled')")
    _focus_visible(page)
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    findings.check(page, "offer preview", nav.value, site.base)
    assert "/nahled" in page.url
    assert "Workshop o práci s celou rodinou" in page.content() and "podzim 2027" in page.content()
    page.screenshot(path=shots / "preview-1280.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=shots / "preview-375.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    # Only a draft so far: the public page and the API are as they were.
    assert "Workshop o práci s celou rodinou" not in public_text()
    assert api()["status"] == "planned"

    _tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Zveřejnit'")
    _focus_visible(page)
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    findings.check(page, "offer history", nav.value, site.base)
    page.screenshot(path=shots / "history-1280.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=shots / "history-375.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert "Workshop o práci s celou rodinou" in public_text()
    assert api()["status"] == "running" and api()["planned_period"] == "podzim 2027"

    _tab_to(page, "el.type === 'submit' && el.textContent.startsWith('Obnovit tuto verzi')")
    _focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Verze je obnovená a zveřejněná." in page.content()
    assert "Workshop o práci s celou rodinou" not in public_text()
    assert old_description.splitlines()[0].strip().removeprefix("- ") in public_text()
    assert api()["status"] == "planned"
    anonymous.close()
    context.close()

    vnu = _validate(findings.html)
    assert not findings.axe, _report_axe(findings.axe)
    assert not vnu, "\n".join(vnu)
    assert not findings.overflow, findings.overflow
    assert set(findings.status.values()) == {200}, findings.status


def test_a_lecturer_linked_to_a_term_opens_its_check_in_and_no_other(browser, site):
    """Her account is linked to the door term (as Lidé and the term form link it): from her start page,
    by keyboard, she opens its check-in; another term's check-in is refused. Her pages pass axe and vnu."""
    email, password = "lektorka@spod4.example", "heslo-lektorky-do-testu"
    with site.app.app_context():
        accounts.set_password(accounts.user_by_email(email), password)
        db.session.commit()
    findings = Findings(site.folder)
    context = _context(browser, site)
    page = context.new_page()
    _log_in(page, site, email, password)
    findings.check(page, "staff.index (lecturer)", page.goto(site.base + "/sprava/"), site.base)
    door_check_in = f"/sprava/terminy/{site.door_term}/prichody"
    _tab_to(page, f"el.tagName === 'A' && el.getAttribute('href') === {json.dumps(door_check_in)}")
    _focus_visible(page)
    findings.check(page, "attendance.check_in (lecturer)", _press_enter(page), site.base)
    assert urlsplit(page.url).path == door_check_in
    assert page.goto(site.base + f"/sprava/terminy/{site.term}/prichody").status == 403
    context.close()

    assert not findings.axe, _report_axe(findings.axe)
    assert not findings.overflow, findings.overflow
    assert _validate(findings.html) == []
