"""A term's e-mails: its change or cancellation to everyone on it (a registration's plan, written at
send time by registration/compose.py), and a new term to the workshop's interest list (written at once)."""
from ..mail.composers import about, composer, mail_templates, written
from ..registration.compose import compose_plan
from ..registration.notifications import plan_message
from ..urls import absolute_url

composer("term_changed", "term_cancelled")(compose_plan)
mail_templates("terms", "term_changed", "term_cancelled", "interest_term_opened")


def term_changed(registration, token, changes: list[str]):
    """The organiser moved the term or its place; confirmed people get the updated invitation."""
    method = "REQUEST" if registration.state.value == "confirmed" else None
    return plan_message("term_changed", "Změna termínu", registration, token, method, changes=changes)


def term_cancelled(registration, token, reason: str | None):
    method = "CANCEL" if registration.state.value == "confirmed" else None
    return plan_message("term_cancelled", "Termín zrušen", registration, token, method, reason=reason)


def interest_term_opened(entry, term, dedupe_key):
    context = {"entry": entry, "term": term, "offer": term.offer,
               "signup_url": absolute_url("registration.register", term_id=term.id)}
    return written("interest_term_opened", entry.email, about(term, "Nový termín"), context, dedupe_key=dedupe_key)
