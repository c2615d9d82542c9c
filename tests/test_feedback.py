"""After the workshop: present people get one e-mail with their osvědčení and an anonymous questionnaire,
one reminder, one answer each; staff see results per term, workshop and lecturer only from 3 answers."""
import io
import re
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from trainings.extensions import db
from trainings.feedback import service as feedback
from trainings.models import AuditEntry, FeedbackAnswer, FeedbackInvitation, Registration, Term, TermState, utcnow
from trainings.privacy.service import erase_person

from .helpers import make_term, outbox
from .staff_helpers import attend, fresh, move_to_past, organiser, organiser_client, sign_up, token_of

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

QUESTIONNAIRE = re.compile(r"http://spod4\.test(/zpetna-vazba/[A-Za-z0-9_-]+)")
MANAGE = re.compile(r"http://spod4\.test(/prihlaska/[A-Za-z0-9_-]+)")


def ended_term(*, present, absent=0, unmarked=0, lecturer="Mgr. Petra Lektorová", days_ago=1, slug=None, first=0):
    """A term that ended `days_ago` days ago, with people marked present, absent or not at all."""
    term = make_term(lecturer=lecturer, **({"slug": slug} if slug else {}))
    people = {kind: [sign_up(term, first + n * 10 + i, name=f"Účastnice Nováková {first + n * 10 + i}")
                     for i in range(count)]
              for n, (kind, count) in enumerate((("present", present), ("absent", absent), ("unmarked", unmarked)))}
    move_to_past(term, days_ago)
    for person in people["present"]:
        attend(person.id, True)
    for person in people["absent"]:
        attend(person.id, False)
    return fresh(Term, term.id), people


def run_cron(app):
    result = app.test_cli_runner().invoke(args=["feedback", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def link_of(message, pattern=QUESTIONNAIRE) -> str:
    return pattern.search(message.body_text).group(1)


def answer(client, path, **values):
    """Fill the questionnaire as a browser: the form's own CSRF token, then the values."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": token_of(page), **values})


def questionnaire_links(app, term) -> list[str]:
    run_cron(app)
    return [link_of(m) for m in outbox("feedback_invitation")
            if fresh(Registration, m.registration_id).term_id == term.id]


# --- asking ---------------------------------------------------------------------------------------


def test_only_present_people_get_the_email_and_only_once_however_often_cron_runs(app, client):
    term, people = ended_term(present=2, absent=1, unmarked=1)
    long_ago, old_people = ended_term(present=1, days_ago=45, first=50)  # before the feature: left alone
    cancelled, cancelled_people = ended_term(present=1, first=60)
    cancelled.state = TermState.CANCELLED
    db.session.commit()
    running = make_term(hours=4)
    person = sign_up(running, 70)
    running = move_to_past(running, 0)  # started just now, ends in four hours
    attend(person.id, True)

    assert "Dotazníků zařazeno do fronty: 2, připomínek: 0." in run_cron(app)
    assert "Dotazníků zařazeno do fronty: 0, připomínek: 0." in run_cron(app)
    sent = outbox("feedback_invitation")
    assert sorted(m.recipient for m in sent) == sorted(p.email for p in people["present"])
    assert db.session.scalar(select(func.count(FeedbackInvitation.id))) == 2

    message = next(m for m in sent if m.recipient == people["present"][0].email)
    assert message.subject.startswith(f"Děkujeme za účast: {term.offer.title}")
    # Her private link shows the osvědčení; the questionnaire opens.
    page = client.get(link_of(message, MANAGE)).get_data(as_text=True)
    assert f"/osvedceni/{people['present'][0].id}.pdf" in page
    form = client.get(link_of(message)).get_data(as_text=True)
    assert "Obsah workshopu" in form and "<fieldset" in form and "<legend>Lektorské vedení</legend>" in form
    assert link_of(message) in message.body_html.replace("http://spod4.test", "")


def test_one_reminder_to_those_who_have_not_answered(app, client):
    term, people = ended_term(present=3)
    links = questionnaire_links(app, term)
    assert answer(client, links[0], q_obsah="5").status_code == 302

    assert feedback.send_reminders(now=utcnow() + timedelta(days=3)) == 0  # too early
    assert feedback.send_reminders(now=utcnow() + timedelta(days=5)) == 2
    assert feedback.send_reminders(now=utcnow() + timedelta(days=9)) == 0  # one only
    assert "připomínek: 0" in run_cron(app)
    reminders = outbox("feedback_reminder")
    answered = fresh(Registration, people["present"][0].id)
    assert sorted(m.recipient for m in reminders) == sorted(p.email for p in people["present"][1:])
    assert answered.email not in {m.recipient for m in reminders}
    # The same questionnaire link as the invitation, and it still works.
    by_recipient = {m.recipient: link_of(m) for m in outbox("feedback_invitation")}
    for message in reminders:
        assert link_of(message) == by_recipient[message.recipient]
    assert client.get(link_of(reminders[0])).status_code == 200


def test_an_erased_person_gets_no_email_and_her_link_closes(app, client):
    term, people = ended_term(present=2)
    erase_person(people["present"][1].email, organiser())
    links = questionnaire_links(app, term)
    assert [m.recipient for m in outbox("feedback_invitation")] == [people["present"][0].email]
    erase_person(people["present"][0].email, organiser())
    assert client.get(links[0]).status_code == 404
    assert feedback.send_reminders(now=utcnow() + timedelta(days=5)) == 0


# --- answering ----------------------------------------------------------------------------------------


def test_one_answer_per_registration_even_on_a_double_submit(app, client):
    term, _ = ended_term(present=1)
    path = questionnaire_links(app, term)[0]
    page = client.get(path)
    data = {"csrf_token": token_of(page), "q_obsah": "4", "q_lektor": "5", "comment": "Užitečné."}
    first = client.post(path, data=data)
    second = client.post(path, data=data)  # the button pressed twice
    assert first.status_code == 302 and first.headers["Location"].endswith(f"{path}/dekujeme")
    assert "Děkujeme za zpětnou vazbu" in client.get(first.headers["Location"]).get_data(as_text=True)
    assert second.status_code == 200 and "Dotazník je už vyplněný" in second.get_data(as_text=True)
    assert "Dotazník je už vyplněný" in client.get(path).get_data(as_text=True)
    answers = db.session.scalars(select(FeedbackAnswer)).all()
    assert len(answers) == 1
    assert answers[0].scores == {"obsah": 4, "lektor": 5} and answers[0].comment == "Užitečné."
    assert answers[0].term_id == term.id and answers[0].lecturer == "Mgr. Petra Lektorová"


def test_submits_at_the_same_moment_store_one_answer(app):
    term, _ = ended_term(present=1)
    token = questionnaire_links(app, term)[0].rsplit("/", 1)[1]
    barrier, outcomes = threading.Barrier(4), []

    def submit():
        with app.app_context():
            barrier.wait()
            try:
                feedback.submit(token, {"obsah": 3}, None)
                outcomes.append("stored")
            except feedback.AlreadyAnswered:
                outcomes.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 3 + ["stored"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(FeedbackAnswer.id))) == 1


def test_at_least_one_answer_and_only_the_scale(app, client):
    term, _ = ended_term(present=1)
    path = questionnaire_links(app, term)[0]
    response = answer(client, path, comment="   ")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Vyplňte prosím alespoň jednu odpověď nebo komentář." in page
    assert 'href="#q_obsah"' in page and 'id="q_obsah"' in page  # the summary leads to the first question
    response = answer(client, path, q_obsah="7", comment="Dobré")  # not on the scale: refused
    assert response.status_code == 422 and "Dobré</textarea>" in response.get_data(as_text=True)  # typed text kept
    assert db.session.scalar(select(func.count(FeedbackAnswer.id))) == 0
    assert answer(client, path, comment="Jen komentář").status_code == 302  # a comment alone is an answer
    assert client.get("/zpetna-vazba/neexistujici-odkaz").status_code == 404


def test_the_questions_setting_changes_what_the_form_asks(app, client):
    staff = organiser_client(app)
    page = staff.get("/sprava/zpetna-vazba/otazky").get_data(as_text=True)
    assert 'value="Obsah workshopu"' in page
    response = staff.post("/sprava/zpetna-vazba/otazky", data={
        "csrf_token": token_of(page), "otazka_1": "Srozumitelnost výkladu", "otazka_2": "Lektorské vedení",
        "otazka_3": "", "otazka_4": "Organizace", "otazka_5": "Doporučili byste workshop kolegům?"})
    assert response.status_code == 302
    asked = feedback.questions()
    assert [q.text for q in asked] == ["Srozumitelnost výkladu", "Lektorské vedení", "Organizace",
                                       "Doporučili byste workshop kolegům?"]
    assert [q.key for q in asked[:3]] == ["obsah", "lektor", "organizace"]  # reworded: results stay with them

    term, _ = ended_term(present=1)
    path = questionnaire_links(app, term)[0]
    form = client.get(path).get_data(as_text=True)
    assert "<legend>Srozumitelnost výkladu</legend>" in form and "Doporučili byste workshop kolegům?" in form
    assert "Přínos pro vaši praxi" not in form and "Obsah workshopu" not in form
    assert answer(client, path, **{f"q_{asked[3].key}": "5"}).status_code == 302
    stored = db.session.scalars(select(FeedbackAnswer)).one()
    assert stored.scores == {asked[3].key: 5}

    # Nothing left is refused with a Czech message, and what was typed stays.
    page = staff.get("/sprava/zpetna-vazba/otazky").get_data(as_text=True)
    response = staff.post("/sprava/zpetna-vazba/otazky", data={"csrf_token": token_of(page)})
    assert response.status_code == 422 and "Zadejte alespoň jednu otázku." in response.get_data(as_text=True)
    assert staff.post("/sprava/zpetna-vazba/otazky", data={"otazka_1": "Bez tokenu"}).status_code == 400  # CSRF
    assert len(feedback.questions()) == 4


# --- results ----------------------------------------------------------------------------------------


def _answers(app, client, term, values):
    links = questionnaire_links(app, term)
    for path, data in zip(links, values):
        assert answer(client, path, **data).status_code == 302


def test_results_are_hidden_below_three_answers_and_shown_from_three(app, client):
    term, people = ended_term(present=3)
    links = questionnaire_links(app, term)
    staff = organiser_client(app)
    assert answer(client, links[0], q_obsah="5", q_praxe="4", comment="Zajímavé kazuistiky.").status_code == 302
    assert answer(client, links[1], q_obsah="4", comment="Ano, děkuji.").status_code == 302
    page = staff.get(f"/sprava/zpetna-vazba/termin/{term.id}").get_data(as_text=True)
    assert "Výsledky se zobrazí od 3 odpovědí" in page
    assert "Zajímavé kazuistiky." not in page and "Ano, děkuji." not in page
    index = staff.get("/sprava/zpetna-vazba/").get_data(as_text=True)
    assert "Výsledky se zobrazí od 3 odpovědí" in index and term.offer.title in index

    assert answer(client, links[2], q_obsah="3", q_praxe="5", q_organizace="2",
                  comment="Více času na diskusi.").status_code == 302
    page = staff.get(f"/sprava/zpetna-vazba/termin/{term.id}").get_data(as_text=True)
    assert "Výsledky se zobrazí" not in page and "3 odpovědi" in page
    assert re.search(r"Obsah workshopu</th><td>4</td><td>3</td>", page)  # (5 + 4 + 3) / 3 from 3 scores
    assert re.search(r"Přínos pro vaši praxi</th><td>–</td><td>2</td>", page)  # 2 scores: no average
    # Comments alphabetically, not in the order they came.
    assert page.index("Ano, děkuji.") < page.index("Více času na diskusi.") < page.index("Zajímavé kazuistiky.")


def test_results_per_lecturer_and_workshop_gather_terms_over_the_period(app, client):
    """Two answers on one term and one on another are hidden per term, but the lecturer and the
    workshop have three."""
    first, _ = ended_term(present=2, lecturer="Mgr. Petra Lektorová", days_ago=3)
    second, _ = ended_term(present=1, lecturer="mgr.  petra lektorová", days_ago=2, first=30)
    other, _ = ended_term(present=1, lecturer="Jiný Lektor", days_ago=2, first=40,
                          slug="rodicovske-spory")
    _answers(app, client, first, [{"q_lektor": "5"}, {"q_lektor": "4"}])
    _answers(app, client, second, [{"q_lektor": "3", "comment": "Skvělé příklady."}])
    _answers(app, client, other, [{"q_lektor": "1", "comment": "Nic moc."}])
    staff = organiser_client(app)
    today = utcnow().date()
    period = {"od": (today - timedelta(days=10)).isoformat(), "do": today.isoformat()}

    page = staff.get("/sprava/zpetna-vazba/souhrn", query_string={**period, "lektor": "Mgr. Petra Lektorová"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "3 odpovědi" in text and "Skvělé příklady." in text
    assert re.search(r"Lektorské vedení</th><td>4</td><td>3</td>", text)
    assert "Nic moc." not in text

    workshop = staff.get("/sprava/zpetna-vazba/souhrn", query_string={**period, "workshop": first.offer_id})
    assert "3 odpovědi" in workshop.get_data(as_text=True)
    index = staff.get("/sprava/zpetna-vazba/", query_string=period).get_data(as_text=True)
    assert index.count("Mgr. Petra Lektorová") == 1  # one lecturer, whatever case and spaces were typed
    assert "Jiný Lektor" in index
    # Outside the period nothing.
    before = {"od": (today - timedelta(days=60)).isoformat(), "do": (today - timedelta(days=30)).isoformat()}
    page = staff.get("/sprava/zpetna-vazba/souhrn", query_string={**before, "lektor": "Mgr. Petra Lektorová"})
    assert "Výsledky se zobrazí od 3 odpovědí" in page.get_data(as_text=True)


def test_the_xlsx_holds_the_same_results_for_project_reporting(app, client):
    term, _ = ended_term(present=3)
    small, _ = ended_term(present=1, first=30, lecturer="Jiný Lektor", slug="rodicovske-spory")
    _answers(app, client, term, [{"q_obsah": "5", "comment": "B"}, {"q_obsah": "4", "comment": "A"},
                                 {"q_obsah": "4", "q_lektor": "5"}])
    _answers(app, client, small, [{"q_obsah": "1", "comment": "Tajné"}])
    today = utcnow().date()
    response = organiser_client(app).get("/sprava/zpetna-vazba/vysledky.xlsx", query_string={
        "od": (today - timedelta(days=10)).isoformat(), "do": today.isoformat()})
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Souhrn", "Termíny", "Workshopy", "Lektoři", "Komentáře"]
    workshops = {row[0]: row for row in book["Workshopy"].iter_rows(min_row=2, values_only=True)}
    header = next(book["Workshopy"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("Workshop", "Odpovědi", "Obsah workshopu")
    assert workshops[term.offer.title][1:3] == (3, 4.3)
    assert workshops[small.offer.title][1] == "méně než 3 odpovědi" and workshops[small.offer.title][2] is None
    lecturers = {row[0]: row[1] for row in book["Lektoři"].iter_rows(min_row=2, values_only=True)}
    assert lecturers == {"Jiný Lektor": "méně než 3 odpovědi", "Mgr. Petra Lektorová": 3}
    comments = [row[2] for row in book["Komentáře"].iter_rows(min_row=2, values_only=True)]
    assert comments == ["A", "B"]  # alphabetically; the term with one answer keeps its comment to itself


def test_no_staff_page_shows_who_answered_what(app, client):
    term, people = ended_term(present=3)
    _answers(app, client, term, [{"q_obsah": "1", "comment": "Slabé."}, {"q_obsah": "5"}, {"q_obsah": "5"}])
    staff = organiser_client(app)
    pages = [staff.get(path).get_data(as_text=True) for path in (
        "/sprava/zpetna-vazba/", f"/sprava/zpetna-vazba/termin/{term.id}",
        f"/sprava/zpetna-vazba/souhrn?workshop={term.offer_id}")]
    assert "Slabé." in pages[1]
    for page in pages:
        for person in people["present"]:
            assert person.name not in page and person.email not in page
    # Her registration's staff pages say nothing about the questionnaire.
    for person in people["present"]:
        for path in (f"/sprava/prihlasky/{person.id}", f"/sprava/terminy/{term.id}/prihlasky"):
            page = re.sub(r"<nav.*?</nav>", "", staff.get(path).get_data(as_text=True), flags=re.S)
            assert "dotazník" not in page.lower() and "zpětn" not in page.lower() and "Slabé." not in page
    # The answer itself holds nothing that points back to her.
    columns = set(FeedbackAnswer.__table__.columns.keys())
    assert columns == {"id", "term_id", "lecturer", "submitted_on", "scores", "comment"}
    assert all(i.answered_at.astimezone(feedback.PRAGUE).time().hour == 0
               for i in db.session.scalars(select(FeedbackInvitation)))  # the day, not the moment


def test_the_questions_the_xlsx_and_the_summaries_across_lecturers_are_for_organisers_only(app):
    from .staff_helpers import remove_user, staff_user, log_in
    from trainings.models import StaffRole

    lecturer = staff_user("lektorka.zv@example.cz", "Petra Lektorová", StaffRole.LECTURER)
    try:
        client = app.test_client()
        assert log_in(client, lecturer.email, "dlouhe-heslo-pro-test").status_code == 302
        for path in ("/sprava/zpetna-vazba/otazky", "/sprava/zpetna-vazba/vysledky.xlsx",
                     "/sprava/zpetna-vazba/souhrn?lektor=Petra+Lektorov%C3%A1"):
            assert client.get(path).status_code == 403
        assert "Zpětná vazba" in organiser_client(app).get("/sprava/").get_data(as_text=True)
    finally:
        remove_user(lecturer.id)


def test_a_lecturer_sees_the_results_of_her_own_terms_and_no_one_elses(app, client):
    """Petra's account is linked to her term; another lecturer's term of the same workshop, with as
    many answers, stays hidden from her, on the list and by its address."""
    from .staff_helpers import remove_user, staff_user, log_in
    from trainings.models import StaffRole

    petra = staff_user("petra.zv@example.cz", "Petra Lektorová", StaffRole.LECTURER)
    try:
        hers, _ = ended_term(present=3, lecturer="Mgr. Petra Lektorová")
        other, _ = ended_term(present=3, lecturer="Mgr. Eva Jiná", first=100, days_ago=2)
        db.session.get(Term, hers.id).lecturers.append(db.session.get(type(petra), petra.id))
        db.session.commit()
        _answers(app, client, hers, [{"q_obsah": "5", "comment": "Petřin termín byl skvělý."}] * 3)
        _answers(app, client, other, [{"q_obsah": "2", "comment": "Evin termín byl dlouhý."}] * 3)

        browser = app.test_client()
        assert log_in(browser, petra.email, "dlouhe-heslo-pro-test").status_code == 302
        assert "Zpětná vazba" in browser.get("/sprava/").get_data(as_text=True)
        index = browser.get("/sprava/zpetna-vazba/")
        assert index.status_code == 200
        html = index.get_data(as_text=True)
        assert f"/sprava/zpetna-vazba/termin/{hers.id}" in html
        assert f"/sprava/zpetna-vazba/termin/{other.id}" not in html
        assert "Mgr. Eva Jiná" not in html and "Podle workshopů" not in html and "XLSX" not in html

        page = browser.get(f"/sprava/zpetna-vazba/termin/{hers.id}")
        assert page.status_code == 200
        assert "Petřin termín byl skvělý." in page.get_data(as_text=True)
        assert browser.get(f"/sprava/zpetna-vazba/termin/{other.id}").status_code == 403

        # The organiser still sees both.
        everything = organiser_client(app).get("/sprava/zpetna-vazba/").get_data(as_text=True)
        assert f"/termin/{hers.id}" in everything and f"/termin/{other.id}" in everything
    finally:
        remove_user(petra.id)


# --- sending from the term's page ---------------------------------------------------------------


def send_from_term_page(client, term):
    """On the term's page: "Poslat osvědčení a dotazník"; returns the page it leads back to."""
    response = client.post(f"/sprava/terminy/{term.id}/osvedceni-a-dotaznik", data={"csrf_token": client.token})
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith(f"/sprava/terminy/{term.id}")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_organiser_sends_the_osvedceni_and_questionnaire_from_the_terms_page_once_per_person(app):
    term, people = ended_term(present=2, absent=1, unmarked=1)
    staff = organiser_client(app)
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert "Poslat osvědčení a dotazník" in page and "poslány" not in page

    page = send_from_term_page(staff, term)
    assert "Osvědčení a dotazník jsou ve frontě k odeslání na 2 adresy." in page
    assert "Osvědčení a dotazník poslány na 2 adresy (naposledy: " in page
    assert "Poslat osvědčení a dotazník</button>" not in page  # nobody left to send to
    assert sorted(m.recipient for m in outbox("feedback_invitation")) == sorted(p.email for p in people["present"])

    # Pressed again (another tab, a double click) and cron after it: nobody gets a second one.
    page = send_from_term_page(staff, term)
    assert "Osvědčení a dotazník už odešly všem, kdo mají zapsanou účast; nic dalšího se neposílá." in page
    assert "Dotazníků zařazeno do fronty: 0, připomínek: 0." in run_cron(app)
    assert len(outbox("feedback_invitation")) == 2

    # Someone marked present later is sent hers alone.
    late = people["unmarked"][0]
    attend(late.id, True)
    page = staff.get(f"/sprava/terminy/{term.id}").get_data(as_text=True)
    assert "Poslat osvědčení a dotazník</button>" in page
    assert "Osvědčení a dotazník jsou ve frontě k odeslání na 1 adresu." in send_from_term_page(staff, term)
    assert [m.recipient for m in outbox("feedback_invitation")][-1] == late.email
    assert len(outbox("feedback_invitation")) == 3
    assert db.session.scalars(select(AuditEntry.data).where(AuditEntry.action == "term.feedback_sent")).all() == [
        {"count": 2}, {"count": 0}, {"count": 1}]


def test_sending_from_the_terms_page_waits_for_the_end_and_for_someone_marked_present(app):
    staff = organiser_client(app)
    running = make_term(hours=4)
    person = sign_up(running, 1)
    running = move_to_past(running, 0)  # started just now, ends in four hours
    attend(person.id, True)
    nobody, _ = ended_term(present=0, absent=1, first=10)
    cancelled, _ = ended_term(present=1, first=20)
    cancelled.state = TermState.CANCELLED
    db.session.commit()
    long_ago, _ = ended_term(present=1, days_ago=45, first=30)

    refusals = {
        running.id: "Osvědčení a dotazník lze poslat až po skončení termínu.",
        nobody.id: "Nikdo není zapsaný jako přítomný, není komu poslat osvědčení a dotazník.",
        cancelled.id: "Termín je zrušený.",
        long_ago.id: "Osvědčení a dotazník se posílají nejpozději 30 dní po skončení termínu.",
    }
    for term_id, refusal in refusals.items():
        page = staff.get(f"/sprava/terminy/{term_id}").get_data(as_text=True)
        assert "Poslat osvědčení a dotazník</button>" not in page
        assert refusal in page, term_id
        assert refusal in send_from_term_page(staff, fresh(Term, term_id))
    assert not outbox("feedback_invitation")
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "term.feedback_sent")).all()


def test_only_organisers_send_them_not_even_the_terms_lecturer(app):
    from trainings.models import StaffRole

    from .staff_helpers import browser, remove_user, staff_user

    term, _people = ended_term(present=1)
    lecturer = staff_user("lektorka.odeslani@example.cz", "Petra Lektorová", StaffRole.LECTURER)
    coordinator = staff_user("koordinatorka.odeslani@example.cz", "Eva Koordinátorová", StaffRole.COORDINATOR)
    db.session.get(Term, term.id).lecturers.append(lecturer)  # her own term: she takes its attendance
    db.session.commit()
    try:
        for email in (lecturer.email, coordinator.email):
            client = browser(app, email)
            response = client.post(f"/sprava/terminy/{term.id}/osvedceni-a-dotaznik",
                                   data={"csrf_token": client.token})
            assert response.status_code == 403, email
        anonymous = browser(app)
        response = anonymous.post(f"/sprava/terminy/{term.id}/osvedceni-a-dotaznik",
                                  data={"csrf_token": anonymous.token})
        assert response.status_code == 302 and "/sprava/prihlaseni" in response.headers["Location"]
        # Without the form's CSRF token nothing is sent either.
        staff = organiser_client(app)
        assert staff.post(f"/sprava/terminy/{term.id}/osvedceni-a-dotaznik").status_code == 400
        assert not outbox("feedback_invitation")
    finally:
        remove_user(lecturer.id)
        remove_user(coordinator.id)
