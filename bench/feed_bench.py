"""Time to build the all-terms calendar feed, for 50 and 500 public terms.

Run: .venv/bin/python bench/feed_bench.py [--repeat 5]
The page cache is off here. "first" empties the process's kept feeds and written events before
each request (the first view after start-up: every event written); "kept" asks again with
nothing changed (one aggregate query, the kept bytes).
"""
import argparse
import statistics
import time

from common import add_terms, build, sqlite_url

from trainings import ics
from trainings.calendar import feeds


def timed(client) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get("/kalendar.ics")
    assert response.status_code == 200
    return (time.perf_counter() - started) * 1000, len(response.data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'terms':>6}{'first ms':>10}{'kept ms':>9}{'size kB':>9}")
    for count in (50, 500):
        app = build(sqlite_url())
        app.config["PAGE_CACHE_SECONDS"] = 0
        with app.app_context():
            add_terms(count)
        client = app.test_client()
        client.get("/kalendar.ics")  # warm up the process (imports, compiled statements)
        first = []
        for _ in range(args.repeat):
            feeds._feeds.clear()
            ics._events.clear()
            first.append(timed(client)[0])
        kept = [timed(client) for _ in range(args.repeat)]
        size = kept[-1][1]
        print(f"{count:>6}{statistics.median(first):>10.1f}{statistics.median(t for t, _ in kept):>9.1f}"
              f"{size / 1024:>9.0f}")


if __name__ == "__main__":
    main()
