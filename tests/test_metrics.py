"""/metrics for the operators' Prometheus: closed unless configured, then the numbers
an alert needs (latency per endpoint, sign-ups per outcome, the outbox's backlog)."""
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from trainings.extensions import db
from trainings.models import OutboxState, utcnow

from .helpers import make_term, orp, outbox, register_via_form

TOKEN = "scrape-secret-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def signups(metrics, outcome):
    return metrics[("spod4_signups_total", (("outcome", outcome),))]


@pytest.fixture
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def test_without_configuration_the_address_does_not_exist(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


def test_a_scraper_without_the_right_token_is_turned_away(client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_allowed_networks_let_only_their_addresses_in(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW_CIDRS", "10.1.0.0/16, 192.0.2.7/32")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    # With a token as well, the network alone is not enough.
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 401
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}, headers=AUTH).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.0.1"}, headers=AUTH).status_code == 403


def test_sign_ups_are_counted_by_outcome(app, client, token):
    term = make_term(capacity=2, per_orp_limit=1)
    before = scrape(client, headers=AUTH)

    assert register_via_form(client, term, email="a@litomysl.cz").status_code == 302  # confirmed
    assert register_via_form(client, term, email="b@litomysl.cz").status_code == 302  # ORP's one seat taken
    assert register_via_form(client, term, email="c@chrudim.cz", orp=orp("Chrudim").id).status_code == 302
    assert register_via_form(client, term, email="d@chrudim.cz", orp=orp("Chrudim").id).status_code == 302  # full
    # Already on the term: answered like any sign-up (tests/test_same_answer.py), counted as refused.
    assert register_via_form(client, term, email="a@litomysl.cz").status_code == 302

    after = scrape(client, headers=AUTH)
    assert {outcome: signups(after, outcome) - signups(before, outcome)
            for outcome in ("confirmed", "waitlisted_full", "waitlisted_orp", "refused")} == {
        "confirmed": 2, "waitlisted_full": 1, "waitlisted_orp": 1, "refused": 1}


def test_latency_is_labelled_by_endpoint_name_not_by_address(client, token):
    term = make_term()
    client.get(f"/termin/{term.id}/prihlaska")
    client.get("/tato-adresa-neexistuje-12345")
    text = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    metrics = scrape(client, headers=AUTH)

    form_count = ("spod4_http_request_duration_seconds_count",
                  (("endpoint", "registration.register"), ("method", "GET")))
    assert metrics[form_count] >= 1
    assert metrics[("spod4_http_requests_total",
                    (("endpoint", "none"), ("method", "GET"), ("status", "404")))] >= 1
    assert "/termin/" not in text and "tato-adresa" not in text


def test_the_outbox_backlog_and_failures_are_read_at_scrape_time(app, client, token):
    empty = scrape(client, headers=AUTH)
    assert empty[("spod4_outbox_due_messages", ())] == 0
    assert empty[("spod4_outbox_oldest_due_age_seconds", ())] == 0
    assert empty[("spod4_outbox_query_ok", ())] == 1

    term = make_term()
    register_via_form(client, term)
    (message,) = outbox()
    # No worker has run for twenty minutes: the confirmation is still waiting.
    message.state = OutboxState.QUEUED
    message.next_attempt_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    waiting = scrape(client, headers=AUTH)
    assert waiting[("spod4_outbox_due_messages", ())] == 1
    assert 20 * 60 <= waiting[("spod4_outbox_oldest_due_age_seconds", ())] < 21 * 60

    # A retry planned for later is not due yet; a message given up on is counted as failed.
    message.state = OutboxState.RETRY
    message.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    later = scrape(client, headers=AUTH)
    assert later[("spod4_outbox_due_messages", ())] == 0
    assert later[("spod4_outbox_failed_messages", ())] == 0
    message.state = OutboxState.FAILED
    db.session.commit()
    assert scrape(client, headers=AUTH)[("spod4_outbox_failed_messages", ())] == 1
