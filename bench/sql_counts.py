"""SQL statements per page, for a catalogue of 10 and of 500 terms, and per sign-up.

The count must not grow with the number of terms (no N+1 queries). The sign-up is
one POST of the real form through the test client on PostgreSQL (the form loaded
first, as a browser does); its statements are printed with their first words.
Run: .venv/bin/python bench/sql_counts.py
"""
import os
import re

import psycopg
from common import add_terms, build, count_statements, postgres_url, print_growth, sqlite_url
from sqlalchemy import event, select

from trainings.extensions import db

PAGES = {
    "catalogue": "/",
    "catalogue, filtered": "/?form=prezencni&volna=y",
    "workshop page": "/nabidka/rodicovske-spory",
    "all-terms feed": "/kalendar.ics",
    "kraj feed": "/kraj/pardubicky/kalendar.ics",
    "API terms": "/api/v1/terms?per_page=200",
}


SIGNUP_TARGET = 6  # issue 14: lock, one grouped count, one duplicate check, the inserts


def signup_statements() -> list[str] | None:
    """The statements one sign-up POST runs on PostgreSQL, or None when none answers."""
    url = postgres_url("spod4_bench_sql_counts")
    if url is None:
        return None
    from trainings.models import Orp, Region

    app = build(url)
    with app.app_context():
        term_id = add_terms(1)[0]
        region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        orp_id = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id).order_by(Orp.id)).first()
        form = {"name": "Jana Nováková", "email": "jana.novakova@example.cz", "employer_type": "ospod",
                "region": region.id, "orp": orp_id, "job_title": "sociální pracovnice", "consent": "y"}
        engine = db.engine
    client = app.test_client()
    page = client.get(f"/termin/{term_id}/prihlaska").get_data(as_text=True)
    form["csrf_token"] = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.post(f"/termin/{term_id}/prihlaska", data=form)
        assert response.status_code == 302, response.status_code
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
        with psycopg.connect(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                             autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "spod4_bench_sql_counts" WITH (FORCE)')
    return statements


def first_words(statement: str, count: int = 6) -> str:
    """Its first words, the table it reads or writes and the clauses that matter for a write path."""
    words = " ".join(statement.split())
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", words)
    clauses = [c for c in ("JOIN", "WHERE", "GROUP BY", "FOR UPDATE", "RETURNING") if c in words]
    return (f"{' '.join(words.split()[:count])[:70]:<72}{table.group(1) if table else '':<20}"
            f"{', '.join(clauses)}")


def main():
    results = {}
    for size in (10, 500):
        app = build(sqlite_url())
        with app.app_context():
            add_terms(size)
        results[size] = {name: count_statements(app, url) for name, url in PAGES.items()}
    grows = print_growth(results, 10, 500)

    statements = signup_statements()
    if statements is None:
        print("\nsign-up POST: PostgreSQL is not reachable on 127.0.0.1:5432, not counted")
    else:
        print(f"\nsign-up POST on PostgreSQL (confirmed seat): {len(statements)} statements "
              f"(target <= {SIGNUP_TARGET})")
        for number, statement in enumerate(statements, 1):
            print(f"{number:>4}  {first_words(statement)}")
    return 1 if grows else 0


if __name__ == "__main__":
    raise SystemExit(main())
