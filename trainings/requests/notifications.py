"""A request's e-mails (journey 2), written at once: to the requester (received, updated, the closed
term's sign-up link) and to the kraj's coordinator (a new request, the requester's message)."""
from ..mail.composers import mail_templates, written
from ..timefmt import date_only
from ..urls import absolute_url

mail_templates("requests", "request_received", "request_new", "request_updated", "request_term_created",
               "request_requester_message")


def _request_message(kind, recipient, subject, request, **extra):
    return written(kind, recipient, subject, {"request": request, **extra})


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
