"""Screenshots of what people see, for the next engineer: `.venv/bin/python docs/screens/take.py [names…]`.

Runs the application on a temporary SQLite file with the browser test's data (tests/test_browser.py)
and Debian's Chromium, and writes small PNGs beside this file at 1280 px and 375 px.
"""
import logging
import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import build_app  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _log_in, _seed  # noqa: E402

HERE = Path(__file__).resolve().parent


def pages(site):
    """(file name, path, log in as admin first) for each screen."""
    return [
        # The home page shows the planned workshops, section B and the contacts at its foot.
        ("katalog", "/", False),
        ("workshop-s-terminy", f"/nabidka/{site.offer_slug}", False),
        ("plosna-nabidka-b1", "/nabidka/proskoleni-ospod-orp-v-aktualnich-tematech", False),
        ("nabidka-pro-kraje", "/nabidka-pro-kraje", False),
        ("prihlaska-potvrzena", f"/prihlaska/{site.manage_token}", False),
        # After a sign-up: the same page whoever's address was typed; the result comes by e-mail.
        ("prihlaska-odeslana", f"/termin/{site.term}/prihlaska/odeslano", False),
        # Cancelling asks first; afterwards the page offers the undo. The per-ORP limit on the form and
        # on the page of someone it put on the waiting list.
        ("prihlaska-zrusit", f"/prihlaska/{site.manage_token}/zrusit", False),
        ("prihlaska-zrusena", f"/prihlaska/{site.undo_token}", False),
        ("formular-limit-orp", f"/termin/{site.orp_term}/prihlaska", False),
        ("prihlaska-limit-orp", f"/prihlaska/{site.orp_token}", False),
        # Plans change: another term of the workshop, a seat kept while waiting for it, a seat handed over.
        ("prihlaska-jiny-termin", f"/prihlaska/{site.manage_token}/jiny-termin", False),
        ("prihlaska-ceka-na-jiny-termin", f"/prihlaska/{site.switch_holder_token}", False),
        ("prihlaska-zmena-terminu-cekaci-listina", f"/prihlaska/{site.switch_entry_token}", False),
        ("prihlaska-predat-misto", f"/prihlaska/{site.manage_token}/predat", False),
        ("prihlaska-misto-nabidnuto", f"/prihlaska/{site.handover_giver_token}", False),
        ("predani-mista-potvrzeni", f"/predani-mista/{site.handover_token}", False),
        ("predani-mista-neplati", "/predani-mista/neplatny-odkaz", False),
        # Journey 2: a kraj asks for a workshop "na klíč"; the requester follows it; the coordinator answers.
        ("zadost-workshop-na-klic", "/zadost/workshop-na-klic", False),
        ("zadost-sledovani", f"/zadost/{site.request_token}", False),
        ("koordinace-zadost", f"/sprava/zadosti/{site.request}", True),
        ("moje-vzdelavani-zadost", "/moje-vzdelavani", False),
        ("moje-vzdelavani", f"/moje-vzdelavani/{site.person_token}", False),
        ("odkaz-neplati", "/moje-vzdelavani/neplatny-odkaz", False),
        ("zapomenute-heslo", "/sprava/zapomenute-heslo", False),
        ("dvoufazove-overeni", "/sprava/ucet/dvoufazove-overeni", True),
        # The back office: a closed term with its link to copy, the reports, check-in of a term running now.
        ("termin-uzavreny", f"/sprava/terminy/{site.closed_term}", True),
        ("vykazy", "/sprava/vykazy/", True),
        ("sprava-start", "/sprava/", True),
        ("sprava-terminy", "/sprava/terminy/", True),
        ("termin-upravit", f"/sprava/terminy/{site.today_term}/upravit", True),
        ("prichody-dnes", f"/sprava/terminy/{site.today_term}/prichody", True),
        # After the workshop: the questionnaire, its thank-you, the certificate verification pages,
        # and the staff's results (one term with enough answers) and questions.
        ("zpetna-vazba-dotaznik", site.questionnaire, False),
        ("zpetna-vazba-dekujeme", site.feedback_thanks, False),
        ("overeni-osvedceni", "/overeni-osvedceni", False),
        ("osvedceni-platne", f"/overeni-osvedceni/{site.certificate_code}", False),
        ("osvedceni-neplatne", f"/overeni-osvedceni/{site.invalid_certificate_code}", False),
        ("osvedceni-neevidujeme", "/overeni-osvedceni/ABCDEFGHJKMN", False),
        ("zpetna-vazba-vysledky", "/sprava/zpetna-vazba/", True),
        ("zpetna-vazba-termin", f"/sprava/zpetna-vazba/termin/{site.feedback_term}", True),
        ("zpetna-vazba-otazky", "/sprava/zpetna-vazba/otazky", True),
    ]


def _feedback_answers(app, site):
    """Enough answers on the ended term for its results to show (the browser test's data has one)."""
    from sqlalchemy import select

    from trainings.extensions import db
    from trainings.models import FeedbackAnswer, Registration

    with app.app_context():
        term = db.session.scalars(
            select(Registration).where(Registration.certificate_code == site.certificate_code)).one().term
        site.feedback_term = term.id
        for scores, comment in (({"obsah": 4, "lektor": 5, "praxe": 4, "organizace": 5}, "Víc kazuistik z praxe OSPOD."),
                                ({"obsah": 5, "lektor": 5, "praxe": 5}, None),
                                ({"obsah": 3, "lektor": 4, "praxe": 4, "organizace": 4}, "Přestávky by mohly být delší.")):
            db.session.add(FeedbackAnswer(term_id=term.id, lecturer=term.lecturer, submitted_on=term.ends_at.date(),
                                          scores=scores, comment=comment))
        db.session.commit()
        db.session.remove()


def _back_office(app, site):
    """The demo's term at the door (people checked in, so the reports have hours) and the closed term's id."""
    from sqlalchemy import select

    from trainings.demo import seed_demo_term_today
    from trainings.extensions import db
    from trainings.models import Registration, Term
    from trainings.people import accounts
    from trainings.registration import staff_actions

    with app.app_context():
        today = seed_demo_term_today()
        organiser = accounts.user_by_email(site.organiser_email)
        people = db.session.scalars(select(Registration.id).where(Registration.term_id == today.id)
                                    .order_by(Registration.id)).all()
        for registration_id in people[:3]:
            staff_actions.mark_attendance(registration_id, True, organiser)
        site.today_term = today.id
        site.closed_term = db.session.scalar(select(Term.id).where(Term.signup_token == site.closed_token))
        db.session.remove()


def _registration_states(app, site):
    """A registration just cancelled (undo offered) and one waitlisted by the per-ORP limit."""
    from sqlalchemy import select

    from trainings.extensions import db
    from trainings.models import EmployerType, Orp, Term
    from trainings.registration import service

    with app.app_context():
        litomysl = db.session.scalars(select(Orp).where(Orp.name == "Litomyšl")).one()

        def applicant(name, email):
            return service.Applicant(name=name, email=email, employer_type=EmployerType.OSPOD,
                                     job_title="sociální pracovnice", region_id=litomysl.region_id,
                                     orp_id=litomysl.id)

        cancelled = service.register(site.term, applicant("Petra Zrušilová", "petra.zrusilova@example.cz"))
        service.cancel(cancelled.registration.id)
        site.undo_token = cancelled.token
        term = db.session.scalars(select(Term).where(Term.public.is_(True), Term.per_orp_limit.is_not(None),
                                                     Term.capacity > Term.per_orp_limit, Term.id != site.term)).first()
        site.orp_term = term.id
        for i in range(term.per_orp_limit + 1):
            outcome = service.register(term.id, applicant(f"Kolegyně Litomyšlová {i + 1}", f"kolegyne{i}@example.cz"))
        site.orp_token = outcome.token
        db.session.remove()


def main(only):
    folder = Path(tempfile.mkdtemp())
    app = build_app(f"sqlite:///{folder / 'screens.sqlite3'}", folder / "mail")
    site = _seed(app)
    site.app = app
    _back_office(app, site)
    _registration_states(app, site)
    _feedback_answers(app, site)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in (1280, 375):
            context = browser.new_context(viewport={"width": width, "height": 800}, locale="cs-CZ")
            page = context.new_page()
            logged_in = False
            for name, path, staff in pages(site):
                if only and name not in only:
                    continue
                if staff and not logged_in:
                    _log_in(page, site, site.admin_email, site.admin_password)
                    logged_in = True
                page.goto(site.base + path)
                target = HERE / f"{name}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                # A 64-colour palette keeps the files small enough to live in the repository.
                Image.open(target).convert("RGB").quantize(colors=64).save(target, optimize=True)
                print(target.relative_to(ROOT))
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(set(sys.argv[1:]))
