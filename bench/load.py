"""Throughput and latency under concurrent load, against a bare Flask on the same setup.

Starts the production stack (gunicorn with config/gunicorn.conf.py, PostgreSQL,
Redis for rate limits) and a hello-world app on the identical gunicorn setup,
loads the catalogue page, a workshop page and the all-terms feed with wrk
(32 connections), then fires a burst of registration POSTs at one term.

Run: .venv/bin/python bench/load.py [--seconds 10] [--connections 32] [--burst 500]
Needs wrk (Debian package `wrk`) and PostgreSQL on 127.0.0.1:5432.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from common import ROOT, add_terms, build, postgres_url

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
        db.engine.dispose()

    env = production_env(url)
    pages = {
        "catalogue page": "/",
        "workshop page": "/nabidka/rodicovske-spory",
        "all-terms feed": "/kalendar.ics",
    }
    rows = {}
    with web_instances(env, count=1, workers=4, threads=4, app="bench.hello:app") as (hello,):
        rows["hello world"] = wrk(hello + "/", args.seconds, args.connections)
    with web_instances(env, count=1, workers=4, threads=4) as (base,):
        for name, path in pages.items():
            rows[name] = wrk(base + path, args.seconds, args.connections)
        burst = registration_burst(base, burst_term, args.burst, region_id, orp_ids)

    hello_rps = rows["hello world"]["rps"]
    print(f"\ngunicorn: 1 instance, 4 workers x 4 threads; wrk -t2 -c{args.connections} -d{args.seconds}s "
          f"after a {WARM_UP_SECONDS} s warm-up; "
          f"{len(term_ids)} terms in the catalogue")
    print(f"{'':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}{'errors':>8}")
    for name, row in rows.items():
        print(f"{name:<22}{row['rps']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
              f"{row['rps'] / hello_rps:>9.0%}{row['errors']:>8}")
    print(f"{'registration POST':<22}{burst['rps']:>9.0f}{burst['p50']:>9.1f}{burst['p99']:>9.1f}{'':>10}"
          f"{burst['errors']:>8}   (burst of {args.burst} at a 20-seat term, 32 clients)")
    print("\ntargets: catalogue >= 30 % of hello world; p99 <= 150 ms for pages; registrations >= 200/s, 0 errors")


if __name__ == "__main__":
    main()
