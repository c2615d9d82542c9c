"""Kde jsme byli in a real browser: the coordinator of Pardubický kraj logs in, follows the link on her
start page and sees every ORP of her kraj with this year's participants, the white spots marked, and
the two charts drawn; axe-core finds nothing, the Nu HTML Checker neither. Screenshots at 1280 and
375 px are kept in the test's folder (printed) for a person to look at.

Needs what tests/test_browser.py needs (Chromium, axe-core, vnu.jar, java); skipped without them."""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from trainings.extensions import db
from trainings.models import EmployerType
from trainings.people import accounts
from trainings.timefmt import PRAGUE

from .conftest import build_app
from .helpers import held_on, make_term
from .staff_helpers import FAST_HASH, PASSWORD, attend, enrol_second_factor, fresh_app_code, move_to_past, sign_up

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_ROUTE = "/__test__/axe.min.js"
COORDINATOR = "svetluse.kotrcova@mpsv.gov.cz"  # seeded for Pardubický kraj
# Where this year's participants come from: (workshop, month, [ORP of each one present]).
YEAR = [
    ("od-analyzy-k-tvorbe-ipod", 1, ["Litomyšl", "Litomyšl", "Pardubice", "Chrudim"]),
    ("rodicovske-spory", 2, ["Pardubice", "Svitavy"]),
    ("deti-s-postizenim", 3, ["Litomyšl", "Ústí nad Orlicí", "Žamberk", "Pardubice", "Pardubice"]),
    ("od-analyzy-k-tvorbe-ipod", 5, ["Chrudim", "Holice"]),
    ("syndrom-can", 9, ["Pardubice", "Vysoké Mýto", "Litomyšl"]),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = _missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    folder = tmp_path_factory.mktemp("coverage-browser")
    app = build_app(f"sqlite:///{folder / 'site.sqlite3'}", folder / "mail")
    today = datetime.now(PRAGUE)
    with app.app_context():
        person = 0
        for slug, month, places in YEAR:
            if month > today.month:
                continue
            term = make_term(slug=slug, capacity=10)
            registrations = []
            for place in places:
                person += 1
                registrations.append(sign_up(term, person, orp_name=place, employer=EmployerType.OSPOD))
            move_to_past(term, 1)
            for registration in registrations:
                attend(registration.id)
            held_on(term, min(datetime(today.year, month, 10, 9, tzinfo=PRAGUE), today.replace(hour=0)))
        coordinator = accounts.user_by_email(COORDINATOR)
        coordinator.password_hash = FAST_HASH
        db.session.commit()  # enrolling the app is a use case of its own, on committed rows
        secret = enrol_second_factor(coordinator)
        user_id = coordinator.id
        db.session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"app": app, "base": f"http://127.0.0.1:{server.server_port}", "folder": folder,
           "secret": secret, "user_id": user_id}
    server.shutdown()


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}"
    if not AXE.exists() or not VNU.exists():
        return "axe-core / vnu-jar missing (npm ci --prefix tests/js)"
    if not shutil.which("java"):
        return "java not found (the Nu HTML Checker needs it)"
    return None


def test_the_coordinator_sees_every_orp_of_her_kraj_the_white_spots_and_the_charts(site):
    from playwright.sync_api import sync_playwright

    base, folder = site["base"], site["folder"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="cs-CZ")
        axe = AXE.read_bytes()
        context.route(base + AXE_ROUTE, lambda route: route.fulfill(
            status=200, body=axe, headers={"Content-Type": "text/javascript"}))
        page = context.new_page()
        page.goto(base + "/sprava/prihlaseni")
        page.fill("input[name=email]", COORDINATOR)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        with site["app"].app_context():
            code = fresh_app_code(site["user_id"], site["secret"])
        page.fill("input[name=code]", code)
        with page.expect_navigation():
            page.click("main button[type=submit]")

        with page.expect_navigation() as navigation:
            page.click("text=Kde jsme byli: účastníci z vašeho kraje")
        response = navigation.value
        assert response.status == 200
        assert page.locator("h1").inner_text() == "Kde jsme byli: Pardubický kraj"

        rows = page.locator("table.coverage tbody tr")
        assert rows.count() == 15  # every ORP of Pardubický kraj
        shown = {}
        for i in range(rows.count()):
            row = rows.nth(i)
            name = row.locator("th").inner_text()
            count = int(row.locator("td").first.inner_text())
            marked = row.locator("td").last.inner_text()
            shown[name] = count
            assert (marked == "ano – letos nikdo") == (count == 0), name
        expected: dict[str, int] = {}
        for _, month, places in YEAR:
            if month <= datetime.now(PRAGUE).month:
                for place in places:
                    expected[place] = expected.get(place, 0) + 1
        assert {name: n for name, n in shown.items() if n} == expected
        assert "Hlinsko" in page.locator(".white-spots").inner_text()

        charts = page.locator("figure.chart svg")
        assert charts.count() == 2
        for i in range(2):
            assert charts.nth(i).get_attribute("aria-hidden") == "true"
            assert charts.nth(i).bounding_box()["height"] > 100  # drawn, not an empty box
        assert page.locator("figure.chart svg rect.chart-bar").count() == 12 + len({s for s, m, _ in YEAR
                                                                                   if m <= datetime.now(PRAGUE).month})

        page.add_script_tag(url=base + AXE_ROUTE)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        assert result["violations"] == [], json.dumps(result["violations"], ensure_ascii=False)[:2000]

        html = folder / "coverage.html"
        html.write_bytes(response.body())
        run = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--stdout", str(html)],
                             capture_output=True, text=True, timeout=120)
        errors = [m for m in json.loads(run.stdout or "{}").get("messages", []) if m.get("type") == "error"]
        assert errors == []

        shots = Path(os.environ.get("SCREENSHOTS", folder))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "coverage-1280.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= 376
        page.screenshot(path=str(shots / "coverage-375.png"), full_page=True)
        print(f"screenshots in {shots}")
        browser.close()
