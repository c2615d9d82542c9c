"""How long the exports of one big term take: CSV, XLSX and the PDF attendance sheet.

Builds a term with 500 confirmed registrations (the most a term may have) in a throwaway SQLite
database (and in a throwaway PostgreSQL database when one answers at
TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/test), then
times each export through the same function the download view calls,
reading the rows from the database included, and prints the figures.

    .venv/bin/python bench/export_bench.py [--people 500] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

from common import build, postgres_url, sqlite_url
from sqlalchemy import insert, select

from trainings.exports import csv_export, pdf, xlsx
from trainings.extensions import db
from trainings.models import (
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


def build_term(people: int) -> int:
    """One prezenční term with `people` confirmed registrations spread over all ORP."""
    offer = db.session.scalars(select(Offer).where(Offer.slug == "od-analyzy-k-tvorbe-ipod")).one()
    orps = db.session.scalars(select(Orp).order_by(Orp.id)).all()
    starts = utcnow() + timedelta(days=7)
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
            "attended": True if i % 2 else None, "attendance_marked_at": now if i % 2 else None,
            "check_in_code": new_check_in_code(),
        })
    db.session.execute(insert(Registration), rows)
    db.session.commit()
    return term.id


def run(label: str, url: str, people: int, repeat: int) -> None:
    app = build(url)
    with app.app_context():
        term_id = build_term(people)
        print(f"{label}: term with {people} confirmed registrations")
        for name, export in (("CSV", csv_export.participants_csv), ("XLSX", xlsx.participants_xlsx),
                             ("PDF prezenční listina", pdf.attendance_sheet_pdf)):
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
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run("SQLite", sqlite_url(), args.people, args.repeat)
    url = postgres_url(f"spod4_bench_export_{os.getpid()}")
    if url is None:
        print("PostgreSQL: skipped, none answers at TEST_DATABASE_URL")
        return
    try:
        run("PostgreSQL", url, args.people, args.repeat)
    finally:
        drop_postgres(url)


if __name__ == "__main__":
    main()
