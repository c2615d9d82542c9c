"""Writing the "Moje vzdělávání" e-mail when the outbox worker sends it: only if the address has
anything here (person.service.page_link_to_send); apart from notifications.py because that service
queues through it."""
from ..mail.composers import bodies, composer, mail_templates
from .service import page_link_to_send

mail_templates("person", "person_link")


@composer("person_link")
def compose_person_link(message) -> bool:
    link = page_link_to_send(message.context["email_normalized"])
    if link is None:
        return False
    page_url, expires_at = link
    message.subject = "Odkaz na Moje vzdělávání"
    message.body_text, message.body_html = bodies("person_link", {"page_url": page_url, "expires_at": expires_at})
    return True
