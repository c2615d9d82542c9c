"""The e-mail with the link to "Moje vzdělávání": queued for any address typed, and written, or not
sent at all, when the outbox worker sends it (person/compose.py)."""
from ..mail.outbox import enqueue


def person_link(recipient: str, email_normalized: str):
    """The link to "Moje vzdělávání": everything this address did, for the person who reads its mail.
    Queued for any address typed; the link is made, or nothing sent, when it is written."""
    return enqueue(kind="person_link", recipient=recipient, subject=None, body_text=None,
                   context={"email_normalized": email_normalized})
