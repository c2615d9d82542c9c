"""SQL statements on a lecturer's pages, with 10 and with 200 upcoming terms (a quarter of them hers).

A lecturer's home and her list of terms decide per term whether she may open its check-in
(trainings/access.py); that must not cost a query per term. Run on SQLite:
.venv/bin/python bench/lecturer_pages.py
"""
from common import add_terms, build, sqlite_url
from sqlalchemy import event, select

from trainings.extensions import db
from trainings.models import StaffRole, Term

PAGES = {
    "home (/sprava/)": "/sprava/",
    "terms from today": "/sprava/terminy/",
    "check-in of one term": None,  # her first term, filled in below
}


def her_terms(count: int) -> tuple[str, int]:
    """`count` terms, every fourth taught by the lecturer; returns her e-mail and her first term."""
    from tests.staff_helpers import staff_user

    lecturer = staff_user("lektorka@bench.test", "Petra Lektorová", StaffRole.LECTURER)
    ids = add_terms(count)
    hers = db.session.scalars(select(Term).where(Term.id.in_(ids[::4]))).all()
    for term in hers:
        term.lecturer = lecturer.name
        term.lecturers.append(lecturer)
    db.session.commit()
    return lecturer.email, hers[0].id


def count_statements(app, client, url: str) -> int:
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def main():
    from tests.staff_helpers import browser

    results = {}
    for size in (10, 200):
        app = build(sqlite_url())
        with app.app_context():
            email, first = her_terms(size)
            client = browser(app, email)
        pages = {name: url or f"/sprava/terminy/{first}/prichody" for name, url in PAGES.items()}
        results[size] = {name: count_statements(app, client, url) for name, url in pages.items()}
    print(f"{'lecturer page':<24}{'10 terms':>10}{'200 terms':>11}")
    grows = []
    for name in PAGES:
        small, large = results[10][name], results[200][name]
        print(f"{name:<24}{small:>10}{large:>11}")
        if large > small:
            grows.append(name)
    print("statements grow with the number of terms on: " + (", ".join(grows) if grows else "no page"))
    return 1 if grows else 0


if __name__ == "__main__":
    raise SystemExit(main())
