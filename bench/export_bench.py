"""How long the exports of one big term take: CSV, XLSX, the PDF attendance sheet and the osvědčení.

Builds a term with 500 confirmed registrations (the most a term may have) in a throwaway SQLite
database (and in a throwaway PostgreSQL database when one answers at
TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test), then
times each export through the same function the download view calls,
reading the rows from the database included, and prints the figures.

The osvědčení of a term that ended, `--present` of its people marked present: the whole
file as the worker makes it (codes issued on the first run, the statements that takes
counted), and the time per page. `--grown` first grows the PostgreSQL database to 5 000
terms / 200 000 registrations (bench/growth.py's bulk SQL) so the term sits among them.

    .venv/bin/python bench/export_bench.py [--people 500] [--present 430] [--repeat 3] [--grown] [--only-pdf]
"""
from __future__ import annotations

import argparse
import io
import os
import time
from datetime import timedelta

from common import build, postgres_url, sqlite_url
from sqlalchemy import delete, insert, select

from trainings.documents import service as documents
from trainings.exports import csv_export, pdf, xlsx
from trainings.extensions import db
from trainings.models import (
    DocumentJob,
    EmployerType,
    Offer,
    Orp,
    Registration,
    RegistrationState,
    Term,
    TermForm,
    utcnow,
)
from trainings.registration.service import new_check_in_code

FIRST = ["Jana", "Petra", "Lucie", "Kateřina", "Zuzana", "Markéta", "Tereza", "Hana", "Věra", "Jiří", "Tomáš", "Řehoř"]
LAST = ["Nováková", "Svobodová", "Dvořáková", "Černá", "Procházková", "Kučerová", "Veselá", "Horáková", "Šťastná"]


def build_term(people: int, present: int | None = None) -> int:
    """One prezenční term with `people` confirmed registrations spread over all ORP; with `present`,
    a term that ended a week ago with its first `present` people marked present."""
    offer = db.session.scalars(select(Offer).where(Offer.slug == "od-analyzy-k-tvorbe-ipod")).one()
    orps = db.session.scalars(select(Orp).order_by(Orp.id)).all()
    starts = utcnow() + timedelta(days=7 if present is None else -7)
    term = Term(offer=offer, starts_at=starts, ends_at=starts + timedelta(hours=3, minutes=30),
                form=TermForm.IN_PERSON, region_id=orps[0].region_id, capacity=people,
                venue="Krajský úřad Pardubického kraje, Komenského náměstí 125, Pardubice",
                lecturer="Mgr. Jana Příkladná, PhDr. Petr Ukázka", hours=3.5)
    db.session.add(term)
    db.session.flush()
    now = utcnow()
    rows = []
    for i in range(people):
        orp = orps[i % len(orps)]
        email = f"ucastnik{i}@example.cz"
        rows.append({
            "term_id": term.id, "state": RegistrationState.CONFIRMED, "queued_at": now,
            "name": f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]} {i}", "email": email,
            "email_normalized": email, "phone": "+420 777 123 456" if i % 3 == 0 else None,
            "employer_type": EmployerType.OSPOD, "job_title": "sociální pracovnice",
            "region_id": orp.region_id, "orp_id": orp.id, "consent_at": now, "consent_version": "bench",
            "created_at": now, "updated_at": now, "calendar_sequence": 0,
            "attended": (i < present) if present is not None else (True if i % 2 else None),
            "attendance_marked_at": now if (i % 2 if present is None else True) else None,
            "check_in_code": new_check_in_code(),
        })
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    return term.id


def statements_of(work):
    """What `work()` returns and the SQL statements it ran."""
    from sqlalchemy import event

    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        return work(), len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def make_certificates(term_id: int) -> bytes:
    """The term's osvědčení file the way the application makes it: asked for, then one pass of the
    documents worker (`flask documents work`)."""
    db.session.execute(delete(DocumentJob))  # each run a new job, not the last run's file
    db.session.commit()
    job = documents.request_certificates(db.session.get(Term, term_id), None)
    job_id = job.id
    assert documents.run_next()
    return db.session.get(DocumentJob, job_id).data


def time_certificates(term_id: int, present: int, repeat: int) -> None:
    """Wall time and this process's CPU time (the machine may be shared: CPU time is what the work
    costs), per file and per page."""
    from pypdf import PdfReader

    for run in range(repeat):
        db.session.expunge_all()
        started, cpu = time.perf_counter(), time.process_time()
        data, statements = statements_of(lambda: make_certificates(term_id))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        pages = len(PdfReader(io.BytesIO(data)).pages)
        assert pages == present, (pages, present)
        print(f"  PDF osvědčení, {'first' if run == 0 else 'again'}  {took:6.2f} s ({cpu:6.2f} s CPU)"
              f"   {took / pages * 1000:4.0f} ms a page ({cpu / pages * 1000:3.0f} ms CPU)"
              f"   {statements:4} statements   {len(data) / 1024:6.0f} kB", flush=True)


def run(label: str, url: str, people: int, repeat: int, present: int = 430, only_pdf: bool = False,
        grown: bool = False) -> None:
    app = build(url)
    with app.app_context():
        if grown:
            from growth import SIZES, grow_to
            grow_to(*SIZES["5000"])
            print(f"{label}: grown to 5 000 terms / 200 000 registrations")
        term_id = build_term(people, present)
        print(f"{label}: term that ended with {people} confirmed registrations, {present} present")
        time_certificates(term_id, present, repeat)
        term_id = build_term(people)
        print(f"{label}: term with {people} confirmed registrations")
        for name, export in (("CSV", csv_export.participants_csv), ("XLSX", xlsx.participants_xlsx),
                             ("PDF prezenční listina", pdf.attendance_sheet_pdf)):
            if only_pdf and name != "PDF prezenční listina":
                continue
            times, size = [], 0
            for _ in range(repeat):
                db.session.expunge_all()  # each run reads its rows afresh, as a request would
                started = time.perf_counter()
                size = len(export(db.session.get(Term, term_id)))
                times.append(time.perf_counter() - started)
            print(f"  {name:<22} best {min(times):6.2f} s   worst {max(times):6.2f} s   {size / 1024:8.0f} kB")
        db.session.remove()
        db.engine.dispose()


def drop_postgres(url: str) -> None:
    import psycopg

    admin = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)  # terms.service.MAX_CAPACITY
    parser.add_argument("--present", type=int, default=430)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--grown", action="store_true", help="PostgreSQL only, grown to 5 000 terms first")
    parser.add_argument("--only-pdf", action="store_true", help="the PDFs only, not CSV and XLSX")
    args = parser.parse_args()
    if not args.grown:
        run("SQLite", sqlite_url(), args.people, args.repeat, args.present, args.only_pdf)
    url = postgres_url(f"spod4_bench_export_{os.getpid()}")
    if url is None:
        print("PostgreSQL: skipped, none answers at TEST_DATABASE_URL")
        return
    try:
        run("PostgreSQL", url, args.people, args.repeat, args.present, args.only_pdf, args.grown)
    finally:
        drop_postgres(url)


if __name__ == "__main__":
    main()
