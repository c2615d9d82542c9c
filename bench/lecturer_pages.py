"""SQL statements on a lecturer's pages, with 10 and with 200 upcoming terms (a quarter of them hers).

A lecturer's home and her list of terms decide per term whether she may open its check-in
(trainings/access.py); that must not cost a query per term. Run on SQLite:
.venv/bin/python bench/lecturer_pages.py
"""
from common import add_terms, build, count_statements, print_growth, sqlite_url
from sqlalchemy import select

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


def main():
    from tests.staff_helpers import browser

    results = {}
    for size in (10, 200):
        app = build(sqlite_url())
        with app.app_context():
            email, first = her_terms(size)
            client = browser(app, email)
        pages = {name: url or f"/sprava/terminy/{first}/prichody" for name, url in PAGES.items()}
        results[size] = {name: count_statements(app, url, client) for name, url in pages.items()}
    return 1 if print_growth(results, 10, 200, "lecturer page") else 0


if __name__ == "__main__":
    raise SystemExit(main())
