"""Time to build the all-terms calendar feed, for 50 and 500 public terms.

Run: .venv/bin/python bench/feed_bench.py [--repeat 5]
The page cache is off here: this is the cost of one rendering.
"""
import argparse
import statistics
import time

from common import add_terms, build, sqlite_url


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'terms':>6}{'median ms':>11}{'size kB':>9}")
    for count in (50, 500):
        app = build(sqlite_url())
        app.config["PAGE_CACHE_SECONDS"] = 0
        with app.app_context():
            add_terms(count)
        client = app.test_client()
        client.get("/kalendar.ics")  # warm up
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get("/kalendar.ics")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(f"{count:>6}{statistics.median(timings):>11.1f}{len(response.data) / 1024:>9.0f}")


if __name__ == "__main__":
    main()
