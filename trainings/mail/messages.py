"""Composition of every e-mail the system sends: one function and one template
pair (text + HTML under templates/mail/) per message."""
from flask import render_template

from ..models import Registration
from ..timefmt import date_only
from ..urls import absolute_url
from .outbox import enqueue


def _registration_message(kind: str, subject_prefix: str, registration: Registration, token: str | None, **extra):
    term = registration.term
    context = {
        "registration": registration,
        "term": term,
        "offer": term.offer,
        "manage_url": absolute_url("registration.manage", token=token) if token else None,
        **extra,
    }
    return enqueue(
        kind=kind,
        recipient=registration.email,
        subject=f"{subject_prefix}: {term.offer.title}, {date_only(term.starts_at)}",
        body_text=render_template(f"mail/{kind}.txt", **context),
        body_html=render_template(f"mail/{kind}.html", **context),
        registration=registration,
    )


def registration_confirmed(registration, token):
    return _registration_message("registration_confirmed", "Přihláška potvrzena", registration, token)


def registration_waitlisted(registration, token, position):
    return _registration_message(
        "registration_waitlisted", "Čekací listina", registration, token, position=position
    )


def registration_promoted(registration, token):
    return _registration_message(
        "registration_promoted", "Uvolnilo se místo, přihláška potvrzena", registration, token
    )


def registration_cancelled(registration):
    return _registration_message("registration_cancelled", "Přihláška zrušena", registration, None)


def registration_link(registration, token):
    return _registration_message("registration_link", "Odkaz na vaši přihlášku", registration, token)
