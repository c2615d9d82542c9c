"""A term's osvědčení made by the documents worker, not in the request that asks for them.

A 500-seat term prints up to 500 pages: about 5 s of CPU (one page laid out, the others stamped
from it, trainings/exports/pdf.py), more on a busy server, and it grows with the term. Rules:

- In the request: a term with at most IN_REQUEST_UP_TO (30) osvědčení, well under a second, and one
  person's osvědčení (trainings/staff/downloads.py). Anything larger is a job (models.DocumentJob).
- Asking: a job for the same term whose file would print the same (its fingerprint: who, and
  what each page says) that is queued, running or done and not expired is reused, so a second
  click, or a colleague's, waits for the same file. Once attendance or a name changes the
  fingerprint differs and a new job may be asked for; the old file is no longer handed out.
- The worker claims the oldest queued job with a conditional UPDATE (several workers may run),
  makes it and writes `done` (pages drawn) and a heartbeat every pdf.CHUNK pages; every write is
  fenced by its claim token, so a worker whose job was taken back writes nothing.
- A running job whose heartbeat is older than `reclaim_after()` (DOCUMENTS_RECLAIM_AFTER, 120 s;
  50 pages are drawn in about a second, a 500-page file takes about 5 s) belongs to a dead worker
  and is taken back; after MAX_ATTEMPTS runs it fails instead of killing workers for ever.
- The file is kept in the row for KEEP (24 h) after it is finished; the worker deletes expired
  jobs with their files.
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from ..db_session import locked, transaction
from ..extensions import db
from ..models import DocumentJob, DocumentState, Term, User, utcnow
from ..exports import pdf

CERTIFICATES = "osvedceni"
IN_REQUEST_UP_TO = 30
KEEP = timedelta(hours=24)
MAX_ATTEMPTS = 3
ACTIVE = (DocumentState.QUEUED, DocumentState.RUNNING, DocumentState.DONE)


class LostClaim(Exception):
    """Another worker took the job back: this one stops writing."""


def reclaim_after() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("DOCUMENTS_RECLAIM_AFTER") or 120))


def in_request(people: list) -> bool:
    return len(people) <= IN_REQUEST_UP_TO


def _latest(term_id: int, now: datetime, *states: DocumentState) -> DocumentJob | None:
    return db.session.scalars(
        select(DocumentJob)
        .where(DocumentJob.term_id == term_id, DocumentJob.kind == CERTIFICATES, DocumentJob.expires_at > now,
               DocumentJob.state.in_(states))
        .order_by(DocumentJob.created_at.desc(), DocumentJob.id.desc())
        .limit(1)
    ).first()


def anyone(term: Term) -> bool:
    """Whether the term has any osvědčení to make (it has ended and someone was present)."""
    return bool(pdf.term_certificates(term))


def fingerprint(term: Term) -> str:
    return pdf.certificates_fingerprint(term, pdf.term_certificates(term))


def request_certificates(term: Term, user: User | None, now: datetime | None = None) -> DocumentJob:
    """The job that makes (or made) this term's osvědčení as they stand now: an existing one, or a new one."""
    now = now or utcnow()
    # Under the term's lock: two clicks at the same moment find one job, the second the first's.
    with transaction(), locked(Term, term.id) as term:
        return _job_for(term, user, now)


def _job_for(term: Term, user: User | None, now: datetime) -> DocumentJob:
    people = pdf.term_certificates(term)
    print_ = pdf.certificates_fingerprint(term, people)
    job = db.session.scalars(
        select(DocumentJob)
        .where(DocumentJob.term_id == term.id, DocumentJob.kind == CERTIFICATES, DocumentJob.expires_at > now,
               DocumentJob.state.in_(ACTIVE), DocumentJob.fingerprint == print_)
        .order_by(DocumentJob.created_at.desc(), DocumentJob.id.desc())
        .limit(1)
    ).first()
    if job is None:
        job = DocumentJob(kind=CERTIFICATES, term_id=term.id, requested_by_id=user.id if user else None,
                          fingerprint=print_, total=len(people), created_at=now, expires_at=now + KEEP)
        db.session.add(job)
    return job


def shown_job(term: Term, now: datetime | None = None) -> tuple[DocumentJob | None, bool]:
    """The term's latest job worth showing (running, done or failed, not expired) and whether what it
    prints (or will print) is still what the term's osvědčení say."""
    now = now or utcnow()
    job = _latest(term.id, now, *ACTIVE, DocumentState.FAILED)
    if job is None:
        return None, False
    return job, job.fingerprint == fingerprint(term)


def finished_file(term: Term, job_id: int, now: datetime | None = None) -> DocumentJob | None:
    """The job's file if it is this term's, done, not expired and still what the term's osvědčení say."""
    now = now or utcnow()
    job = db.session.get(DocumentJob, job_id) if 0 < job_id < 2**31 else None
    if (job is None or job.term_id != term.id or job.state != DocumentState.DONE or job.expires_at <= now
            or job.fingerprint != fingerprint(term)):
        return None
    return job


# --- the worker ----------------------------------------------------------------------


def _claimable(now: datetime):
    return or_(DocumentJob.state == DocumentState.QUEUED,
               and_(DocumentJob.state == DocumentState.RUNNING, DocumentJob.heartbeat_at < now - reclaim_after()))


def _claim(now: datetime) -> tuple[int, str] | None:
    db.session.rollback()  # whatever the last job left loaded is read afresh
    with transaction():
        claimed = _take(now)
    if claimed is not None and db.session.get(DocumentJob, claimed[0]).attempts > 1:
        current_app.logger.warning("documents: took back job %d from a worker that went silent", claimed[0])
    return claimed


def _take(now: datetime) -> tuple[int, str] | None:
    """Give up the jobs that failed too often, then take the oldest job ready to run, if any."""
    given_up = db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.state == DocumentState.RUNNING, DocumentJob.heartbeat_at < now - reclaim_after(),
               DocumentJob.attempts >= MAX_ATTEMPTS)
        .values(state=DocumentState.FAILED, claim_token=None, finished_at=now,
                error="Zpracování se opakovaně nedokončilo.")
        .execution_options(synchronize_session=False)
    ).rowcount
    if given_up:
        current_app.logger.error("documents: gave up %d jobs after %d runs", given_up, MAX_ATTEMPTS)
    job_id = db.session.scalars(
        select(DocumentJob.id).where(_claimable(now), DocumentJob.expires_at > now)
        .order_by(DocumentJob.created_at, DocumentJob.id).limit(1)
    ).first()
    if job_id is None:
        return None
    token = secrets.token_hex(16)
    taken = db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.id == job_id, _claimable(now))
        .values(state=DocumentState.RUNNING, claim_token=token, heartbeat_at=now, started_at=now, done=0,
                attempts=DocumentJob.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:  # another worker was quicker; the next pass looks again
        return None
    return job_id, token


def _write(job_id: int, token: str, **values) -> None:
    """Write to the job while it is still ours, in a transaction of its own (it ends the one the
    pages were read in)."""
    with transaction():
        written = db.session.execute(
            update(DocumentJob).where(DocumentJob.id == job_id, DocumentJob.claim_token == token)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
    if written != 1:
        raise LostClaim(job_id)


def _run(job_id: int, token: str) -> None:
    job = db.session.get(DocumentJob, job_id)
    term = job.term
    people = pdf.term_certificates(term)
    print_ = pdf.certificates_fingerprint(term, people)
    _write(job_id, token, total=len(people), fingerprint=print_, heartbeat_at=utcnow())
    try:
        # Read afresh (one query): the commit above expired the rows, and each would load on its own.
        data = pdf.term_certificates_pdf(
            term, progress=lambda done: _write(job_id, token, done=done, heartbeat_at=utcnow()))
    except LostClaim:
        raise
    except Exception as exc:  # a bug or bad data: the job says so, the worker goes on
        db.session.rollback()
        current_app.logger.exception("documents: job %d failed: %s", job_id, type(exc).__name__)
        _write(job_id, token, state=DocumentState.FAILED, claim_token=None, finished_at=utcnow(),
               error="Soubor se nepodařilo sestavit.")
        return
    finished = utcnow()
    if data is None:
        _write(job_id, token, state=DocumentState.FAILED, claim_token=None, finished_at=finished,
               error="Nikdo není zapsaný jako přítomný, osvědčení proto nejsou.")
        return
    _write(job_id, token, state=DocumentState.DONE, claim_token=None, data=data, done=len(people),
           finished_at=finished, expires_at=finished + KEEP)


def purge(now: datetime | None = None) -> int:
    """Delete expired jobs and their files; returns how many."""
    with transaction():
        return db.session.execute(
            delete(DocumentJob).where(DocumentJob.expires_at <= (now or utcnow()),
                                      DocumentJob.state != DocumentState.RUNNING)
        ).rowcount


def run_next(now: datetime | None = None) -> bool:
    """Claim and make one job; False when there was none to take."""
    claimed = _claim(now or utcnow())
    if claimed is None:
        return False
    try:
        _run(*claimed)
    except LostClaim:
        db.session.rollback()
        current_app.logger.warning("documents: job %d was taken back while it ran; its file is left to the other",
                                   claimed[0])
    return True


def work(interval: float = 2.0, exit_when_idle: bool = False, stop: threading.Event | None = None,
         max_pause: float = 30.0) -> None:
    """Keep making queued documents until `stop` is set (`flask documents work`).

    A failed pass (the database away, a bug) is logged in one line and followed by a pause
    that doubles from 1 s up to `max_pause`."""
    stop = stop or threading.Event()
    pause = 1.0
    last_purge = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last_purge > 300:
                purge()
                last_purge = time.monotonic()
            made = run_next()
            pause = 1.0
        except Exception as exc:
            db.session.rollback()
            current_app.logger.error("documents: pass failed: %s: %s", type(exc).__name__,
                                     " ".join(str(exc).split())[:300])
            stop.wait(pause)
            pause = min(pause * 2, max_pause)
            continue
        if made:
            continue
        if exit_when_idle:
            return
        stop.wait(interval)
