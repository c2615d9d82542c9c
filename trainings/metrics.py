"""Prometheus metrics for operators at /metrics (prometheus-client).

- `spod4_http_request_duration_seconds{endpoint,method}`: latency per Flask endpoint
  (the endpoint's name, never the raw path, so a scan of random addresses adds no series);
  `spod4_http_requests_total{endpoint,method,status}` for error rates.
- `spod4_signups_total{outcome}`: confirmed, waitlisted_full, waitlisted_orp, refused.
- `spod4_outbox_due_messages`, `spod4_outbox_oldest_due_age_seconds`,
  `spod4_outbox_failed_messages`: read from the database at scrape time, one cheap
  query each on the outbox's (state, next_attempt_at) index; no work per request.

Under gunicorn every worker is its own process: with PROMETHEUS_MULTIPROC_DIR set
(an empty directory, wiped before each start) prometheus-client writes the counters
to files there and a scrape of any worker adds up all of them. Without it (the
embedded server, the tests) the process's own registry is read.

Not public: without METRICS_TOKEN or METRICS_ALLOW_CIDRS the address is a 404;
with a token it needs `Authorization: Bearer <token>`; with networks the client
address must be in one of them; with both, both.
"""
from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import time
from datetime import datetime, timezone

from flask import Blueprint, Flask, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from . import page_cache
from .access import public
from .extensions import db
from .models import OutboxMessage, OutboxState

# Buckets around what matters here: pages answer in tens of ms, the alert is on the
# sign-up's p99 at a few hundred ms, a request over the gunicorn timeout is lost anyway.
REQUEST_SECONDS = Histogram(
    "spod4_http_request_duration_seconds", "Time to answer a request, per Flask endpoint.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30),
)
REQUESTS = Counter("spod4_http_requests", "Answered requests, per Flask endpoint and status.",
                   ["endpoint", "method", "status"])
SIGNUPS = Counter("spod4_signups", "Sign-ups by what became of them.", ["outcome"])
SIGNUP_OUTCOMES = ("confirmed", "waitlisted_full", "waitlisted_orp", "refused")
for _outcome in SIGNUP_OUTCOMES:
    SIGNUPS.labels(_outcome)  # every outcome is exported from the start, at 0

bp = Blueprint("metrics", __name__)


class OutboxCollector:
    """The outbox's state, read when Prometheus asks (inside the /metrics request)."""

    def collect(self):
        now = datetime.now(timezone.utc)
        try:
            due, oldest = db.session.execute(
                select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.RETRY]),
                    OutboxMessage.next_attempt_at <= now,
                )
            ).one()
            failed = db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)
            )
        except SQLAlchemyError:
            db.session.rollback()
            # The scrape still answers; /health and this gauge say the database is the problem.
            yield GaugeMetricFamily("spod4_outbox_query_ok", "1 when the outbox could be read.", value=0)
            return
        finally:
            db.session.rollback()  # end the read transaction; nothing was written
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        yield GaugeMetricFamily("spod4_outbox_query_ok", "1 when the outbox could be read.", value=1)
        yield GaugeMetricFamily("spod4_outbox_due_messages", "E-mails due to be sent now (queued or retrying).",
                                value=due)
        yield GaugeMetricFamily(
            "spod4_outbox_oldest_due_age_seconds",
            "Seconds the longest-waiting due e-mail has been due; 0 when none is.",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily("spod4_outbox_failed_messages", "E-mails given up on (state failed).", value=failed)


def _allowed() -> None:
    config = current_app.config
    token, networks = config.get("METRICS_TOKEN"), config.get("METRICS_ALLOW_CIDRS")
    if not token and not networks:
        abort(404)  # not configured: the address does not exist
    if networks:
        try:
            client = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            abort(403)
        if not any(client in ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip()):
            abort(403)
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            abort(401)


@bp.get("/metrics")
@public
def metrics():
    _allowed()
    registry = CollectorRegistry(auto_describe=True)
    registry.register(OutboxCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    body = generate_latest(process_registry) + generate_latest(registry)
    return body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def _start_timer():
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    endpoint = request.endpoint or "none"  # no route matched: one label for every unknown address
    if started is not None:
        REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


def _count_signups(register):
    """Count each sign-up by its outcome where the service decides it."""
    if getattr(register, "counts_signups", False):
        return register

    @functools.wraps(register)
    def counted(*args, **kwargs):
        from .registration import service

        try:
            outcome = register(*args, **kwargs)
        except service.RegistrationError:
            SIGNUPS.labels("refused").inc()
            raise
        reason = getattr(outcome, "waitlist_reason", None)
        if getattr(outcome, "waitlist_position", None) is None:
            SIGNUPS.labels("confirmed").inc()
        else:
            SIGNUPS.labels("waitlisted_orp" if reason == service.ORP_LIMIT else "waitlisted_full").inc()
        return outcome

    counted.counts_signups = True
    return counted


def init_metrics(app: Flask) -> None:
    from .registration import service

    # The service module is the one place a sign-up's outcome is known; its callers look
    # `service.register` up at call time, so wrapping it here counts every sign-up.
    service.register = _count_signups(service.register)
    # First, so a request refused by an earlier hook (a rate limit) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    page_cache.served.connect(_observe_kept_page)  # answered before Flask: counted here
    app.register_blueprint(bp)


def _observe_kept_page(_app, endpoint: str, status: int, seconds: float, **_extra) -> None:
    REQUEST_SECONDS.labels(endpoint, "GET").observe(seconds)
    REQUESTS.labels(endpoint, "GET", str(status)).inc()
