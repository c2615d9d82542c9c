"""Hundreds sign up in the same minute: two app servers and two outbox workers
on one PostgreSQL, as production runs them, give no seat twice and send each
person exactly one e-mail."""
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from trainings.extensions import db
from trainings.models import Orp, OutboxMessage, OutboxState, Registration, RegistrationState

from .helpers import make_term, region
from .smtp import SmtpServer
from .stack import outbox_workers, production_env, register, web_instances

PEOPLE = 500
SEATS = 20
PER_ORP = 3


@pytest.mark.slow
def test_a_burst_of_500_registrations_across_two_instances(app, backend, database_url, tmp_path):
    if backend != "postgresql":
        pytest.skip("the multi-process stack is the production setup, which runs on PostgreSQL")
    smtp = SmtpServer()
    smtp.start()
    term_id = make_term(capacity=SEATS, per_orp_limit=PER_ORP).id
    pardubice = region("CZ053")
    orps = db.session.scalars(select(Orp.id).where(Orp.region_id == pardubice.id).order_by(Orp.id)).all()
    people = [
        {"name": f"Osoba {i}", "email": f"osoba{i}@example.cz", "region": pardubice.id, "orp": orps[i % len(orps)]}
        for i in range(PEOPLE)
    ]
    # Not left idle in a transaction through the burst: the server ends such a session
    # after DATABASE_IDLE_TRANSACTION_TIMEOUT.
    db.session.rollback()
    # The workers of both instances are forked from masters that loaded the app (preload_app) and
    # write their counters to one directory, as production's workers do on one machine.
    env = production_env(database_url, MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                         PROMETHEUS_MULTIPROC_DIR=tmp_path, METRICS_TOKEN="stack-metrics")
    try:
        with web_instances(env) as urls, outbox_workers(env):
            started = time.monotonic()
            with ThreadPoolExecutor(32) as pool:
                statuses = list(pool.map(
                    lambda i: register(requests.Session(), urls[i % 2], term_id, people[i]), range(PEOPLE)
                ))
            elapsed = time.monotonic() - started
            print(f"\n{PEOPLE} registrations over 2 instances in {elapsed:.1f} s ({PEOPLE / elapsed:.0f}/s)")
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(smtp.recorder.messages) < PEOPLE:
                time.sleep(0.5)
            metrics = requests.get(urls[0] + "/metrics", headers={"Authorization": "Bearer stack-metrics"}, timeout=10)
    finally:
        smtp.stop()

    assert Counter(statuses) == {302: PEOPLE}
    db.session.rollback()
    registrations = db.session.scalars(
        select(Registration).where(Registration.term_id == term_id).order_by(Registration.queued_at, Registration.id)
    ).all()
    assert len(registrations) == PEOPLE
    confirmed = [r for r in registrations if r.state == RegistrationState.CONFIRMED]
    assert len(confirmed) == SEATS
    assert max(Counter(r.orp_id for r in confirmed).values()) <= PER_ORP
    waitlisted = [r for r in registrations if r.state == RegistrationState.WAITLISTED]
    assert [r.waitlist_position() for r in waitlisted] == list(range(1, PEOPLE - SEATS + 1))

    recipients = Counter(str(m["To"]) for m in smtp.recorder.messages)
    assert len(recipients) == PEOPLE and set(recipients.values()) == {1}
    states = dict(db.session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    assert states == {OutboxState.SENT: PEOPLE}
    # Every worker's sign-ups are counted once, whichever worker the scrape reached.
    signups = {outcome: float(value) for outcome, value in
               re.findall(r'^spod4_signups_total\{outcome="(\w+)"\} ([\d.e+]+)$', metrics.text, re.M)}
    assert signups["confirmed"] == SEATS
    assert signups["waitlisted_orp"] + signups["waitlisted_full"] == PEOPLE - SEATS
    assert signups["refused"] == 0
