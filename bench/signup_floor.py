"""Sign-ups per second: the application against the floor, in one run.

On one fresh PostgreSQL database and gunicorn with 4 workers x 4 gthread threads, wrk POSTs the sign-up form (bench/signup.lua: a session cookie
and CSRF token fetched beforehand like a browser that loaded the form, a new e-mail each
request, the ORPs of Pardubický kraj in turn) at
  - the application (the real form, service and e-mail) as production serves it
    (config/gunicorn.conf.py, access log to /dev/null), and
  - the lean floor on a bare gunicorn (no config file, no access log) (bench/floor_app.py: lock the term, one grouped count, a duplicate check,
    the insert),
in two scenarios: a term with 100 000 seats (every request a confirmed sign-up) and a
20-seat term with the per-ORP limit 3 (most go to the waiting list). Afterwards it
counts the rows each run wrote and checks every answered request (2xx/3xx) wrote one.
Outbox workers do not run during the load: a sign-up only writes rows, and the worker writes
the e-mails (text, HTML, .ics, QR) when it sends them. So that cost is shown, not hidden,
one worker pass afterwards writes and sends every e-mail the application queued (to files)
and the run checks each registration got exactly one, and prints the worker's rate.

Run: .venv/bin/python bench/signup_floor.py [--seconds 20] [--warmup 5] [--connections 32]
Needs wrk (Debian package `wrk`), PostgreSQL on 127.0.0.1:5432 and Redis (rate limits).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import requests
from common import ROOT, add_terms, build, lean_gunicorn, postgres_url

sys.path.insert(0, str(ROOT))
import tests.stack  # noqa: E402
from tests.stack import CSRF, production_env, web_instances  # noqa: E402

from trainings.extensions import db  # noqa: E402

DATABASE = "spod4_bench_signup"
SCENARIOS = {"100 000 seats": {"capacity": 100_000, "per_orp_limit": None},
             "20 seats, 3 per ORP": {"capacity": 20, "per_orp_limit": 3}}
TARGETS = ("app", "floor")
# On a shared, loaded machine four workers importing the application take longer than
# the tests' 30 s to answer the first request.
tests.stack.wait_for.__defaults__ = (120,)


def make_terms() -> dict:
    """A warm-up term and one per scenario, for each target: every run's rows stay apart."""
    terms = {}
    for target in TARGETS:
        for scenario, limits in {"warm-up": SCENARIOS["100 000 seats"], **SCENARIOS}.items():
            term_id = add_terms(1)[0]
            from trainings.models import Term

            term = db.session.get(Term, term_id)
            term.capacity, term.per_orp_limit = limits["capacity"], limits["per_orp_limit"]
            db.session.commit()
            terms[target, scenario] = term_id
    return terms


def form_sessions(base: str, term_id: int, count: int) -> list[tuple[str, str]]:
    """What `count` browsers hold after loading the form: a session cookie and its CSRF token."""
    sessions = []
    for _ in range(count):
        session = requests.Session()
        token = CSRF.search(session.get(f"{base}/termin/{term_id}/prihlaska", timeout=30).text).group(1)
        sessions.append(("; ".join(f"{c.name}={c.value}" for c in session.cookies), token))
    return sessions


def wrk(base: str, term_id: int, sessions, fields: dict, orp_ids, seconds: int, connections: int) -> dict:
    data = Path(tempfile.mkstemp(prefix="spod4-signup-", suffix=".tsv")[1])
    data.write_text(
        f"/termin/{term_id}/prihlaska\t{urlencode(fields)}\t{','.join(map(str, orp_ids))}\n"
        + "".join(f"{cookie}\t{token}\n" for cookie, token in sessions)
    )
    tag = "b" + uuid.uuid4().hex[:8]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(ROOT / "bench/signup.lua"),
         base, "--", str(data), tag],
        capture_output=True, text=True, check=True,
    ).stdout
    data.unlink()
    line = re.search(r"^RESULT (.*)$", out, re.M)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = {key: int(value) for key, value in (pair.split("=") for pair in line.group(1).split())}
    result["answered"] = result["ok"] + result["redirects"]
    result["errors"] = result["client_errors"] + result["server_errors"] + result["socket_errors"]
    result["rps"] = result["answered"] / (result["duration_us"] / 1e6)
    return result


def rows_written(url: str, term_id: int) -> dict:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        rows, distinct, confirmed, waitlisted = conn.execute(
            "SELECT count(*), count(DISTINCT email_normalized), count(*) FILTER (WHERE state = 'confirmed'),"
            " count(*) FILTER (WHERE state = 'waitlisted') FROM registrations WHERE term_id = %s", (term_id,)
        ).fetchone()
        most_per_orp = conn.execute(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM registrations"
            " WHERE term_id = %s AND state = 'confirmed' GROUP BY orp_id) AS per_orp", (term_id,)
        ).fetchone()[0]
    return {"rows": rows, "duplicates": rows - distinct, "confirmed": confirmed, "waitlisted": waitlisted,
            "most_per_orp": most_per_orp}


def drain_outbox(app, term_ids) -> dict:
    """One worker writes and sends (to .eml files) everything queued; every registration must have
    exactly one e-mail, written and sent."""
    import time

    from sqlalchemy import func, select

    from trainings.mail import dispatch
    from trainings.models import OutboxMessage, OutboxState, Registration

    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        sent = 0
        while True:
            counts = dispatch.send_due(limit=500)
            sent += counts["sent"]
            if not any(counts.values()):
                break
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        per_registration = db.session.execute(
            select(func.count(OutboxMessage.id)).select_from(Registration)
            .outerjoin(OutboxMessage, (OutboxMessage.registration_id == Registration.id)
                       & (OutboxMessage.state == OutboxState.SENT))
            .where(Registration.term_id.in_(term_ids))
            .group_by(Registration.id)
        ).scalars().all()
        db.engine.dispose()
    return {"sent": sent, "wall": wall, "cpu": cpu, "registrations": len(per_registration),
            "not_one": sum(1 for n in per_registration if n != 1)}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    url = postgres_url(DATABASE)
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")

    app = build(url)
    with app.app_context():
        from sqlalchemy import select

        from trainings.models import Orp, Region

        region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        orp_ids = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id).order_by(Orp.id)).all()
        region_id = region.id
        terms = make_terms()
        db.engine.dispose()
    fields = {"name": "Zátěžová Osoba", "employer_type": "ospod", "region": region_id,
              "job_title": "sociální pracovník", "consent": "y"}

    load_before = load_average()
    env = production_env(url)
    results = {}
    for target in TARGETS:
        server = (web_instances(env, count=1, workers=4, threads=4) if target == "app"
                  else lean_gunicorn("bench.floor_app:app", env, workers=4, threads=4))
        with server as base:
            base = base[0] if isinstance(base, list) else base
            if target == "app":
                sessions = form_sessions(base, terms[target, "warm-up"], args.connections)
            else:
                sessions = [("", "none")]
            wrk(base, terms[target, "warm-up"], sessions, fields, orp_ids, args.warmup, args.connections)
            for scenario in SCENARIOS:
                results[target, scenario] = wrk(base, terms[target, scenario], sessions, fields, orp_ids,
                                                args.seconds, args.connections)
        # gunicorn has stopped gracefully: requests wrk left in flight are finished and counted.
        for scenario in SCENARIOS:
            results[target, scenario].update(rows_written(url, terms[target, scenario]))
    load_after = load_average()

    print(f"\nPostgreSQL, gunicorn 4 workers x 4 threads (app: config/gunicorn.conf.py; floor: bare); wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s after a {args.warmup} s warm-up; outbox workers not running; {os.cpu_count()} CPUs; "
          f"load average {load_before} before, {load_after} after")
    failures = []
    for scenario in SCENARIOS:
        print(f"\n{scenario}")
        print(f"{'':<8}{'reg/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'answered':>10}{'rows':>7}"
              f"{'in flight':>11}{'dupl.':>7}{'confirmed':>11}{'waitlisted':>11}")
        for target in TARGETS:
            r = results[target, scenario]
            in_flight = r["sent"] - r["requests"]
            print(f"{target:<8}{r['rps']:>8.0f}{r['p50_us'] / 1000:>9.1f}{r['p99_us'] / 1000:>9.1f}{r['errors']:>8}"
                  f"{r['answered']:>10}{r['rows']:>7}{in_flight:>11}{r['duplicates']:>7}{r['confirmed']:>11}"
                  f"{r['waitlisted']:>11}")
            if r["errors"]:
                print(f"{'':<8}errors: {r['client_errors']} 4xx, {r['server_errors']} 5xx, "
                      f"{r['socket_errors']} socket (connect, read, write, timeout > 10 s)")
            # Requests wrk had sent when it stopped are finished by the server but never answered to
            # wrk: they may add rows, never more than were in flight.
            if not r["answered"] <= r["rows"] <= r["answered"] + in_flight or r["duplicates"]:
                failures.append(f"{target}, {scenario}: {r['rows']} rows for {r['answered']} answered")
            limits = SCENARIOS[scenario]
            if r["confirmed"] > limits["capacity"] or (
                    limits["per_orp_limit"] and r["most_per_orp"] > limits["per_orp_limit"]):
                failures.append(f"{target}, {scenario}: seat rules broken")
        app_r, floor_r = results["app", scenario], results["floor", scenario]
        print(f"app / floor: {app_r['rps'] / floor_r['rps']:.0%} of the registrations per second; "
              f"p99 {app_r['p99_us'] / floor_r['p99_us']:.1f}x")
    outbox = drain_outbox(app, [term_id for (target, _), term_id in terms.items() if target == "app"])
    print(f"\noutbox worker afterwards (one process): {outbox['sent']} e-mails written and sent in {outbox['wall']:.1f} s "
          f"({outbox['sent'] / outbox['wall']:.0f}/s, {1000 * outbox['cpu'] / max(outbox['sent'], 1):.1f} ms CPU each); "
          f"registrations without exactly one e-mail: {outbox['not_one']} of {outbox['registrations']}")
    if outbox["not_one"]:
        failures.append(f"{outbox['not_one']} registrations without exactly one e-mail")
    print("\ntargets: app >= 35 % of the lean floor, app p99 <= 3x the floor's, 0 errors, rows = answered requests")
    for failure in failures:
        print("FAILED: " + failure)

    with psycopg.connect(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
