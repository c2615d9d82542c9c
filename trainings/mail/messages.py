"""Composition of every e-mail the system sends: one function and one template
pair (text + HTML under templates/mail/) per message."""
from flask import render_template

from ..calendar import ics
from ..models import Registration
from ..timefmt import date_only
from ..urls import absolute_url
from .outbox import enqueue


def invitation(registration: Registration, method: str) -> dict:
    """An .ics attachment that calendars treat as an invitation (method in the content type)."""
    return {
        "filename": "pozvanka.ics" if method == "REQUEST" else "zruseni.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",
        "data": ics.registration_invitation(registration, method),
    }


def _registration_message(kind, subject_prefix, registration, token, method=None, **extra):
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
        attachments=[invitation(registration, method)] if method else [],
        registration=registration,
    )


def registration_confirmed(registration, token):
    return _registration_message("registration_confirmed", "Přihláška potvrzena", registration, token, "REQUEST")


def registration_waitlisted(registration, token, position):
    return _registration_message(
        "registration_waitlisted", "Čekací listina", registration, token, position=position
    )


def registration_promoted(registration, token):
    return _registration_message(
        "registration_promoted", "Uvolnilo se místo, přihláška potvrzena", registration, token, "REQUEST"
    )


def registration_cancelled(registration):
    return _registration_message("registration_cancelled", "Přihláška zrušena", registration, None, "CANCEL")


def registration_link(registration, token):
    return _registration_message("registration_link", "Odkaz na vaši přihlášku", registration, token)
