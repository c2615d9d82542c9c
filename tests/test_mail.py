"""No e-mail is lost: the outbox and its dispatcher against a real SMTP server."""
import email
import email.policy
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import vobject
from sqlalchemy import delete, select

from trainings.extensions import db
from trainings.mail import dispatch
from trainings.mail.outbox import enqueue
from trainings.models import EmployerType, OutboxMessage, OutboxState, utcnow
from trainings.registration import service

from .helpers import make_term, orp, region
from .staff_helpers import applicant

ROOT = Path(__file__).resolve().parent.parent


def sign_up(term, i=1):
    return service.register(term.id, applicant(i, name=f"Jana Nováková {i}", email=f"jana{i}@mesto-litomysl.cz"))


def states():
    db.session.rollback()
    return sorted(m.state.value for m in db.session.scalars(select(OutboxMessage)))


def test_confirmation_arrives_through_smtp(smtp_app, smtp):
    term = make_term()
    sign_up(term)
    assert dispatch.send_due() == {"sent": 1, "retry": 0, "failed": 0}
    [message] = smtp.recorder.to("jana1@mesto-litomysl.cz")
    assert message["Subject"].startswith("Přihláška potvrzena: Od analýzy k tvorbě IPOD")
    body = message.get_body(("plain",)).get_content()
    assert "http://spod4.test/prihlaska/" in body
    assert states() == ["sent"]

    [attachment] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert attachment.get_param("method") == "REQUEST"
    event = vobject.readOne(attachment.get_content()).vevent
    assert event.dtstart.value == term.starts_at
    assert event.summary.value == "Od analýzy k tvorbě IPOD"


def test_cancellation_mail_withdraws_the_same_calendar_event(smtp_app, smtp):
    term = make_term()
    outcome = sign_up(term)
    service.cancel(outcome.registration.id)
    dispatch.send_due()
    invitations = {}
    for message in smtp.recorder.to("jana1@mesto-litomysl.cz"):
        for part in message.iter_attachments():
            calendar = vobject.readOne(part.get_content())
            invitations[calendar.method.value] = calendar.vevent
    assert invitations["CANCEL"].uid.value == invitations["REQUEST"].uid.value
    assert int(invitations["CANCEL"].sequence.value) > int(invitations["REQUEST"].sequence.value)


def test_with_the_server_down_registrations_succeed_and_mail_waits_then_goes_once(smtp_app, smtp):
    term = make_term(capacity=2)
    smtp.stop()
    for i in range(3):
        sign_up(term, i)
    assert states() == ["queued"] * 3

    counts = dispatch.send_due()
    assert counts == {"sent": 0, "retry": 3, "failed": 0}
    problems = db.session.scalars(select(OutboxMessage)).all()
    assert all("Connection" in m.last_error or "refused" in m.last_error.lower() for m in problems)
    assert all(m.next_attempt_at > utcnow() for m in problems)
    # Not yet due: a pass now sends nothing and loses nothing.
    assert dispatch.send_due() == {"sent": 0, "retry": 0, "failed": 0}

    smtp.start()
    later = utcnow() + timedelta(minutes=2)
    assert dispatch.send_due(now=later) == {"sent": 3, "retry": 0, "failed": 0}
    assert dispatch.send_due(now=later) == {"sent": 0, "retry": 0, "failed": 0}
    assert sorted(m["To"] for m in smtp.recorder.messages) == [f"jana{i}@mesto-litomysl.cz" for i in range(3)]


def test_permanent_refusal_fails_with_the_servers_answer_and_a_temporary_one_is_retried(smtp_app, smtp):
    smtp.recorder.refuse["nobody@example.cz"] = "550 5.1.1 Mailbox unavailable"
    smtp.recorder.refuse["busy@example.cz"] = "451 4.3.0 Try again later"
    for address in ("nobody@example.cz", "busy@example.cz", "ok@example.cz"):
        enqueue(kind="test", recipient=address, subject="Zkouška", body_text="Text")
    db.session.commit()

    assert dispatch.send_due() == {"sent": 1, "retry": 1, "failed": 1}
    by_recipient = {m.recipient: m for m in db.session.scalars(select(OutboxMessage))}
    assert by_recipient["nobody@example.cz"].state == OutboxState.FAILED
    assert "550" in by_recipient["nobody@example.cz"].last_error
    assert by_recipient["busy@example.cz"].state == OutboxState.RETRY
    assert "451" in by_recipient["busy@example.cz"].last_error
    first_delay = by_recipient["busy@example.cz"].next_attempt_at

    # Delays grow with every temporary failure.
    dispatch.send_due(now=first_delay + timedelta(seconds=1))
    second = db.session.get(OutboxMessage, by_recipient["busy@example.cz"].id)
    assert second.attempts == 2
    assert second.next_attempt_at - first_delay > timedelta(minutes=4)


def test_a_message_stuck_in_flight_after_a_crash_is_sent_again(smtp_app, smtp):
    message = enqueue(kind="test", recipient="ok@example.cz", subject="Zkouška", body_text="Text")
    db.session.commit()
    message.state = OutboxState.SENDING  # a dispatcher claimed it and died
    message.claimed_at = utcnow() - timedelta(minutes=30)
    db.session.commit()

    assert dispatch.send_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(smtp.recorder.to("ok@example.cz")) == 1


def test_a_message_being_sent_right_now_is_not_taken_by_another_dispatcher(smtp_app, smtp):
    message = enqueue(kind="test", recipient="ok@example.cz", subject="Zkouška", body_text="Text")
    db.session.commit()
    message.state = OutboxState.SENDING
    message.claimed_at = utcnow()
    db.session.commit()
    assert dispatch.send_due() == {"sent": 0, "retry": 0, "failed": 0}


@pytest.mark.slow
def test_two_dispatcher_processes_deliver_200_messages_without_duplicates(smtp_app, smtp, database_url, tmp_path):
    db.session.execute(delete(OutboxMessage))
    for i in range(200):
        enqueue(kind="test", recipient=f"ucastnik{i}@example.cz", subject=f"Zpráva {i}", body_text="Text")
    db.session.commit()

    env = {
        **os.environ,
        "TRAININGS_CONFIG": "development",
        "DATABASE_URL": database_url,
        "MAIL_TRANSPORT": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "outbox", "work", "--batch", "5", "--exit-when-idle"]
    # Each with its own sender, so that the test sees both of them send.
    senders = [f"worker{i}@spod4.test" for i in range(2)]
    workers = [subprocess.Popen(command, cwd=ROOT, env={**env, "MAIL_DEFAULT_SENDER": f"SPOD4 <{sender}>"},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for sender in senders]
    outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    delivered = [m["To"] for m in smtp.recorder.messages]
    assert len(delivered) == 200
    assert len(set(delivered)) == 200
    assert {m["From"].addresses[0].addr_spec for m in smtp.recorder.messages} == set(senders), outputs
    assert states() == ["sent"] * 200


def test_a_sign_up_only_writes_rows_and_the_worker_writes_the_e_mail_when_it_sends_it(smtp_app, smtp):
    sign_up(make_term())
    queued = db.session.scalars(select(OutboxMessage)).one()
    assert queued.body_text is None and queued.subject is None and queued.context["token"]

    assert dispatch.send_due() == {"sent": 1, "retry": 0, "failed": 0}
    [message] = smtp.recorder.to("jana1@mesto-litomysl.cz")
    assert re.search(r"http://spod4\.test/prihlaska/[A-Za-z0-9_-]{20,}", message.get_body(("plain",)).get_content())
    stored = db.session.scalars(select(OutboxMessage)).one()
    # The private link's token is kept only until the message is written.
    assert stored.subject.startswith("Přihláška potvrzena") and stored.context["token"] is None


def test_people_are_greeted_in_the_vocative_and_unknown_names_neutrally(smtp_app, smtp):
    term = make_term()
    for name, email in [("Jana Nováková", "jana@litomysl.cz"), ("Petr Novák", "petr@litomysl.cz"),
                        ("Andrea Müller", "andrea@litomysl.cz")]:
        service.register(term.id, service.Applicant(
            name=name, email=email, employer_type=EmployerType.OSPOD, job_title="sociální pracovník",
            region_id=region("CZ053").id, orp_id=orp("Litomyšl").id,
        ))
    dispatch.send_due()
    for email, salutation in [("jana@litomysl.cz", "Dobrý den, paní Nováková,"),
                              ("petr@litomysl.cz", "Dobrý den, pane Nováku,"),
                              ("andrea@litomysl.cz", "Dobrý den,")]:
        [message] = smtp.recorder.to(email)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.splitlines()[0] == salutation
        assert f"<p>{salutation}</p>" in html
        assert "Dobrý den, Jana" not in text + html and "Dobrý den, Petr" not in text + html


def test_an_undone_cancellation_sends_an_invitation_that_outranks_the_cancel(smtp_app, smtp):
    term = make_term()
    outcome = sign_up(term)
    service.cancel(outcome.registration.id)
    service.undo_cancel(outcome.registration.id)
    dispatch.send_due()
    events = []
    for message in smtp.recorder.to("jana1@mesto-litomysl.cz"):
        for part in message.iter_attachments():
            calendar = vobject.readOne(part.get_content())
            events.append((calendar.method.value, int(calendar.vevent.sequence.value), calendar.vevent.uid.value))
    assert [method for method, _, _ in events] == ["REQUEST", "CANCEL", "REQUEST"]
    assert events[0][1] < events[1][1] < events[2][1]
    assert len({uid for _, _, uid in events}) == 1


ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bqBQ]\?[^?\s]*\?=")


@pytest.mark.parametrize("subject", [
    "Nová žádost: Cílená metodická podpora A1–A7 – Pardubický kraj",
    "Přesun na jiný termín: Od analýzy k tvorbě IPOD, pondělí 14. 12. 2026",
    "Nabídka předání místa: Vyhodnocování a plánování Krok za krokem, pondělí 14. 12. 2026",
    "Krátký",
])
def test_a_czech_subject_is_encoded_words_apart_from_any_plain_text(app, subject):
    # RFC 2047 §5: an encoded word stands apart, between whitespace; glued to text ("A1=?utf-8?b?…"),
    # strict clients show it raw and every client loses the space before the next word.
    raw = dispatch.build_message(OutboxMessage(kind="test", recipient="jana@example.cz", subject=subject,
                                               body_text="x")).as_bytes().decode("ascii")
    header = re.search(r"^Subject: (.*?)\r\n(?=\S)", raw, re.M | re.S).group(1)
    for word in ENCODED_WORD.finditer(header):
        before = header[word.start() - 1] if word.start() else " "
        after = header[word.end()] if word.end() < len(header) else " "
        assert before.isspace() and after.isspace(), header
    assert email.message_from_string(raw, policy=email.policy.default)["Subject"] == subject
