"""Writing a registration's planned e-mails (notifications.py) when the outbox worker sends them,
from the rows as they are then: a message composed after she lost her seat does not show the online
link or the check-in code any more, and undo is offered only while her page would offer it.

Apart from notifications.py because it asks the registration service, which queues through that module."""
from .. import ics
from ..extensions import db
from ..mail.composers import about, bodies, composer
from ..models import Registration, Term, utcnow
from ..urls import absolute_url
from . import service
from .notifications import check_in_context

PLANNED_KINDS = (
    "registration_confirmed", "registration_waitlisted", "registration_promoted", "registration_moved_to_waitlist",
    "term_message", "registration_cancelled", "registration_switched", "registration_switched_old_term",
    "registration_switch_pending", "registration_handed_over", "registration_link", "already_registered", "reminder",
)


def invitation(registration: Registration, method: str, sequence: int | None = None) -> dict:
    """An .ics attachment that calendars treat as an invitation (method in the content type)."""
    return {
        "filename": "pozvanka.ics" if method == "REQUEST" else "zruseni.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",
        "data": ics.registration_invitation(registration, method, registration_sequence=sequence),
    }


@composer(*PLANNED_KINDS)
def compose_plan(message) -> bool:
    """Write subject, bodies and invitation of a registration's queued message from its plan; False
    when the plan finds nothing to send (the worker then deletes the row)."""
    plan = message.context
    if plan.get("link_on_send"):
        registration = message.registration or service.active_registration(plan["term_id"], plan["email_normalized"])
        token = service.link_to_send(registration)
        if token is None:
            return False
        message.registration = registration
        plan = {**plan, "token": token}
    elif plan.get("link_if_due") and not service.issued_link_goes_out(message.registration, plan["token"]):
        return False
    registration = message.registration
    term = registration.term
    token = plan["token"]
    extra = plan["extra"]
    context = {
        "registration": registration,
        "term": term,
        "offer": term.offer,
        "manage_url": absolute_url("registration.manage", token=token) if token else None,
        "person_url": absolute_url("person.request_link"),
        # Offered only while her page offers it: someone added at the door cannot be asked to cancel,
        # and is told the workshop is under way (mail/_cancel_or_underway.*).
        "can_cancel": service.can_cancel(registration),
        "term_begun": term.starts_at <= utcnow(),
        # Where to find another term, when hers or the term was cancelled.
        "offer_url": absolute_url("catalogue.offer", slug=term.offer.slug),
        **(check_in_context(registration) if plan["check_in"] else {}),
        **extra,
    }
    withdrawn = db.session.get(Registration, extra["withdrawn_registration_id"]) \
        if extra.get("withdrawn_registration_id") else None
    if withdrawn is not None:
        context["old_term"] = withdrawn.term
    if extra.get("held_term_id"):
        context["held_term"] = db.session.get(Term, extra["held_term_id"])
    if extra.get("new_term_id"):
        context["new_term"] = db.session.get(Term, extra["new_term_id"])
    if message.kind == "registration_cancelled":
        # Written when sent: undo is offered only while her page would still offer it.
        context["undo_until"] = (service.undo_deadline(registration)
                                 if service.undo_refusal(registration) is None else None)
    message.subject = about(term, plan["subject_prefix"])
    message.body_text, message.body_html = bodies(message.kind, context)
    # One calendar object with one METHOD per e-mail: many clients act on the first only.
    message.attachments = [invitation(registration, plan["method"], plan.get("sequence"))] if plan["method"] else []
    # The token is needed only until the message is written.
    message.context = {**plan, "token": None}
    return True
