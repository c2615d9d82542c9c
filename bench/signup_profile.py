"""CPU per sign-up inside the application process, and where it goes.

The real form POSTed through Flask's test client (a session cookie and CSRF token taken from
the form page first, a new e-mail each time, the ORPs of Pardubický kraj in turn) on a fresh
PostgreSQL database, production settings as far as a test client allows. Prints the median
process CPU time per sign-up over --count requests, then a CPU profile of another --count
(cProfile timed by process CPU: what a sign-up burns that is not the rule shows at the top).

With --waitlist the term has 20 seats and 3 per ORP (the floor's second scenario): after the
first few, every sign-up goes to the waiting list, whose e-mail plan names why.

Run: .venv/bin/python bench/signup_profile.py [--count 400] [--profile] [--waitlist]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

from common import ROOT, add_terms, build, postgres_url

sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from trainings.extensions import db  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--profile", action="store_true", help="print a cProfile profile too")
    parser.add_argument("--waitlist", action="store_true", help="20 seats, 3 per ORP: most go to the waiting list")
    args = parser.parse_args()
    url = postgres_url("spod4_bench_signup_profile")
    if url is None:
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
    build(url)  # migrated and seeded
    from trainings import create_app

    # Production settings, as gunicorn would load them (tests/stack.py production_env).
    app = create_app("production", overrides={
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://127.0.0.1",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_FORMS": "1000000 per minute",
        "SESSION_COOKIE_SECURE": False,
    })
    with app.app_context():
        from trainings.models import Orp, Region, Term

        region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        orp_ids = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id).order_by(Orp.id)).all()
        region_id = region.id
        term_id = add_terms(1)[0]
        db.session.get(Term, term_id).capacity = 20 if args.waitlist else 1_000_000
        db.session.get(Term, term_id).per_orp_limit = 3 if args.waitlist else None
        db.session.commit()

    client = app.test_client()
    page = client.get(f"/termin/{term_id}/prihlaska")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    path = f"/termin/{term_id}/prihlaska"
    cookie = client.get_cookie("session").value

    def sign_up(i: int):
        # Each request carries the cookie the form page set, as wrk's do: the flash a sign-up adds
        # would otherwise pile up in the session of a client that never follows the redirect.
        client.set_cookie("session", cookie)
        response = client.post(path, data={
            "csrf_token": token, "name": "Zátěžová Osoba", "email": f"zatez{i}@example.cz",
            "employer_type": "ospod", "region": region_id, "orp": orp_ids[i % len(orp_ids)],
            "job_title": "sociální pracovník", "consent": "y",
        })
        assert response.status_code == 302, response.status_code

    for i in range(50):  # warm-up: caches, pool, code paths
        sign_up(10_000_000 + i)
    times = []
    for i in range(args.count):
        started = time.process_time()
        sign_up(i)
        times.append((time.process_time() - started) * 1000)
    scenario = "20 seats, 3 per ORP" if args.waitlist else "1 000 000 seats"
    print(f"CPU per sign-up in-process (test client, PostgreSQL, {scenario}): "
          f"median {statistics.median(times):.2f} ms, p90 {statistics.quantiles(times, n=10)[-1]:.2f} ms over {args.count}")
    if args.profile:
        # CPU time, not wall time: waiting for PostgreSQL is the floor's cost too, burning CPU is ours.
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for i in range(args.count):
            sign_up(20_000_000 + i)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("cumulative").print_stats(r"trainings|flask_limiter|flask_wtf|flask/", 60)
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
