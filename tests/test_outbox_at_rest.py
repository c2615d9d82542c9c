"""No private link at rest in the outbox: once a message has gone out, its row keeps who,
what and when for the staff e-mail log, and nothing that opens anything. Checked the way
a backup sees the database: a dump of all of it (pg_dump on PostgreSQL)."""
import glob
import re
import shutil
import sqlite3
import subprocess

from sqlalchemy import select
from sqlalchemy.engine import make_url

from trainings.extensions import db
from trainings.mail import dispatch
from trainings.models import OutboxMessage, OutboxState, StaffRole, User
from trainings.person import service as person
from trainings.registration import service
from trainings.people import accounts

from .helpers import make_term
from .staff_helpers import applicant, organiser_client

LINK = re.compile(r"http://spod4\.test(/(?:prihlaska|moje-vzdelavani|sprava/heslo)/([A-Za-z0-9_-]{20,}))")




def dump(database_url) -> str:
    """The whole database as a backup holds it."""
    db.session.commit()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return "\n".join(connection.iterdump())
    pg_dump = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    target = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([pg_dump, "--no-owner", target], capture_output=True, text=True, check=True).stdout


def links_in(message) -> list[tuple[str, str]]:
    """(path, token) of every private link in a received e-mail's text and HTML."""
    text = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
    return sorted(set(LINK.findall(text)))


def test_sent_messages_leave_no_private_link_in_the_database(smtp_app, smtp, database_url):
    registration = service.register(make_term().id, applicant(1)).registration
    person.request_page_link(registration.email)
    coordinator = db.session.scalars(select(User).where(User.role == StaffRole.COORDINATOR)).first()
    accounts.send_password_link(coordinator)

    assert dispatch.send_due() == {"sent": 3, "retry": 0, "failed": 0}
    [(manage, manage_token)] = links_in(*smtp.recorder.to(registration.email)[:1])
    [(page, page_token)] = links_in(*smtp.recorder.to(registration.email)[1:])
    [(invitation, invitation_token)] = links_in(*smtp.recorder.to(coordinator.email))
    assert "/prihlaska/" in manage and "/moje-vzdelavani/" in page and "/sprava/heslo/" in invitation
    # Each one is live: it opens her registration, her page, the form that sets a staff password.
    client = smtp_app.test_client()
    for path in (manage, page, invitation):
        assert client.get(path).status_code == 200, path

    backup = dump(database_url)
    for token in (manage_token, page_token, invitation_token):
        assert token not in backup
    # What the staff e-mail log needs stays: to whom, what, which kind, when.
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.kind, m.recipient, m.state) for m in rows] == [
        ("registration_confirmed", registration.email, OutboxState.SENT),
        ("person_link", registration.email, OutboxState.SENT),
        ("staff_password_link", coordinator.email, OutboxState.SENT),
    ]
    assert all(m.subject and m.sent_at and m.created_at for m in rows)


def test_a_refused_message_keeps_its_link_until_staff_send_it_again(smtp_app, smtp):
    registration = service.register(make_term().id, applicant(1)).registration
    dispatch.send_due()
    smtp.recorder.refuse[registration.email] = "550 5.1.1 Mailbox unavailable"
    person.request_page_link(registration.email)
    assert dispatch.send_due() == {"sent": 0, "retry": 0, "failed": 1}

    staff = organiser_client(smtp_app)
    page = staff.get("/sprava/emaily").get_data(as_text=True)
    assert registration.email in page and "Odkaz na Moje vzdělávání" in page and "550 5.1.1" in page
    assert "/moje-vzdelavani/" not in page  # the log shows no body
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)).one()

    smtp.recorder.refuse.clear()
    staff.post(f"/sprava/emaily/{failed.id}/znovu", data={"csrf_token": staff.token})
    assert dispatch.send_due() == {"sent": 1, "retry": 0, "failed": 0}
    [message] = [m for m in smtp.recorder.to(registration.email) if m["Subject"] == "Odkaz na Moje vzdělávání"]
    [(path, _)] = links_in(message)
    assert smtp_app.test_client().get(path).status_code == 200
