"""SQL statements per page, for a catalogue of 10 and of 500 terms, per sign-up, per door tap
(an organiser marks one person present) and per back-office page of one term.

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
# A door tap: the registration with its term (once), the lock, the change and its audit entry.
STAFF_TARGETS = {"door tap (POST …/dochazka)": 6, "term page (/sprava/terminy/<id>)": 8,
                 "term's registrations (…/prihlasky)": 8, "check-in of the term (…/prichody)": 8}


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


def staff_statements() -> dict[str, list[str]] | None:
    """The statements of a door tap and of the pages of one term (20 people on it, an organiser
    signed in) on PostgreSQL, or None when none answers."""
    url = postgres_url("spod4_bench_sql_counts_staff")
    if url is None:
        return None
    from datetime import datetime, timedelta, timezone

    from tests.staff_helpers import browser
    from trainings.models import EmployerType, Orp, Region, StaffRole, Term
    from trainings.registration import service

    app = build(url)
    with app.app_context():
        term_id = add_terms(1)[0]
        term = db.session.get(Term, term_id)
        term.starts_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
        term.ends_at = term.starts_at + timedelta(hours=3)
        term.per_orp_limit = None
        db.session.commit()
        region = db.session.scalars(select(Region).where(Region.code == "CZ053")).one()
        orp_id = db.session.scalars(select(Orp.id).where(Orp.region_id == region.id).order_by(Orp.id)).first()
        people = [service.register(term_id, service.Applicant(
            name=f"Účastnice {i}", email=f"ucastnice{i}@example.cz", employer_type=EmployerType.OSPOD,
            job_title="sociální pracovnice", region_id=region.id, orp_id=orp_id)).registration.id
            for i in range(20)]
        client = browser(app, "organizatorka@bench.test", StaffRole.ORGANISER)
        engine = db.engine
    requests = {
        "door tap (POST …/dochazka)": lambda: client.post(
            f"/sprava/prihlasky/{people[0]}/dochazka", data={"csrf_token": client.token, "attended": "ano"}),
        "term page (/sprava/terminy/<id>)": lambda: client.get(f"/sprava/terminy/{term_id}"),
        "term's registrations (…/prihlasky)": lambda: client.get(f"/sprava/terminy/{term_id}/prihlasky"),
        "check-in of the term (…/prichody)": lambda: client.get(f"/sprava/terminy/{term_id}/prichody"),
    }
    results = {}
    try:
        for name, send in requests.items():
            statements = []
            listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                response = send()
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            assert response.status_code in (200, 302), (name, response.status_code)
            if name.startswith("door tap"):  # the tap worked (the page it leads back to is not counted)
                assert "přítomnost zapsána" in client.get(response.headers["Location"]).get_data(as_text=True)
            results[name] = statements
    finally:
        engine.dispose()
        with psycopg.connect(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                             autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "spod4_bench_sql_counts_staff" WITH (FORCE)')
    return results


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
    staff = staff_statements()
    over = []
    if staff is None:
        print("\nback office: PostgreSQL is not reachable on 127.0.0.1:5432, not counted")
    else:
        for name, statements in staff.items():
            target = STAFF_TARGETS[name]
            print(f"\n{name} on PostgreSQL: {len(statements)} statements (target <= {target})")
            for number, statement in enumerate(statements, 1):
                print(f"{number:>4}  {first_words(statement)}")
            if len(statements) > target:
                over.append(name)
    return 1 if grows or over else 0


if __name__ == "__main__":
    raise SystemExit(main())
