"""A database that freezes under load: how long requests and /health take.

    .venv/bin/python bench/db_freeze.py [--freeze 30] [--clients 16] [--limits test|production]

Runs tests/test_database_freeze.py's scenario: gunicorn with the production
settings (4 workers × 4 threads, the display cache off so that every page reads
the database) on a throwaway PostgreSQL database behind tests/tcp_proxy.py;
`--clients` clients load pages without pause, the proxy stops
forwarding for `--freeze` seconds (connections stay open, TCP is acknowledged),
a monitor polls /health every 0.5 s. `--limits test` uses the tests' shortened
database limits, `production` the defaults of config/__init__.py.

Prints, per phase (before, during, after the freeze) and for /health: answers by
status, the median and the longest time, requests that got no answer, the three
slowest of each kind, and when the first page came back after the freeze.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import test_database_freeze as scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--limits", choices=("test", "production"), default="test")
    args = parser.parse_args()
    limits = scenario.LIMITS if args.limits == "test" else {}
    with scenario.stack_behind_proxy(Path(tempfile.mkdtemp(prefix="spod4-bench-mail-")), limits) as (base, proxy):
        samples = scenario.run_scenario(base, proxy, clients=args.clients, freeze=args.freeze)
    report(samples, args.freeze)


def report(samples, freeze: float) -> None:
    def phase(s):
        if s.url == "/health":
            return "/health"
        if s.started + s.took < 0:
            return "before"
        return "during" if s.started < freeze else "after"

    print(f"{'':8} {'answers':>8} {'statuses':<28} {'median s':>9} {'max s':>7} {'no answer':>9}")
    for name in ("before", "during", "after", "/health"):
        rows = [s for s in samples if phase(s) == name]
        if not rows:
            continue
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(Counter(s.status for s in rows if s.status).items()))
        took = [s.took for s in rows]
        print(f"{name:8} {len(rows):>8} {statuses:<28} {statistics.median(took):>9.2f} {max(took):>7.2f} "
              f"{sum(s.status is None for s in rows):>9}")
    for kind, rows in (("pages", [s for s in samples if s.url != "/health"]),
                       ("/health", [s for s in samples if s.url == "/health"])):
        print(f"slowest {kind}:", ", ".join(f"{s.status} at {s.started:+.2f} s took {s.took:.2f} s"
                                           for s in sorted(rows, key=lambda s: -s.took)[:3]))
    after = sorted((s for s in samples if s.url != "/health" and s.started >= freeze), key=lambda s: s.started)
    first_ok = next((s.started + s.took - freeze for s in after if s.status == 200), None)
    if first_ok is not None:
        print(f"first page 200 after the freeze ended: {first_ok:.2f} s")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
