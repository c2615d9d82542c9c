"""Composition of e-mails, kind by kind: each capability's `notifications.py` says what its
messages say and registers a composer for the kinds it queues as plans; this module only keeps
that registry and the pieces every message shares, and imports no capability.

A message is queued in one of two ways:
- as a plan (subject and body empty, `context` saying what happened and for whom), written by
  the outbox worker when it sends it (`compose_pending`), from the rows as they are then: a
  registration's messages, and those a public form asks for by address ("Moje vzdělávání",
  "send me my link", "you are already registered"), whose going out at all is decided then;
- written at once (`written`): requests, staff password links, feedback, a new term for the
  interest list, the seat offered to a colleague, where nothing hot waits on them.
"""
from collections.abc import Callable

from flask import render_template
from sqlalchemy import select

from ..db_session import transaction
from ..extensions import db
from ..models import OutboxMessage, OutboxState
from ..registry import registrar
from ..timefmt import date_only
from .outbox import enqueue

# kind -> the function that writes a planned message of that kind; False when the plan
# finds nothing to send.
Composer = Callable[[OutboxMessage], bool]
_COMPOSERS: dict[str, Composer] = {}
# @composer("kind", ...): the decorated function writes planned messages of these kinds.
composer = registrar(_COMPOSERS, "composers for the e-mail kind")
# kind -> the capability whose template folder holds its bodies (<capability>/mail/<kind>.txt|html):
# each capability keeps its e-mails' texts beside the code that writes them.
_TEMPLATE_FOLDERS: dict[str, str] = {}


def mail_templates(capability: str, *kinds: str) -> None:
    """Say that these kinds' bodies are the capability's templates, <capability>/mail/<kind>.*;
    called by the module that queues or composes them, so a kind is known before it is written."""
    for kind in kinds:
        if _TEMPLATE_FOLDERS.get(kind, capability) != capability:
            raise ValueError(f"two template folders for the e-mail kind {kind!r}")
        _TEMPLATE_FOLDERS[kind] = capability


def compose(message: OutboxMessage) -> bool:
    """Write subject, bodies and attachments of a planned message; False when there is nothing to send."""
    try:
        write = _COMPOSERS[message.kind]
    except KeyError:
        raise LookupError(f"no composer registered for the e-mail kind {message.kind!r}") from None
    return write(message)


def compose_pending(message_ids) -> None:
    """Compose queued messages in a transaction of their own (the worker, before it sends them).

    A message whose plan finds nothing to send is deleted: nothing is kept of an address
    someone typed into a public form that turned out to be nobody's here."""
    with transaction():
        # A sent message has no body either (mail.dispatch writes it over): it is never written again.
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.body_text.is_(None),
                                        OutboxMessage.state != OutboxState.SENT)
        ):
            if not compose(message):
                db.session.delete(message)


def bodies(kind: str, context: dict) -> tuple[str, str]:
    """Every e-mail has a text and an HTML body, from <capability>/mail/<kind>.txt and .html."""
    try:
        stem = f"{_TEMPLATE_FOLDERS[kind]}/mail/{kind}"
    except KeyError:
        raise LookupError(f"no template folder registered for the e-mail kind {kind!r}") from None
    return render_template(f"{stem}.txt", **context), render_template(f"{stem}.html", **context)


def about(term, prefix: str) -> str:
    """The subject of a message about one term: what, which workshop, which day."""
    return f"{prefix}: {term.offer.title}, {date_only(term.starts_at)}"


def written(kind, recipient, subject, context, **queued):
    """A message written at once (not a plan, which its composer writes at send time)."""
    body_text, body_html = bodies(kind, context)
    return enqueue(kind=kind, recipient=recipient, subject=subject, body_text=body_text, body_html=body_html,
                   **queued)
