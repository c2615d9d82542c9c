"""Composition of every e-mail the system sends: one function and one template
pair (text + HTML under templates/mail/) per message.

Messages about a registration are queued as a plan and written by the outbox
worker when it sends them (`compose`); the few others (requests, staff password links)
are written when queued, as nothing hot waits on them. The messages a public form asks
for by e-mail address ("Moje vzdělávání", "send me my link", "you are already
registered") are plans too, and whether they go out at all is decided when written:
the request that queued one did the same work for every address."""
from types import SimpleNamespace

from flask import render_template
from sqlalchemy import select

from .. import ics
from ..check_in import check_in_url, qr_html_table
from ..db_session import begin_write
from ..extensions import db
from ..models import OutboxMessage, OutboxState, Registration, Term, utcnow
from ..timefmt import date_only
from ..urls import absolute_url
from .outbox import enqueue


def invitation(registration: Registration, method: str, sequence: int | None = None) -> dict:
    """An .ics attachment that calendars treat as an invitation (method in the content type)."""
    return {
        "filename": "pozvanka.ics" if method == "REQUEST" else "zruseni.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",
        "data": ics.registration_invitation(registration, method, registration_sequence=sequence),
    }


def _registration_message(kind, subject_prefix, registration, token, method=None, check_in=False, *,
                          link_if_due=False, **extra):
    """Queue a message about one registration: only what happened and for whom.

    The row's `context` is the plan; the outbox worker writes subject, bodies, the
    invitation and the QR code from it and from the rows when it sends the message
    (`compose`), so the request that caused it only writes rows. The registration's
    calendar counter is recorded now: an invitation written later must still rank
    below the changes that followed it (a CANCEL, then an undo's REQUEST).
    `extra` must be plain JSON data. With `link_if_due` the message goes only if the
    registration service still allows its link when it is written (issued_link_goes_out).
    """
    plan = {"subject_prefix": subject_prefix, "token": token, "method": method, "check_in": check_in,
            "sequence": registration.calendar_sequence or 0, "extra": extra}
    if link_if_due:
        plan["link_if_due"] = True
    return enqueue(kind=kind, recipient=registration.email, subject=None, body_text=None, registration=registration,
                   context=plan)


def compose(message) -> bool:
    """Write subject, bodies and invitation of a queued message from its plan; False when the
    plan finds nothing to send (compose_pending then deletes the row).

    Written from the rows as they are when it is sent: a message composed after she lost
    her seat does not show the online link or the check-in code any more."""
    plan = message.context
    if message.kind == "person_link":
        return _compose_person_link(message)
    # Imported here: the registration service queues its messages through this module.
    from ..registration import service

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
        **(_check_in(registration) if plan["check_in"] else {}),
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
    if message.kind == "term_cancelled":
        context["offer_url"] = absolute_url("catalogue.offer", slug=term.offer.slug)
    if message.kind == "registration_cancelled":
        # Written when sent: undo is offered only while her page would still offer it.
        context["offer_url"] = absolute_url("catalogue.offer", slug=term.offer.slug)
        context["undo_until"] = (service.undo_deadline(registration)
                                 if service.undo_refusal(registration) is None else None)
    message.subject = _about(term, plan["subject_prefix"])
    message.body_text, message.body_html = _bodies(message.kind, context)
    # One calendar object with one METHOD per e-mail: many clients act on the first only.
    message.attachments = [invitation(registration, plan["method"], plan.get("sequence"))] if plan["method"] else []
    # The token is needed only until the message is written.
    message.context = {**plan, "token": None}
    return True


def _bodies(kind: str, context: dict) -> tuple[str, str]:
    """Every e-mail has a text and an HTML body, from mail/<kind>.txt and mail/<kind>.html."""
    return render_template(f"mail/{kind}.txt", **context), render_template(f"mail/{kind}.html", **context)


def _about(term, prefix: str) -> str:
    """The subject of a message about one term: what, which workshop, which day."""
    return f"{prefix}: {term.offer.title}, {date_only(term.starts_at)}"


def compose_pending(message_ids) -> None:
    """Compose queued messages in a transaction of their own (the worker, before it sends them).

    A message whose plan finds nothing to send is deleted: nothing is kept of an address
    someone typed into a public form that turned out to be nobody's here."""
    begin_write()
    # A sent message has no body either (mail.dispatch writes it over): it is never written again.
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.body_text.is_(None),
                                    OutboxMessage.state != OutboxState.SENT)
    ):
        if not compose(message):
            db.session.delete(message)
    db.session.commit()


def _check_in(registration) -> dict:
    """The door code, its check-in URL and a QR code of it, while she has one (Registration.door_code)."""
    url = check_in_url(registration)
    if url is None:
        return {}
    return {"check_in_code": registration.door_code(), "check_in_url": url, "check_in_qr": qr_html_table(url)}


def registration_confirmed(registration, token):
    return _registration_message(
        "registration_confirmed", "Přihláška potvrzena", registration, token, "REQUEST", check_in=True
    )


def registration_waitlisted(registration, token, position, reason: str, when_freed: str):
    """`reason` and `when_freed` are the registration service's sentences (term full or the per-ORP limit)."""
    return _registration_message(
        "registration_waitlisted", "Čekací listina", registration, token, position=position, reason=reason,
        when_freed=when_freed,
    )


def registration_promoted(registration, token):
    return _registration_message(
        "registration_promoted", "Uvolnilo se místo, přihláška potvrzena", registration, token, "REQUEST",
        check_in=True,
    )


def registration_moved_to_waitlist(registration, token, position):
    """The organiser moved a confirmed person to the waiting list; her calendar event is withdrawn."""
    return _registration_message(
        "registration_moved_to_waitlist", "Přesun na čekací listinu", registration, token, "CANCEL",
        position=position,
    )


def term_message(registration, token, subject: str, body: str):
    """The organiser's own words to everyone confirmed on a term."""
    return _registration_message("term_message", subject, registration, token, body=body)


def registration_cancelled(registration, token):
    return _registration_message("registration_cancelled", "Přihláška zrušena", registration, token, "CANCEL")


def registration_switched(registration, withdrawn, token):
    """She moved to another term of the workshop (at once, or when her waiting-list entry got a seat):
    the e-mail about the move with the new date's invitation, then a short one with the old date's
    cancellation. Two e-mails, as a calendar client acts on one calendar object per e-mail
    (Outlook, Gmail and Apple Mail each take only the first of two)."""
    moved = _registration_message(
        "registration_switched", "Přihláška přesunuta na jiný termín", registration, token, "REQUEST",
        check_in=True, withdrawn_registration_id=withdrawn.id,
    )
    # The old seat's link is not sent again: it leads to the new registration anyway (service.moved_to).
    released = _registration_message(
        "registration_switched_old_term", "Původní termín zrušen v kalendáři", withdrawn, None, "CANCEL",
        new_term_id=registration.term_id,
    )
    return moved, released


def registration_switch_pending(registration, held, token, position):
    """She waits for a seat on another term while keeping the one she has."""
    return _registration_message(
        "registration_switch_pending", "Čekací listina, místo vám zůstává", registration, token,
        position=position, held_term_id=held.term_id,
    )


def registration_handed_over(registration, colleague_name):
    """Her seat went to the colleague she named; her calendar event is withdrawn."""
    return _registration_message(
        "registration_handed_over", "Místo předáno", registration, None, "CANCEL", colleague_name=colleague_name,
    )


def _written(kind, recipient, subject, context, **queued):
    """A message written at once (not a registration's plan, which compose writes at send time)."""
    body_text, body_html = _bodies(kind, context)
    return enqueue(kind=kind, recipient=recipient, subject=subject, body_text=body_text, body_html=body_html,
                   **queued)


def handover_offer(handover, offer_url):
    """To the colleague: a seat is offered to her; it moves only once she confirms in time."""
    giver = handover.registration
    term = giver.term
    # Not a participant yet: the shared term block must not show her the meeting link.
    recipient = SimpleNamespace(name=handover.name, state=SimpleNamespace(value="offered"),
                                online_link=lambda: None, attends_online=lambda: False)
    context = {"handover": handover, "giver": giver, "registration": recipient, "term": term, "offer": term.offer,
               "offer_url": offer_url}
    return _written("handover_offer", handover.email, _about(term, "Nabídka místa na workshopu"), context,
                    registration=giver)


def registration_link(term_id: int, email: str, email_normalized: str):
    """ "Send me my link", queued for the address typed. The registration is looked up, and the
    link made, when it is written, if registration.service.link_to_send allows; else nothing is sent."""
    plan = {"subject_prefix": "Odkaz na vaši přihlášku", "token": None, "method": None, "check_in": False,
            "sequence": 0, "extra": {}, "link_on_send": True, "term_id": term_id, "email_normalized": email_normalized}
    return enqueue(kind="registration_link", recipient=email.strip(), subject=None, body_text=None, context=plan)


def already_registered(registration, token):
    """To the address of a registration someone signed up with again: hers stands, here is its link."""
    return _registration_message("already_registered", "Na tento termín už jste přihlášeni", registration, token,
                                 link_if_due=True)


def term_changed(registration, token, changes: list[str]):
    """The organiser moved the term or its place; confirmed people get the updated invitation."""
    method = "REQUEST" if registration.state.value == "confirmed" else None
    return _registration_message(
        "term_changed", "Změna termínu", registration, token, method, changes=changes
    )


def term_cancelled(registration, token, reason: str | None):
    method = "CANCEL" if registration.state.value == "confirmed" else None
    return _registration_message("term_cancelled", "Termín zrušen", registration, token, method, reason=reason)


def reminder(registration, token, dedupe_key):
    message = _registration_message("reminder", "Připomínka", registration, token)
    message.dedupe_key = dedupe_key
    return message


def person_link(recipient: str, email_normalized: str):
    """The link to "Moje vzdělávání": everything this address did, for the person who reads its mail.
    Queued for any address typed; the link is made, or nothing sent, when it is written."""
    return enqueue(kind="person_link", recipient=recipient, subject=None, body_text=None,
                   context={"email_normalized": email_normalized})


def _compose_person_link(message) -> bool:
    from ..person.service import page_link_to_send  # imported here: that service queues through this module

    link = page_link_to_send(message.context["email_normalized"])
    if link is None:
        return False
    page_url, expires_at = link
    message.subject = "Odkaz na Moje vzdělávání"
    message.body_text, message.body_html = _bodies("person_link", {"page_url": page_url, "expires_at": expires_at})
    return True


def staff_password_link(user, url: str, lifetime: str):
    """A one-time link to set a staff password (first login or a forgotten one); `lifetime` as the page says it."""
    context = {"user": user, "url": url, "lifetime": lifetime}
    return _written("staff_password_link", user.email, "SPOD4 registrace: nastavení hesla", context)


def _after_term_message(kind, subject_prefix, registration, **extra):
    """A message after the term (feedback): plain context, written at once; no invitation attached."""
    term = registration.term
    context = {"registration": registration, "term": term, "offer": term.offer, **extra}
    return _written(kind, registration.email, _about(term, subject_prefix), context, registration=registration)


def feedback_invitation(registration, token, questionnaire_url, link_lifetime: str):
    """After the term, to each person marked present: her osvědčení (through her private link) and the questionnaire."""
    return _after_term_message("feedback_invitation", "Děkujeme za účast", registration,
                               manage_url=absolute_url("registration.manage", token=token),
                               questionnaire_url=questionnaire_url, link_lifetime=link_lifetime)


def feedback_reminder(registration, questionnaire_url):
    """The one reminder of an unanswered questionnaire."""
    return _after_term_message("feedback_reminder", "Připomínka dotazníku", registration,
                               questionnaire_url=questionnaire_url)


def interest_term_opened(entry, term, dedupe_key):
    context = {"entry": entry, "term": term, "offer": term.offer,
               "signup_url": absolute_url("registration.register", term_id=term.id)}
    return _written("interest_term_opened", entry.email, _about(term, "Nový termín"), context, dedupe_key=dedupe_key)


# --- requests (journey 2) --------------------------------------------------------


def _request_message(kind, recipient, subject, request, **extra):
    return _written(kind, recipient, subject, {"request": request, **extra})


def _follow_url(token):
    return absolute_url("requests.follow", token=token)


def request_received(request, token):
    """To the requester: the request arrived, who handles it, and her private link."""
    return _request_message(
        "request_received", request.requester_email,
        f"Žádost přijata: {request.kind.label} – {request.place_label}", request,
        follow_url=_follow_url(token),
    )


def request_new(request, person):
    """To the kraj's coordinator: a new request to handle."""
    return _request_message(
        "request_new", person.email, f"Nová žádost: {request.kind.label} – {request.place_label}", request,
        person=person, staff_url=absolute_url("requests_staff.detail", request_id=request.id),
    )


def request_updated(request, token, events):
    """To the requester: a state change (of the request or an item) or a comment meant for her."""
    states = [e for e in events if e.to_state is not None and e.item_id is None]
    if states:
        what = states[0].to_state.label
    elif any(e.to_state is not None for e in events):
        what = "změna u položky"
    else:
        what = "nová zpráva"
    return _request_message(
        "request_updated", request.requester_email, f"Vaše žádost ({request.kind.label}): {what}", request,
        events=events, follow_url=_follow_url(token),
    )


def request_term_created(request, term, token):
    """To the requester: the closed term and its sign-up link to pass on to colleagues."""
    return _request_message(
        "request_term_created", request.requester_email,
        f"Workshop na klíč naplánován: {date_only(term.starts_at)} – odkaz k přihlášení", request,
        term=term, offer=term.offer, follow_url=_follow_url(token),
        signup_url=absolute_url("registration.closed_term", signup_token=term.signup_token),
    )


def request_requester_message(request, event, person):
    """To the coordinator: the requester wrote through her private link."""
    return _request_message(
        "request_requester_message", person.email,
        f"Zpráva k žádosti: {request.kind.label} – {request.place_label}", request,
        person=person, event=event, staff_url=absolute_url("requests_staff.detail", request_id=request.id),
    )
