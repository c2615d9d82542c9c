"""How the pages grow with data: demo size, 500 terms / 20 000 registrations, 5 000 / 200 000.

Grows one PostgreSQL database in bulk SQL (no ORM objects, so growing takes seconds, not
minutes) to each size in turn and times every page that lists terms or sums registrations,
one client through the test client, page cache off, the median of a few runs each: warm (the
process keeps reports, Kde jsme byli and feeds while nothing they show has changed, and each
term's written event) and first (every one of those process caches emptied before the request,
as after start-up or after many rows changed: the computation itself).

The mix follows what the programme will hold, scaled up: about 38 % of terms upcoming, the
rest spread over the past three years, 40 registrations a term (confirmed; those of past terms
marked present), people drawn from a pool a quarter the size, so a person attends several
workshops and the per-person sums mean something.

Run: .venv/bin/python bench/growth.py [--runs 5] [--sizes demo,500,5000] [--reuse] [--database NAME]
--reuse keeps one database per size (NAME_<size>) between runs, grown only the first time, so
timing a change again takes seconds instead of growing 200 000 registrations anew.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date

from common import ROOT, build, postgres_url, settle

sys.path.insert(0, str(ROOT))
from sqlalchemy import text  # noqa: E402

from tests.staff_helpers import organiser_client  # noqa: E402
from trainings.extensions import db  # noqa: E402

DATABASE = "spod4_bench_growth"
SIZES = {"demo": (0, 0), "500": (500, 20_000), "5000": (5_000, 200_000)}
UPCOMING_SHARE = 0.376
PUBLIC = {
    "catalogue /": "/",
    "API terms (50)": "/api/v1/terms",
    "all-terms feed": "/kalendar.ics",
    "kraj feed": "/kraj/pardubicky/kalendar.ics",
}
STAFF = {
    "staff home": "/sprava/",
    "staff terms list": "/sprava/terminy/",
    "reports, this year": "/sprava/vykazy/",
    "reports, whole period": "/sprava/vykazy/?od=2025-07-01&do=2028-12-31",
    "Kde jsme byli, a kraj": "/sprava/vykazy/kde-jsme-byli?kraj=pardubicky",
    # Downloads are requests too: no request of any kind may take more than a few seconds.
    "reports XLSX, whole period": "/sprava/vykazy/vykaz.xlsx?od=2025-07-01&do=2028-12-31",
    "Kde jsme byli XLSX": "/sprava/vykazy/kde-jsme-byli.xlsx?kraj=pardubicky",
}


def grow_to(terms: int, registrations: int) -> None:
    """Add terms and registrations until the database holds about this many of each."""
    have = db.session.execute(text("SELECT count(*) FROM terms")).scalar()
    add_terms = max(0, terms - have)
    if add_terms == 0:
        return
    per_term = registrations // terms
    upcoming = round(add_terms * UPCOMING_SHARE)
    db.session.execute(text("""
        WITH offers AS (SELECT array_agg(id ORDER BY id) AS ids FROM offers
                        WHERE kind = 'workshop' AND status = 'running' AND NOT custom),
             regions AS (SELECT array_agg(id ORDER BY id) AS ids FROM regions)
        INSERT INTO terms (offer_id, starts_at, ends_at, form, region_id, venue, online_url, capacity,
                           per_orp_limit, lecturer, state, public, sequence, created_at, updated_at)
        SELECT offers.ids[1 + i % array_length(offers.ids, 1)],
               s.starts_at, s.starts_at + interval '4 hours',
               CASE WHEN i % 2 = 0 THEN 'online' ELSE 'prezencni' END,
               CASE WHEN i % 2 = 0 THEN NULL ELSE regions.ids[1 + i % array_length(regions.ids, 1)] END,
               CASE WHEN i % 2 = 0 THEN NULL ELSE 'Krajský úřad' END,
               CASE WHEN i % 2 = 0 THEN 'https://meet.example.cz/r' || i ELSE NULL END,
               :per_term, 5, 'Mgr. Lektorka Růst', 'scheduled', true, 0, now(), now()
        FROM generate_series(1, :count) AS i, offers, regions,
             LATERAL (SELECT CASE WHEN i <= :upcoming
                          THEN date_trunc('hour', now()) + interval '1 day' + (i * interval '365 days' / :upcoming)
                          ELSE date_trunc('hour', now()) - interval '1 day'
                               - ((i - :upcoming) * interval '1000 days' / greatest(1, :count - :upcoming))
                          END AS starts_at) AS s
    """), {"count": add_terms, "upcoming": upcoming, "per_term": per_term})
    pool = max(1, registrations // 4)
    db.session.execute(text("""
        WITH orps AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(region_id ORDER BY id) AS regions FROM orps),
             new_terms AS (SELECT id, starts_at FROM terms t
                           WHERE NOT EXISTS (SELECT 1 FROM registrations r WHERE r.term_id = t.id)
                             AND t.lecturer = 'Mgr. Lektorka Růst')
        INSERT INTO registrations (term_id, state, queued_at, name, email, email_normalized, employer_type,
                                   job_title, region_id, orp_id, consent_at, consent_version, created_at,
                                   updated_at, calendar_sequence, attended, attendance_marked_at)
        SELECT t.id, 'confirmed', t.starts_at - interval '10 days',
               'Účastnice Nováková ' || p, 'ucastnice' || p || '@example.cz', 'ucastnice' || p || '@example.cz',
               'ospod', 'sociální pracovnice',
               orps.regions[1 + p % array_length(orps.ids, 1)], orps.ids[1 + p % array_length(orps.ids, 1)],
               t.starts_at - interval '10 days', '2026-11', now(), now(), 0,
               CASE WHEN t.starts_at < now() THEN true ELSE NULL END,
               CASE WHEN t.starts_at < now() THEN t.starts_at ELSE NULL END
        FROM new_terms t, orps, generate_series(0, :per_term - 1) AS k,
             LATERAL (SELECT (t.id * 7919 + k * 104729) % :pool AS p) AS person
    """), {"per_term": per_term, "pool": pool})
    db.session.commit()
    settle()


def forget_kept() -> None:
    """Empty every process cache a page keeps its numbers or text in, so the next view computes all."""
    from trainings import coverage, ics, reporting
    from trainings.calendar import feeds

    for kept in (reporting._reports, coverage._kept):
        kept._items.clear()
    feeds._feeds.clear()
    ics._events.clear()


def timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def median_ms(client, url: str, runs: int) -> tuple[float, float]:
    """(warm median, first-view median) of `runs` requests each."""
    first = []
    for _ in range(runs):
        forget_kept()
        first.append(timed(client, url))
    warm = [timed(client, url) for _ in range(runs)]
    return statistics.median(warm), statistics.median(first)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="demo,500,5000")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float]]] = {}
    sizes = args.sizes.split(",")
    if args.reuse:
        for size in sizes:
            measure(f"{args.database}_{size}", [size], args.runs, results, fresh=False)
    else:
        measure(args.database, sizes, args.runs, results, fresh=True)
    report(sizes, args.runs, results)


def measure(database: str, sizes: list[str], runs: int, results: dict, fresh: bool) -> None:
    url = postgres_url(database, fresh=fresh)
    if url is None:
        sys.exit("PostgreSQL does not answer")
    app = build(url)
    app.config["PAGE_CACHE_SECONDS"] = 0
    with app.app_context():
        from trainings.demo import seed_demo
        seed_demo()
        staff = organiser_client(app)
        public = app.test_client()
        for size in sizes:
            grow_to(*SIZES[size])
            counts = db.session.execute(text(
                "SELECT (SELECT count(*) FROM terms), (SELECT count(*) FROM terms WHERE starts_at > now()),"
                " (SELECT count(*) FROM registrations)")).one()
            print(f"size {size}: {counts[0]} terms ({counts[1]} upcoming), {counts[2]} registrations", flush=True)
            for label, path in PUBLIC.items():
                results.setdefault(label, {})[size] = median_ms(public, path, runs)
            for label, path in STAFF.items():
                results.setdefault(label, {})[size] = median_ms(staff, path, runs)
        db.session.remove()
        db.engine.dispose()


def report(sizes: list[str], runs: int, results: dict) -> None:
    print(f"\n{date.today()}, median of {runs} runs, ms, one client, page cache off;"
          " first = every process cache emptied before the request")
    both = "500" in sizes and "5000" in sizes
    print(f"{'page':<24}" + "".join(f"{size + ' warm':>12}{size + ' first':>12}" for size in sizes)
          + (f"{'5000/500 warm':>15}{'first':>8}" if both else ""))
    for label, by_size in results.items():
        row = f"{label:<24}" + "".join(f"{by_size[s][0]:>12.0f}{by_size[s][1]:>12.0f}" for s in sizes)
        if both:
            row += "".join(f"{by_size['5000'][i] / by_size['500'][i]:>{w}.1f}×" for i, w in ((0, 14), (1, 7)))
        print(row)


if __name__ == "__main__":
    main()
