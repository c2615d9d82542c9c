"""A term's osvědčení too many to make in a request: asked for on the term's page, made by the
documents worker in chunks with progress, offered while they still say what the term's records say,
taken back from a worker that died, and only for those who may print the term's files."""
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, event, select, update

from trainings.documents import service
from trainings.exports import pdf
from trainings.extensions import db
from trainings.models import DocumentJob, DocumentState, Registration, StaffRole, Term, utcnow
from trainings.privacy.service import erase_person
from trainings.people import accounts

from .helpers import csrf, make_term
from .staff_helpers import attend, browser, fresh, log_in, move_to_past, organiser_client, remove_user, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

NAMES = ["Žofie Žáková", "Ondřej Chalupa", "Petr Čech", "Marie Horáková"]


@pytest.fixture
def small_threshold(monkeypatch):
    """Three people count as a large term here: the rule is the same, the pages cheap."""
    monkeypatch.setattr(service, "IN_REQUEST_UP_TO", 2)


def ended_term(lecturers=(), names=NAMES[:3]) -> tuple[Term, dict[str, Registration]]:
    term = make_term(lecturer="Mgr. Petra Lektorová", lecturers=list(lecturers), capacity=max(10, len(names)))
    people = {name: sign_up(term, i, name=name) for i, name in enumerate(names)}
    move_to_past(term, days=3)
    for person in people.values():
        attend(person.id)
    return fresh(Term, term.id), people


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def prepare(client, term_id):
    page = client.get(f"/sprava/terminy/{term_id}/osvedceni")
    assert page.status_code == 200
    return client.post(f"/sprava/terminy/{term_id}/osvedceni", data={"csrf_token": csrf(page.get_data(as_text=True))})


def jobs_of(term_id) -> list[DocumentJob]:
    db.session.rollback()
    return db.session.scalars(select(DocumentJob).where(DocumentJob.term_id == term_id).order_by(DocumentJob.id)).all()


def test_a_large_terms_osvedceni_are_prepared_by_the_worker_with_progress(app, small_threshold, monkeypatch):
    term, people = ended_term()
    staff = organiser_client(app)
    # The term's download leads to the page that prepares them.
    response = staff.get(f"/sprava/terminy/{term.id}/osvedceni.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sprava/terminy/{term.id}/osvedceni")
    page = staff.get(f"/sprava/terminy/{term.id}/osvedceni").get_data(as_text=True)
    assert "Připravit osvědčení (PDF)" in page and 'http-equiv="refresh"' not in page

    assert prepare(staff, term.id).status_code == 302
    page = staff.get(f"/sprava/terminy/{term.id}/osvedceni").get_data(as_text=True)
    assert "Čeká na zpracování: 3 osvědčení." in page and '<meta http-equiv="refresh" content="3">' in page
    prepare(staff, term.id)  # a second click waits for the same file
    assert len(jobs_of(term.id)) == 1

    # The worker writes its progress after every chunk of pages.
    monkeypatch.setattr(pdf, "CHUNK", 1)
    progress = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        values = (getattr(context, "compiled_parameters", None) or [{}])[0]
        if statement.startswith("UPDATE document_jobs") and "done" in values and "state" not in values:
            progress.append(values["done"])
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert service.run_next() is True
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert service.run_next() is False  # nothing else queued
    assert progress == [1, 2, 3]  # a page a chunk here

    job = jobs_of(term.id)[0]
    assert job.state == DocumentState.DONE and (job.done, job.total) == (3, 3) and job.attempts == 1
    assert job.expires_at - job.finished_at == timedelta(hours=24)
    page = staff.get(f"/sprava/terminy/{term.id}/osvedceni").get_data(as_text=True)
    assert "Soubor je připravený: 3 osvědčení" in page and 'http-equiv="refresh"' not in page
    response = staff.get(f"/sprava/terminy/{term.id}/osvedceni/{job.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    pages = pages_of(response.data)
    assert [next(n for n in people if n in p) for p in pages] == ["Petr Čech", "Ondřej Chalupa", "Žofie Žáková"]
    codes = {r.certificate_code for r in db.session.scalars(select(Registration).where(Registration.term_id == term.id))}
    assert all(f"{c[:4]}-{c[4:8]}-{c[8:]}" in "".join(pages) for c in codes)

    # Attendance changes: the old file is no longer handed out, and a new one may be asked for.
    attend(people["Ondřej Chalupa"].id, False)
    page = staff.get(f"/sprava/terminy/{term.id}/osvedceni").get_data(as_text=True)
    assert "změnila docházka" in page and "Připravit osvědčení (PDF)" in page
    stale = staff.get(f"/sprava/terminy/{term.id}/osvedceni/{job.id}.pdf", follow_redirects=True)
    assert stale.mimetype == "text/html" and "Tento soubor už není k dispozici" in stale.get_data(as_text=True)
    prepare(staff, term.id)
    assert len(jobs_of(term.id)) == 2
    service.run_next()
    new = jobs_of(term.id)[1]
    text = "".join(pages_of(staff.get(f"/sprava/terminy/{term.id}/osvedceni/{new.id}.pdf").data))
    assert "Ondřej Chalupa" not in text and "Petr Čech" in text


def test_a_small_term_is_still_made_in_the_request(app):
    term, _ = ended_term()  # 3 people, under the 30 of the rule
    response = organiser_client(app).get(f"/sprava/terminy/{term.id}/osvedceni.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(pages_of(response.data)) == 3 and jobs_of(term.id) == []


def test_only_those_who_may_print_the_terms_files_see_its_job(app, small_threshold, petra_lecturer):
    other = browser(app, "jina.lektorka@example.cz", StaffRole.LECTURER)
    other_lecturer = accounts.user_by_email("jina.lektorka@example.cz")
    hers, _ = ended_term(lecturers=[petra_lecturer])
    theirs, _ = ended_term(lecturers=[other_lecturer])
    petra = app.test_client()
    assert log_in(petra, petra_lecturer.email, "dlouhe-heslo-pro-test").status_code == 302
    assert prepare(petra, hers.id).status_code == 302
    job = jobs_of(hers.id)[0]
    assert job.requested_by_id == petra_lecturer.id
    service.run_next()
    assert petra.get(f"/sprava/terminy/{hers.id}/osvedceni/{job.id}.pdf").mimetype == "application/pdf"

    assert other.get(f"/sprava/terminy/{hers.id}/osvedceni").status_code == 403
    assert other.post(f"/sprava/terminy/{hers.id}/osvedceni", data={"csrf_token": other.token}).status_code == 403
    assert other.get(f"/sprava/terminy/{hers.id}/osvedceni/{job.id}.pdf").status_code == 403
    # Her job through the other lecturer's own term is no file either.
    through_own = other.get(f"/sprava/terminy/{theirs.id}/osvedceni/{job.id}.pdf")
    assert through_own.status_code == 302 and through_own.headers["Location"].endswith(f"/{theirs.id}/osvedceni")
    assert "Stáhnout" not in other.get(f"/sprava/terminy/{theirs.id}/osvedceni").get_data(as_text=True)
    coordinator = browser(app, "koordinatorka.test@example.cz", StaffRole.COORDINATOR)
    assert coordinator.get(f"/sprava/terminy/{hers.id}/osvedceni").status_code == 403
    anonymous = app.test_client().get(f"/sprava/terminy/{hers.id}/osvedceni/{job.id}.pdf")
    assert anonymous.status_code == 302 and "/sprava/prihlaseni" in anonymous.headers["Location"]
    # The jobs point at the accounts the fixtures remove.
    db.session.execute(delete(DocumentJob))
    db.session.commit()
    for email in ("jina.lektorka@example.cz", "koordinatorka.test@example.cz"):
        remove_user(accounts.user_by_email(email).id)


def test_a_job_left_running_by_a_dead_worker_is_taken_back_and_given_up_after_three_runs(app, small_threshold):
    term, _ = ended_term()
    job = service.request_certificates(term, None)
    claimed = service._claim(utcnow())
    assert claimed == (job.id, claimed[1])
    # The worker died: its heartbeat stops. Within the window nobody takes the job...
    assert service.run_next() is False
    # ...after it, another worker does, and the dead one's late writes go nowhere.
    db.session.execute(update(DocumentJob).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert service.run_next() is True
    job = fresh(DocumentJob, job.id)
    assert job.state == DocumentState.DONE and job.attempts == 2
    with pytest.raises(service.LostClaim):
        service._write(job.id, claimed[1], done=1)

    stuck = service.request_certificates(fresh(Term, term.id), None)
    assert stuck.id == job.id  # the done one is reused
    db.session.execute(update(DocumentJob).values(state=DocumentState.RUNNING, attempts=service.MAX_ATTEMPTS,
                                                  heartbeat_at=utcnow() - timedelta(minutes=5), claim_token="x"))
    db.session.commit()
    assert service.run_next() is False
    job = fresh(DocumentJob, job.id)
    assert job.state == DocumentState.FAILED and job.error == "Zpracování se opakovaně nedokončilo."
    page = organiser_client(app).get(f"/sprava/terminy/{term.id}/osvedceni").get_data(as_text=True)
    assert "Zpracování se opakovaně nedokončilo." in page and "Zkusit znovu" in page


def test_expired_files_are_deleted(app, small_threshold):
    term, _ = ended_term()
    service.request_certificates(term, None)
    service.run_next()
    assert service.purge() == 0
    assert service.purge(now=utcnow() + timedelta(hours=25)) == 1
    assert jobs_of(term.id) == [] and fresh(Term, term.id) is not None


ROOT = Path(__file__).resolve().parent.parent


def documents_worker(database_url, log, *args, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "documents", "work", "--interval", "0.2", *args],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "TRAININGS_CONFIG": "development", "DATABASE_URL": database_url,
             **{k: str(v) for k, v in env.items()}})


@pytest.mark.slow
def test_a_worker_process_killed_mid_job_leaves_it_to_the_next_one(app, database_url, tmp_path):
    names = [f"Jana Nováková {i:02}" for i in range(40)]
    term, _ = ended_term(names=names)
    job = service.request_certificates(term, None)
    with open(tmp_path / "first.log", "w+") as log:
        first = documents_worker(database_url, log)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                seen = fresh(DocumentJob, job.id)
                if seen.state == DocumentState.RUNNING and seen.done > 0:
                    break
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)  # no goodbye: it stops mid-job
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
    killed = fresh(DocumentJob, job.id)
    assert killed.state == DocumentState.RUNNING and 0 < killed.done and killed.data is None, log
    time.sleep(1.5)  # past the reclaim window given to the next worker
    with open(tmp_path / "second.log", "w+") as log:
        second = documents_worker(database_url, log, "--exit-when-idle", DOCUMENTS_RECLAIM_AFTER=1)
        assert second.wait(timeout=120) == 0
        log.seek(0)
        assert "took back job" in log.read()
    done = fresh(DocumentJob, job.id)
    assert done.state == DocumentState.DONE and done.attempts == 2 and (done.done, done.total) == (40, 40)
    pages = pages_of(done.data)
    assert len(pages) == 40 and all(name in "".join(pages) for name in names)


def test_no_job_for_a_term_without_osvedceni(app, small_threshold):
    term = make_term()
    person = sign_up(term, 1)
    move_to_past(term, days=1)
    attend(person.id, False)
    staff = organiser_client(app)
    page = staff.get(f"/sprava/terminy/{term.id}/osvedceni", follow_redirects=True).get_data(as_text=True)
    assert "Nikdo není zapsaný jako přítomný" in page
    response = staff.post(f"/sprava/terminy/{term.id}/osvedceni", data={"csrf_token": staff.token},
                          follow_redirects=True)
    assert "Nikdo není zapsaný jako přítomný" in response.get_data(as_text=True) and jobs_of(term.id) == []


def test_erasing_a_person_deletes_the_prepared_files_that_print_her_page(app, small_threshold):
    term, people = ended_term()
    service.request_certificates(term, None)
    service.run_next()
    erase_person(fresh(Registration, people["Petr Čech"].id).email, None)
    assert jobs_of(term.id) == []
    service.request_certificates(fresh(Term, term.id), None)
    service.run_next()
    text = "".join(pages_of(jobs_of(term.id)[0].data))
    assert "Petr Čech" not in text and "anonymizováno" not in text and "Žofie Žáková" in text


def test_two_clicks_at_once_make_one_job(app, database_url, tmp_path, small_threshold, monkeypatch):
    """Two organisers (or one double click) ask for the term's osvědčení at the same moment: one job
    is made, and both are shown it."""
    import threading

    from .conftest import build_app

    term, _ = ended_term()
    clicking = build_app(database_url, tmp_path)  # its own engine: each click its own connection
    slow_fingerprint = pdf.certificates_fingerprint

    def fingerprint(*args):
        time.sleep(0.3)  # both requests are past their look for a job before either writes one
        return slow_fingerprint(*args)

    monkeypatch.setattr(pdf, "certificates_fingerprint", fingerprint)
    term_id = term.id
    db.session.commit()
    jobs, errors = [], []

    def click():
        try:
            with clicking.app_context():
                jobs.append(service.request_certificates(db.session.get(Term, term_id), None).id)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join(30)
    with clicking.app_context():
        db.engine.dispose()
    assert not errors, errors
    assert len(jobs_of(term_id)) == 1
    assert jobs[0] == jobs[1]
