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


def term_changed(registration, token, changes: list[str]):
    """The organiser moved the term or its place; confirmed people get the updated invitation."""
    method = "REQUEST" if registration.state.value == "confirmed" else None
    return _registration_message(
        "term_changed", "Změna termínu", registration, token, method, changes=changes
    )


def term_cancelled(registration, token, reason: str | None):
    method = "CANCEL" if registration.state.value == "confirmed" else None
    return _registration_message(
        "term_cancelled", "Termín zrušen", registration, token, method, reason=reason,
        offer_url=absolute_url("catalogue.offer", slug=registration.term.offer.slug),
    )


def reminder(registration, token, dedupe_key):
    message = _registration_message("reminder", "Připomínka", registration, token)
    message.dedupe_key = dedupe_key
    return message


def interest_term_opened(entry, term, dedupe_key):
    context = {"entry": entry, "term": term, "offer": term.offer,
               "signup_url": absolute_url("registration.register", term_id=term.id)}
    return enqueue(
        kind="interest_term_opened",
        recipient=entry.email,
        subject=f"Nový termín: {term.offer.title}, {date_only(term.starts_at)}",
        body_text=render_template("mail/interest_term_opened.txt", **context),
        body_html=render_template("mail/interest_term_opened.html", **context),
        dedupe_key=dedupe_key,
    )
