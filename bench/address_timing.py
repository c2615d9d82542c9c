"""Do the public forms that take an e-mail address answer alike for a known and an unknown one?

Three forms, each posted through the test client the way a browser does (the form's page
loaded once for its CSRF token), every address once, known and unknown interleaved at random:
  - "Moje vzdělávání" (/moje-vzdelavani): an address with a registration vs. one without;
  - a sign-up (/termin/<id>/prihlaska): an address new to the term vs. one already on it;
  - "send me my link" on the sign-up page (/termin/<id>/odkaz): registered vs. not.
For each it prints the status codes and redirect targets seen, the median time of each
group, and how often one request's time tells the groups apart: a threshold fitted on
half the requests, scored on the other half (50 % is a coin toss).

Run: .venv/bin/python bench/address_timing.py [--requests 200] [--sqlite]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import psycopg
from common import ROOT, build, postgres_url, sqlite_url

sys.path.insert(0, str(ROOT))
from sqlalchemy import select  # noqa: E402

from trainings.extensions import db  # noqa: E402
from trainings.models import EmployerType, Offer, OfferKind, OfferStatus, Orp, Region, Term, TermForm  # noqa: E402
from trainings.registration import service  # noqa: E402

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
DATABASE = "spod4_bench_address_timing"


def _term() -> Term:
    offer = db.session.scalars(select(Offer).where(Offer.kind == OfferKind.WORKSHOP,
                                                   Offer.status == OfferStatus.RUNNING,
                                                   Offer.custom.is_(False))).first()
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=20)
    term = Term(offer=offer, starts_at=starts, ends_at=starts + timedelta(hours=3), form=TermForm.ONLINE,
                online_url="https://meet.example.cz/x", capacity=100_000, lecturer="Lektorka")
    db.session.add(term)
    db.session.commit()
    return term


def _place() -> tuple[int, int]:
    region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
    orp_id = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id).order_by(Orp.id)).first()
    return region.id, orp_id


def _register(term_id: int, email: str, region_id: int, orp_id: int) -> None:
    service.register(term_id, service.Applicant(
        name="Jana Nováková", email=email, employer_type=EmployerType.OSPOD, job_title="sociální pracovnice",
        region_id=region_id, orp_id=orp_id))


def _timed(client, url: str, data: dict) -> tuple[float, int, str]:
    started = time.perf_counter()
    response = client.post(url, data=data)
    elapsed = time.perf_counter() - started
    location = response.headers.get("Location", "")
    if location:
        client.get(location)  # as a browser does, untimed; it also takes the flash out of the session
    return elapsed, response.status_code, re.sub(r"/[A-Za-z0-9_-]{30,}", "/<token>", location)


def _guess_rate(known: list[float], unknown: list[float]) -> float:
    """Share of right guesses from one request's time: the best threshold (and side) on the
    even-numbered requests, scored on the odd-numbered ones."""
    fit = [(t, True) for t in known[::2]] + [(t, False) for t in unknown[::2]]
    test = [(t, True) for t in known[1::2]] + [(t, False) for t in unknown[1::2]]

    def score(samples, threshold, slower_is_known):
        return sum((t > threshold) == (is_known == slower_is_known) for t, is_known in samples) / len(samples)

    best = max(((t, side) for t, _ in fit for side in (True, False)), key=lambda c: score(fit, *c))
    return score(test, *best)


def _report(name: str, results: dict[str, list[tuple[float, int, str]]]) -> None:
    print(f"\n{name}")
    times = {}
    for group, rows in results.items():
        times[group] = [t for t, _, _ in rows]
        answers = Counter(f"{status} {location}".strip() for _, status, location in rows)
        print(f"  {group:<9} median {statistics.median(times[group]) * 1000:6.2f} ms"
              f"   answers: {', '.join(f'{a} ×{n}' for a, n in answers.most_common())}")
    known, unknown = times.values()
    print(f"  right guesses from one request: {_guess_rate(known, unknown) * 100:.0f} %")


def _interleaved(known, unknown, rng):
    order = [("known", a) for a in known] + [("unknown", a) for a in unknown]
    rng.shuffle(order)
    return order


def run(url: str, count: int) -> None:
    app = build(url)
    rng = random.Random(1)
    with app.app_context():
        term = _term()
        term_id = term.id
        region_id, orp_id = _place()
        registered = [f"prihlasena{n}@ospod.example.cz" for n in range(3 * count)]
        for email in registered:
            _register(term_id, email, region_id, orp_id)
    client = app.test_client()
    signup_url, resend_url = f"/termin/{term_id}/prihlaska", f"/termin/{term_id}/odkaz"
    token = CSRF.search(client.get(signup_url).get_data(as_text=True)).group(1)
    person_token = CSRF.search(client.get("/moje-vzdelavani").get_data(as_text=True)).group(1)
    # Warm up every path once (templates compiled, statements prepared).
    for email in (registered[-1], "zahrivani@example.cz"):
        client.post("/moje-vzdelavani", data={"csrf_token": person_token, "email": email})
        client.post(resend_url, data={"csrf_token": token, "email": email})

    groups = {"known": registered[:count], "unknown": [f"nikdo{n}@example.cz" for n in range(count)]}
    results = {"known": [], "unknown": []}
    for group, email in _interleaved(groups["known"], groups["unknown"], rng):
        results[group].append(_timed(client, "/moje-vzdelavani", {"csrf_token": person_token, "email": email}))
    _report("Moje vzdělávání: an address with registrations vs. one without", results)

    form = {"csrf_token": token, "name": "Jana Nováková", "employer_type": "ospod", "region": region_id,
            "orp": orp_id, "job_title": "sociální pracovnice", "consent": "y"}
    groups = {"known": registered[count:2 * count], "unknown": [f"nova{n}@example.cz" for n in range(count)]}
    results = {"known": [], "unknown": []}
    for group, email in _interleaved(groups["known"], groups["unknown"], rng):
        results[group].append(_timed(client, signup_url, {**form, "email": email}))
    _report("Sign-up: an address already on the term (known) vs. a new one", results)

    groups = {"known": registered[2 * count:], "unknown": [f"cizi{n}@example.cz" for n in range(count)]}
    results = {"known": [], "unknown": []}
    for group, email in _interleaved(groups["known"], groups["unknown"], rng):
        results[group].append(_timed(client, resend_url, {"csrf_token": token, "email": email}))
    _report("Send me my link: an address on the term vs. one not on it", results)
    with app.app_context():
        db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests per group (default 200)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    url = sqlite_url() if args.sqlite else postgres_url(DATABASE)
    if url is None:
        print("PostgreSQL is not reachable on 127.0.0.1:5432")
        return 1
    print(f"{'SQLite' if args.sqlite else 'PostgreSQL'}, {args.requests} requests per group")
    try:
        run(url, args.requests)
    finally:
        if not args.sqlite:
            with psycopg.connect(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                                 autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
