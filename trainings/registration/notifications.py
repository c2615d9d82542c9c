"""A registration's e-mails, as they are queued: only what happened and for whom (a plan), which
`compose.py` writes when the outbox worker sends it; and the seat offered to a colleague, written at
once. One function and one template pair (templates/registration/mail/<kind>.txt and .html, in this
package) per message."""
from ..check_in import check_in_url, qr_html_table
from ..mail.composers import about, mail_templates, written
from ..mail.outbox import enqueue
from ..models import Registration

mail_templates(
    "registration", "registration_confirmed", "registration_waitlisted", "registration_promoted",
    "registration_moved_to_waitlist", "term_message", "registration_cancelled", "registration_switched",
    "registration_switched_old_term", "registration_switch_pending", "registration_handed_over", "registration_link",
    "already_registered", "reminder", "handover_offer",
)


def plan_message(kind, subject_prefix, registration, token, method=None, check_in=False, *,
                 link_if_due=False, **extra):
    """Queue a message about one registration: only what happened and for whom.

    The row's `context` is the plan; the outbox worker writes subject, bodies, the
    invitation and the QR code from it and from the rows when it sends the message
    (`compose.compose_plan`), so the request that caused it only writes rows. The
    registration's calendar counter is recorded now: an invitation written later must
    still rank below the changes that followed it (a CANCEL, then an undo's REQUEST).
    `extra` must be plain JSON data. With `link_if_due` the message goes only if the
    registration service still allows its link when it is written (issued_link_goes_out).
    """
    plan = {"subject_prefix": subject_prefix, "token": token, "method": method, "check_in": check_in,
            "sequence": registration.calendar_sequence or 0, "extra": extra}
    if link_if_due:
        plan["link_if_due"] = True
    return enqueue(kind=kind, recipient=registration.email, subject=None, body_text=None, registration=registration,
                   context=plan)


def check_in_context(registration: Registration) -> dict:
    """The door code, its check-in URL and a QR code of it, while she has one (Registration.door_code)."""
    url = check_in_url(registration)
    if url is None:
        return {}
    return {"check_in_code": registration.door_code(), "check_in_url": url, "check_in_qr": qr_html_table(url)}


def registration_confirmed(registration, token):
    return plan_message(
        "registration_confirmed", "Přihláška potvrzena", registration, token, "REQUEST", check_in=True
    )


def registration_waitlisted(registration, token, position, reason: str, when_freed: str):
    """`reason` and `when_freed` are the registration service's sentences (term full or the per-ORP limit)."""
    return plan_message(
        "registration_waitlisted", "Čekací listina", registration, token, position=position, reason=reason,
        when_freed=when_freed,
    )


def registration_promoted(registration, token):
    return plan_message(
        "registration_promoted", "Uvolnilo se místo, přihláška potvrzena", registration, token, "REQUEST",
        check_in=True,
    )


def registration_moved_to_waitlist(registration, token, position):
    """The organiser moved a confirmed person to the waiting list; her calendar event is withdrawn."""
    return plan_message(
        "registration_moved_to_waitlist", "Přesun na čekací listinu", registration, token, "CANCEL",
        position=position,
    )


def term_message(registration, token, subject: str, body: str):
    """The organiser's own words to everyone confirmed on a term."""
    return plan_message("term_message", subject, registration, token, body=body)


def registration_cancelled(registration, token):
    return plan_message("registration_cancelled", "Přihláška zrušena", registration, token, "CANCEL")


def registration_switched(registration, withdrawn, token):
    """She moved to another term of the workshop (at once, or when her waiting-list entry got a seat):
    the e-mail about the move with the new date's invitation, then a short one with the old date's
    cancellation. Two e-mails, as a calendar client acts on one calendar object per e-mail
    (Outlook, Gmail and Apple Mail each take only the first of two)."""
    moved = plan_message(
        "registration_switched", "Přihláška přesunuta na jiný termín", registration, token, "REQUEST",
        check_in=True, withdrawn_registration_id=withdrawn.id,
    )
    # The old seat's link is not sent again: it leads to the new registration anyway (service.moved_to).
    released = plan_message(
        "registration_switched_old_term", "Původní termín zrušen v kalendáři", withdrawn, None, "CANCEL",
        new_term_id=registration.term_id,
    )
    return moved, released


def registration_switch_pending(registration, held, token, position):
    """She waits for a seat on another term while keeping the one she has."""
    return plan_message(
        "registration_switch_pending", "Čekací listina, místo vám zůstává", registration, token,
        position=position, held_term_id=held.term_id,
    )


def registration_handed_over(registration, colleague_name):
    """Her seat went to the colleague she named; her calendar event is withdrawn."""
    return plan_message(
        "registration_handed_over", "Místo předáno", registration, None, "CANCEL", colleague_name=colleague_name,
    )


def handover_offer(handover, offer_url):
    """To the colleague: a seat is offered to her; it moves only once she confirms in time.

    She has no registration yet (`registration` is None): the shared term block then promises
    the meeting link to confirmed participants instead of showing it."""
    giver = handover.registration
    term = giver.term
    context = {"handover": handover, "giver": giver, "registration": None, "term": term, "offer": term.offer,
               "offer_url": offer_url}
    return written("handover_offer", handover.email, about(term, "Nabídka místa na workshopu"), context,
                   registration=giver)


def registration_link(term_id: int, email: str, email_normalized: str):
    """ "Send me my link", queued for the address typed. The registration is looked up, and the
    link made, when it is written, if registration.service.link_to_send allows; else nothing is sent."""
    plan = {"subject_prefix": "Odkaz na vaši přihlášku", "token": None, "method": None, "check_in": False,
            "sequence": 0, "extra": {}, "link_on_send": True, "term_id": term_id, "email_normalized": email_normalized}
    return enqueue(kind="registration_link", recipient=email.strip(), subject=None, body_text=None, context=plan)


def already_registered(registration, token):
    """To the address of a registration someone signed up with again: hers stands, here is its link."""
    return plan_message("already_registered", "Na tento termín už máte přihlášku", registration, token,
                        link_if_due=True)


def reminder(registration, token, dedupe_key):
    message = plan_message("reminder", "Připomínka", registration, token)
    message.dedupe_key = dedupe_key
    return message
