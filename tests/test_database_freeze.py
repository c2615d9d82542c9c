"""The database freezes for half a minute under load: the web tier keeps answering.

gunicorn runs as in production (config/gunicorn.conf.py: 4 workers of 4 threads on
this 2-core machine) against PostgreSQL behind tests/tcp_proxy.py. Sixteen clients
load pages without pause; the proxy then stops forwarding for 30 s while keeping
every connection open, so statements already sent get no answer and the kernel
still acknowledges everything (no TCP limit fires). A monitor polls /health.

What must hold: /health answers within 2 s every time, every page within the
README's bound (503 with Retry-After while the database is silent), and once the
database answers again the workers serve pages within a few seconds.
bench/db_freeze.py runs the same scenario and prints the numbers.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy.engine import make_url

from trainings.extensions import db

from .conftest import PG_ADMIN_URL, _admin, _postgres_database, build_app
from .helpers import make_term
from .stack import production_env, web_instances
from .tcp_proxy import TcpProxy

# tests/test_timeouts.py's shortened limits, so that the outage is found in about a second.
LIMITS = {
    "DATABASE_CONNECT_TIMEOUT": 2,
    "DATABASE_PING_TIMEOUT": 0.5,
    "DATABASE_POOL_TIMEOUT": 1,
    "DATABASE_STATEMENT_TIMEOUT": 1,
    "HEALTH_TIMEOUT": 1,  # the default: a check queued behind others at the thaw still answers within 2 s
}
# Pages that read the database on every request (the display cache is off below).
PAGES = ("/", "/api/v1/terms", "/nabidka-pro-kraje")
PAGE_BOUND = 5.0  # README "Time limits and errors": a 503 within about 5 s
HEALTH_BOUND = 2.0
RECOVERY = 4.0  # seconds after the freeze ends by which every page is 200 again


@dataclass
class Sample:
    url: str
    started: float  # seconds since the freeze began (negative: before it)
    took: float
    status: int | None  # None: no answer at all (the client gave up after 60 s)
    retry_after: str | None


def run_scenario(base: str, proxy: TcpProxy, *, clients: int = 16, warmup: float = 3.0, freeze: float = 30.0,
                 after: float = 8.0, health_every: float = 0.5) -> list[Sample]:
    """Load `base` with `clients` closed-loop clients and a /health monitor; freeze the
    proxy after `warmup` s for `freeze` s, go on for `after` s. Returns every answer."""
    samples: list[Sample] = []
    lock = threading.Lock()
    stop = threading.Event()
    frozen_at = time.monotonic() + warmup

    def fetch(get, url):
        started = time.monotonic()
        try:
            response = get(base + url, timeout=60)
            status, retry_after = response.status_code, response.headers.get("Retry-After")
        except requests.RequestException:
            status = retry_after = None
        with lock:
            samples.append(Sample(url, started - frozen_at, time.monotonic() - started, status, retry_after))

    def client(n):
        session = requests.Session()
        i = n
        while not stop.is_set():
            fetch(session.get, PAGES[i % len(PAGES)])
            i += 1

    def monitor():
        while not stop.is_set():
            fetch(requests.get, "/health")  # a new connection each time, as a load balancer's check
            stop.wait(health_every)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=monitor))
    for thread in threads:
        thread.start()
    try:
        time.sleep(max(0.0, frozen_at - time.monotonic()))
        proxy.hang()
        time.sleep(freeze)
        proxy.restore()
        time.sleep(after)
    finally:
        proxy.restore()
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    return samples


@contextmanager
def stack_behind_proxy(mail_dir, limits=LIMITS):
    """gunicorn with the production settings on a fresh database reached through the proxy;
    yields its base URL and the proxy."""
    name = f"spod4_freeze_{os.getpid()}"
    direct = make_url(_postgres_database(name))
    app = build_app(direct.render_as_string(hide_password=False), mail_dir)
    with app.app_context():
        for days in range(5, 60, 5):
            make_term(starts_in=timedelta(days=days))
        db.engine.dispose()
    target = urlsplit(PG_ADMIN_URL)
    proxy = TcpProxy(target.hostname, target.port or 5432).start()
    url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = production_env(url, PAGE_CACHE_SECONDS=0, **limits)
    try:
        with web_instances(env, count=1, workers=4, threads=4) as (base,):
            yield base, proxy
    finally:
        proxy.stop()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def frozen_stack(tmp_path_factory):
    with stack_behind_proxy(tmp_path_factory.mktemp("mail")) as stack:
        yield stack


@pytest.mark.slow
def test_a_30_second_freeze_under_16_clients_never_holds_a_request_or_the_health_check(frozen_stack):
    base, proxy = frozen_stack
    freeze = 30.0
    samples = run_scenario(base, proxy, freeze=freeze)

    health = [s for s in samples if s.url == "/health"]
    assert max(s.took for s in health) < HEALTH_BOUND, sorted(health, key=lambda s: s.took)[-3:]
    assert {s.status for s in health if 0.5 < s.started < freeze - HEALTH_BOUND} == {503}
    assert {s.status for s in health if s.started > freeze + RECOVERY} == {200}

    pages = [s for s in samples if s.url != "/health"]
    slowest = max(pages, key=lambda s: s.took)
    assert slowest.took < PAGE_BOUND, slowest
    during = [s for s in pages if 0 <= s.started + s.took and s.started < freeze]
    assert {s.status for s in during} <= {200, 503}
    assert sum(s.status == 503 for s in during) > 0
    assert all(s.retry_after and s.retry_after.isdigit() for s in during if s.status == 503)
    recovered = [s for s in pages if s.started > freeze + RECOVERY]
    assert recovered and {s.status for s in recovered} == {200}
