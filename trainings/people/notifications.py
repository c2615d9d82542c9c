"""A staff account's e-mail: the one-time link to set a password, written at once."""
from ..mail.composers import mail_templates, written

mail_templates("people", "staff_password_link")


def staff_password_link(user, url: str, lifetime: str):
    """A one-time link to set a staff password (first login or a forgotten one); `lifetime` as the page says it."""
    context = {"user": user, "url": url, "lifetime": lifetime}
    return written("staff_password_link", user.email, "SPOD4 registrace: nastavení hesla", context)
