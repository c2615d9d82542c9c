"""The floor for a sign-up: a bare Flask + psycopg endpoint, served by the same gunicorn
setup as the application, that does only the minimal correct transaction.

Lock the term row, count its seats in one grouped query, check the e-mail is not
on the term yet, insert the registration (same table, same columns the
application fills). No ORM, no templates, no CSRF, no e-mail: whatever the
application spends above this is its own overhead (bench/signup_floor.py).

DATABASE_URL as for the application (postgresql[+psycopg]://…).
"""
from __future__ import annotations

import os
import secrets
import threading
from datetime import datetime, timezone

import psycopg
from flask import Flask, abort, redirect, request

app = Flask(__name__)

_DSN = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
_local = threading.local()
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_EMPLOYERS = {"ospod", "krajsky_urad", "socialni_sluzba", "jine"}


def _connection() -> psycopg.Connection:
    # gthread workers keep their threads: one connection per thread is a pool without a pool.
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(_DSN)
    return conn


@app.get("/")
def ready():
    return "ok"


@app.post("/termin/<int:term_id>/prihlaska")
def register(term_id):
    form = request.form
    name, email, job_title = form.get("name", "").strip(), form.get("email", "").strip(), form.get("job_title", "")
    region_id, orp_id = form.get("region", type=int), form.get("orp", type=int)
    if not (name and "@" in email and job_title and region_id and form.get("consent")):
        abort(422)
    email_normalized = email.lower()
    now = datetime.now(timezone.utc)
    conn = _connection()
    with conn.transaction():
        term = conn.execute(
            "SELECT capacity, per_orp_limit, state, LEAST(starts_at, COALESCE(registration_deadline, starts_at))"
            " FROM terms WHERE id = %s FOR UPDATE", (term_id,)
        ).fetchone()
        if term is None:
            abort(404)
        capacity, per_orp_limit, state, closes_at = term
        if state != "scheduled" or now >= closes_at:
            abort(409)
        rows = conn.execute(
            "SELECT state, orp_id, count(*) FROM registrations WHERE term_id = %s"
            " AND state IN ('confirmed', 'waitlisted') GROUP BY state, orp_id", (term_id,)
        ).fetchall()
        confirmed = sum(n for s, _, n in rows if s == "confirmed")
        orp_confirmed = sum(n for s, o, n in rows if s == "confirmed" and o == orp_id and o is not None)
        if conn.execute("SELECT 1 FROM registrations WHERE term_id = %s AND email_normalized = %s",
                        (term_id, email_normalized)).fetchone():
            abort(409)
        full = confirmed >= capacity
        orp_full = per_orp_limit is not None and orp_id is not None and orp_confirmed >= per_orp_limit
        state = "waitlisted" if full or orp_full else "confirmed"
        conn.execute(
            "INSERT INTO registrations (term_id, state, queued_at, name, email, email_normalized, phone,"
            " employer_type, job_title, region_id, orp_id, consent_at, consent_version, created_at, updated_at,"
            " calendar_sequence, check_in_code) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s)",
            (term_id, state, now, name, email, email_normalized, form.get("phone") or None,
             form.get("employer_type") if form.get("employer_type") in _EMPLOYERS else "jine", job_title,
             region_id, orp_id, now, "2026-11", now, now, "".join(secrets.choice(_ALPHABET) for _ in range(8))),
        )
    return redirect(f"/termin/{term_id}", 302)
