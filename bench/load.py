"""Throughput and latency of the public pages under concurrent load, against hello world.

Starts the production stack (gunicorn with config/gunicorn.conf.py, PostgreSQL, Redis for rate
limits) and, as the baseline, a Flask hello world on a bare gunicorn with the same workers and
threads (no config file, no access log: bench/common.py, lean_gunicorn). Loads the catalogue page,
a workshop page and the all-terms feed and the baseline in turn with wrk (32 connections), for a
few rounds, and prints each one's medians; then fires a burst of registration POSTs at one term.
Workers are replaced after GUNICORN_MAX_REQUESTS requests (2 000 in production, a few hours of
the programme's traffic but seconds here): set it to 0 to measure the pages, not the recycling.

Run: GUNICORN_MAX_REQUESTS=0 .venv/bin/python bench/load.py [--seconds 10] [--rounds 3] [--connections 32] [--burst 500]
Needs wrk (Debian package `wrk`) and PostgreSQL on 127.0.0.1:5432.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from common import ROOT, add_terms, build, lean_gunicorn, postgres_url, settle

sys.path.insert(0, str(ROOT))
from tests.stack import CSRF, production_env, web_instances  # noqa: E402

from trainings.extensions import db  # noqa: E402


WARM_UP_SECONDS = 3  # each worker's first requests compile templates and fill its caches: not what is measured


def wrk(url: str, seconds: int, connections: int) -> dict:
    """Requests per second and latencies of `url` under `connections` clients, after a warm-up
    with the same load (as bench/signup_floor.py does), so neither side is measured cold."""
    subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{WARM_UP_SECONDS}s", url], capture_output=True, check=True)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout

    def ms(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def registration_burst(base: str, term_id: int, people: int, region_id: int, orp_ids: list[int]) -> dict:
    """Each person has loaded the form already (cookie + token); then all submit at once."""
    sessions = []
    for i in range(people):
        session = requests.Session()
        token = CSRF.search(session.get(f"{base}/termin/{term_id}/prihlaska").text).group(1)
        sessions.append((session, {
            "csrf_token": token, "name": f"Osoba {i}", "email": f"zatez{i}@example.cz", "employer_type": "ospod",
            "region": region_id, "orp": orp_ids[i % len(orp_ids)], "job_title": "sociální pracovník", "consent": "y",
        }))

    def post(item):
        session, data = item
        started = time.perf_counter()
        status = session.post(f"{base}/termin/{term_id}/prihlaska", data=data, allow_redirects=False).status_code
        return status, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(post, sessions))
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for _, ms in results)
    return {
        "rps": people / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "errors": sum(status != 302 for status, _ in results),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--burst", type=int, default=500)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    url = postgres_url("spod4_bench_load")
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")

    app = build(url)
    with app.app_context():
        term_ids = add_terms(50)
        burst_term = add_terms(1, capacity=20)[0]
        from sqlalchemy import select

        from trainings.models import Orp, Region

        region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        orp_ids = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id)).all()
        region_id = region.id
        settle()
        db.engine.dispose()

    env = production_env(url)
    targets = {
        "hello world": ("hello", "/"),
        "catalogue page": ("app", "/"),
        "workshop page": ("app", "/nabidka/rodicovske-spory"),
        "all-terms feed": ("app", "/kalendar.ics"),
    }
    samples = {name: [] for name in targets}
    load_before = load_average()
    # Both servers are up for the whole run and measured in turn, round after round, so a spell
    # of noise on the machine falls on all of them alike; each row is the median of its rounds.
    with lean_gunicorn("bench.hello:app", env) as hello, \
            web_instances(env, count=1, workers=4, threads=4) as (base,):
        bases = {"hello": hello, "app": base}
        for _ in range(args.rounds):
            for name, (server, path) in targets.items():
                samples[name].append(wrk(bases[server] + path, args.seconds, args.connections))
        burst = registration_burst(base, burst_term, args.burst, region_id, orp_ids)
    load_after = load_average()

    rows = {name: {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}
            for name, runs in samples.items()}
    hello_row = rows["hello world"]
    print(f"\ngunicorn 4 workers x 4 threads: the application with config/gunicorn.conf.py (access log to "
          f"/dev/null), hello world bare (no config file, no access log); wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s after a {WARM_UP_SECONDS} s warm-up, {args.rounds} rounds in turn, medians; "
          f"{len(term_ids)} terms in the catalogue; load average {load_before} before, {load_after} after")
    print(f"{'':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}{'p99/hello':>11}{'errors':>8}"
          f"   p99 of each round")
    for name, row in rows.items():
        errors = sum(run["errors"] for run in samples[name])
        print(f"{name:<22}{row['rps']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
              f"{row['rps'] / hello_row['rps']:>9.0%}{row['p99'] / hello_row['p99']:>10.1f}x{errors:>8}   "
              + " ".join(f"{run['p99']:.0f}" for run in samples[name]))
    print(f"{'registration POST':<22}{burst['rps']:>9.0f}{burst['p50']:>9.1f}{burst['p99']:>9.1f}{'':>21}"
          f"{burst['errors']:>8}   (burst of {args.burst} at a 20-seat term, 32 clients)")
    print("\ntargets: each page >= 49 % of hello world's requests a second, p99 <= 2x hello world's; "
          "registrations 0 errors")


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
