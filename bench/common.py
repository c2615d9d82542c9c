"""Shared set-up for the benchmarks: a throwaway database filled with terms."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from trainings.extensions import db  # noqa: E402
from trainings.models import Offer, OfferKind, OfferStatus, Region, Term, TermForm  # noqa: E402


def sqlite_url() -> str:
    return f"sqlite:///{Path(tempfile.mkdtemp(prefix='spod4-bench-')) / 'bench.sqlite3'}"


def postgres_url(name: str, fresh: bool = True) -> str | None:
    """A fresh PostgreSQL database for the benchmark (or, with fresh=False, the one left by an
    earlier run, created when missing), or None when none answers."""
    import psycopg

    admin = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if fresh or not exists:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def build(url: str):
    """The app on `url`, migrated and seeded (the tests' own builder)."""
    from tests.conftest import build_app

    return build_app(url, Path(tempfile.mkdtemp(prefix="spod4-bench-mail-")))


def add_terms(count: int, capacity: int = 20) -> list[int]:
    """`count` public terms spread over the running workshops, half online, half in the kraje."""
    offers = db.session.scalars(
        select(Offer).where(Offer.kind == OfferKind.WORKSHOP, Offer.status == OfferStatus.RUNNING,
                            Offer.custom.is_(False))
    ).all()
    regions = db.session.scalars(select(Region)).all()
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    terms = []
    for i in range(count):
        online = i % 2 == 0
        begins = start + timedelta(hours=6 * i)
        terms.append(Term(
            offer=offers[i % len(offers)], starts_at=begins, ends_at=begins + timedelta(hours=3),
            form=TermForm.ONLINE if online else TermForm.IN_PERSON,
            region=None if online else regions[i % len(regions)],
            venue=None if online else "Krajský úřad", online_url="https://meet.example.cz/x" if online else None,
            capacity=capacity, per_orp_limit=3, lecturer="Lektorka",
        ))
    db.session.add_all(terms)
    db.session.commit()
    return [t.id for t in terms]


@contextmanager
def lean_gunicorn(app: str, env: dict, workers: int = 4, threads: int = 4):
    """`app` (module:callable) on a bare gunicorn, the baseline a benchmark measures against: the
    same workers and threads as the application, and nothing else: no config file (no worker
    recycling, no start-up hooks, no switch interval), no access log. Anything more would be work
    the baseline does that the ratio then hides. Yields the base URL."""
    import tests.stack

    port = tests.stack.free_port()
    proc = subprocess.Popen(
        [str(tests.stack.BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads), "-k", "gthread",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        tests.stack.wait_for(base + "/")
        yield base
    finally:
        proc.terminate()
        proc.wait()


def settle() -> None:
    """What autovacuum does some while after a bulk load (statistics, the visibility map that
    lets an index-only scan skip the table), done now so that no measurement meets it halfway."""
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def count_statements(app, url: str, client=None) -> int:
    """SQL statements one GET of `url` runs (through `client`, a fresh anonymous one by default)."""
    from sqlalchemy import event

    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = (client or app.test_client()).get(url)
        assert response.status_code == 200, (url, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def print_growth(results: dict, small: int, large: int, label: str = "page") -> list[str]:
    """The statements per page at two sizes; returns the pages whose count grows with the data."""
    print(f"{label:<24}{f'{small} terms':>10}{f'{large} terms':>11}")
    grows = []
    for name in results[small]:
        print(f"{name:<24}{results[small][name]:>10}{results[large][name]:>11}")
        if results[large][name] > results[small][name]:
            grows.append(name)
    print("statements grow with the number of terms on: " + (", ".join(grows) if grows else "no page"))
    return grows
