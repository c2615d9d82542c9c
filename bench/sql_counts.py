"""SQL statements per page, for a catalogue of 10 and of 500 terms.

The count must not grow with the number of terms (no N+1 queries).
Run: .venv/bin/python bench/sql_counts.py
"""
from common import add_terms, build, sqlite_url
from sqlalchemy import event

from trainings.extensions import db

PAGES = {
    "catalogue": "/",
    "catalogue, filtered": "/?form=prezencni&volna=y",
    "workshop page": "/nabidka/rodicovske-spory",
    "all-terms feed": "/kalendar.ics",
    "kraj feed": "/kraj/pardubicky/kalendar.ics",
    "API terms": "/api/v1/terms?per_page=200",
}


def count_statements(app, url: str) -> int:
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = app.test_client().get(url)
        assert response.status_code == 200, (url, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def main():
    results = {}
    for size in (10, 500):
        app = build(sqlite_url())
        with app.app_context():
            add_terms(size)
        results[size] = {name: count_statements(app, url) for name, url in PAGES.items()}
    print(f"{'page':<22}{'10 terms':>10}{'500 terms':>11}")
    grows = []
    for name in PAGES:
        small, large = results[10][name], results[500][name]
        print(f"{name:<22}{small:>10}{large:>11}")
        if large > small:
            grows.append(name)
    print("statements grow with the number of terms on: " + (", ".join(grows) if grows else "no page"))
    return 1 if grows else 0


if __name__ == "__main__":
    raise SystemExit(main())
