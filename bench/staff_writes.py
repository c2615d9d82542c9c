"""The slowest back-office POSTs with 200 people on a term, on PostgreSQL.

Through the test client as the logged-in demo organiser (the view, the access checks,
the service, the redirect; the page the redirect leads to is timed apart where staff
wait for it, as after a tap at the door):
  - a check-in tap (present) on a term that began ten minutes ago, and the check-in
    list it leads back to;
  - moving a confirmed person to the waiting list, and confirming her again;
  - cancelling a registration on someone's behalf, which promotes the first waiting;
  - cancelling a whole term, which queues 200 e-mails.
Median (and slowest) of a few runs each. The 200 people are written directly (a
builder, like the tests' own); the timed requests go the whole way.

Run: .venv/bin/python bench/staff_writes.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta

import psycopg
from common import ROOT, add_terms, build, postgres_url

sys.path.insert(0, str(ROOT))
from sqlalchemy import func, select  # noqa: E402

from tests.staff_helpers import organiser_client  # noqa: E402
from trainings.extensions import db  # noqa: E402
from trainings.models import (  # noqa: E402
    EmployerType,
    Orp,
    OutboxMessage,
    Region,
    Registration,
    RegistrationState,
    Term,
    utcnow,
)
from trainings.registration.service import new_check_in_code, normalize_email  # noqa: E402

DATABASE = "spod4_bench_staff_writes"
PEOPLE = 200


def term_with_people(confirmed: int = PEOPLE, waitlisted: int = 0) -> int:
    term_id = add_terms(1)[0]
    term = db.session.get(Term, term_id)
    term.capacity, term.per_orp_limit = confirmed, None
    region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
    orps = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id)).all()
    now = utcnow()
    for i in range(confirmed + waitlisted):
        email = f"ucastnice{i}.t{term_id}@example.cz"
        db.session.add(Registration(
            term=term, state=RegistrationState.CONFIRMED if i < confirmed else RegistrationState.WAITLISTED,
            queued_at=now + timedelta(microseconds=i), name=f"Účastnice Nováková {i}", email=email,
            email_normalized=normalize_email(email), employer_type=EmployerType.OSPOD, job_title="sociální pracovnice",
            region_id=region.id, orp_id=orps[i % len(orps)], consent_at=now, consent_version="2026-11",
            check_in_code=new_check_in_code(),
        ))
    db.session.commit()
    return term_id


def people(term_id: int, state=RegistrationState.CONFIRMED) -> list[int]:
    return db.session.scalars(select(Registration.id).where(Registration.term_id == term_id, Registration.state == state)
                              .order_by(Registration.id)).all()


def timed(client, method: str, url: str, **kwargs) -> float:
    started = time.perf_counter()
    response = client.open(url, method=method, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 302), (url, response.status_code)
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = postgres_url(DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
    app = build(url)
    times: dict[str, list[float]] = {}
    with app.app_context():
        client = organiser_client(app)
        token = client.token

        door = term_with_people()
        term = db.session.get(Term, door)
        term.starts_at = utcnow() - timedelta(minutes=10)
        term.ends_at = term.starts_at + timedelta(hours=3)
        db.session.commit()
        for registration_id in people(door)[:args.runs]:
            times.setdefault("check-in tap (present)", []).append(timed(
                client, "POST", f"/sprava/prihlasky/{registration_id}/dochazka",
                data={"csrf_token": token, "attended": "ano"}))
            times.setdefault("  the check-in list it returns to", []).append(timed(
                client, "GET", f"/sprava/terminy/{door}/prichody?r={registration_id}"))

        moving = term_with_people()
        for registration_id in people(moving)[:args.runs]:
            times.setdefault("to the waiting list", []).append(timed(
                client, "POST", f"/sprava/prihlasky/{registration_id}/na-cekaci-listinu", data={"csrf_token": token}))
            times.setdefault("confirmed again", []).append(timed(
                client, "POST", f"/sprava/prihlasky/{registration_id}/potvrdit", data={"csrf_token": token}))

        promoting = term_with_people(waitlisted=args.runs)
        for registration_id in people(promoting)[:args.runs]:
            times.setdefault("cancel on behalf (promotes one)", []).append(timed(
                client, "POST", f"/sprava/prihlasky/{registration_id}/zrusit",
                data={"csrf_token": token, "reason": "Omluva telefonem"}))

        runs = max(1, args.runs // 2 + 1)
        for _ in range(runs):
            cancelled = term_with_people()
            before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
            times.setdefault(f"cancel a term ({PEOPLE} e-mails)", []).append(timed(
                client, "POST", f"/sprava/terminy/{cancelled}/zrusit",
                data={"csrf_token": token, "reason": "Onemocnění lektorky"}))
            db.session.rollback()
            queued = db.session.scalar(select(func.count()).select_from(OutboxMessage)) - before
            assert queued == PEOPLE, queued
        db.engine.dispose()

    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"\nPostgreSQL, test client (one process), {PEOPLE} people on each term; load average {load}")
    print(f"{'':<36}{'runs':>5}{'median ms':>11}{'slowest ms':>12}")
    for name, values in times.items():
        print(f"{name:<36}{len(values):>5}{statistics.median(values):>11.1f}{max(values):>12.1f}")

    with psycopg.connect(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
