"""The dispatcher: sends due outbox messages, to SMTP or (development) to .eml files.

Several dispatchers may run at once. Each claims a batch in a short
transaction of its own (rows locked with SKIP LOCKED on PostgreSQL, the
database write lock on SQLite), marks it "sending" and writes a fresh random
claim token on every row, before any network work.

The token fences the claim. Right before a message goes to the server the
dispatcher reads that the row still carries its token, and once a quarter of
the reclaim window has passed since it last wrote the claim, it renews it
(claimed_at moved on) by an UPDATE that matches the token; the outcome is
written by an UPDATE that matches it too. A dispatcher whose row was retaken
in between finds no row to update, logs it and leaves the row to its new
owner. A row is retaken only when its claim is older than `reclaim_after()`,
which is never shorter than twice the longest one message may take
(`message_time_limit()`, enforced by a watchdog on the connection), so a live
dispatcher never loses a message it is sending: it starts within a quarter
of the window after its claim was written and finishes within half of it.

Only a try counts: `attempts` grows when a message was handed to the server
(or could not be written), never when a row is claimed or taken over. When the
server is down or silent, the message that found out waits its own back-off,
and the untouched rest of the batch waits only `server_pause()` before the
next message tries the server again; so when the server is back the backlog
goes at once, and a message is given up only after MAX_ATTEMPTS tries of its
own, spread over about a day.

Once a message's data has gone out in full, the server may have stored it:
its final answer gets until the message's time limit, whatever the commands
before it took. A message still unanswered then (or whose connection broke
after its data) is "unconfirmed": it is sent once more, an hour later
(UNCONFIRMED_RETRY_AFTER), and if that too is unconfirmed it is given up,
marked as possibly arrived. So a message arrives at most twice, either when
a server takes a message and never answers, or when a dispatcher dies (or
loses the database for longer than the window) after the server accepted a
message and before the outcome is written.

A sent message keeps no bodies or attachments: what it carried (private
links, invitations) is written over with nothing in the same UPDATE that
records it sent; the row keeps kind, recipient, subject and times for the
staff e-mail log.
"""
from __future__ import annotations

import secrets
import smtplib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from pathlib import Path

import flask_mail
from flask import current_app
from flask_mail import Message
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..db_session import transaction
from ..extensions import db
from ..models import OutboxMessage, OutboxState, utcnow
from .composers import compose_pending

RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
]
MAX_ATTEMPTS = 8
# A message the server took without confirming it may have arrived: it is sent once
# more only after this long, so that a server that stores and then stalls is not
# asked again and again.
UNCONFIRMED_RETRY_AFTER = timedelta(hours=1)
# Connect, greeting, EHLO, MAIL, RCPT and DATA may each take up to MAIL_TIMEOUT;
# the default deadline for one message allows all of them.
COMMANDS_PER_MESSAGE = 6


def send_deadline() -> float:
    """Seconds one message may take from connecting until its data has gone out."""
    config = current_app.config
    return float(config.get("MAIL_SEND_DEADLINE") or COMMANDS_PER_MESSAGE * float(config["MAIL_TIMEOUT"]))


def message_time_limit() -> float:
    """Seconds one message may take in all, the server's answer to its data included.

    That answer comes after the server has stored the message (RFC 5321 gives it the
    longest time of any, 4.5.3.2.6): a cut there would send a stored message again, so
    it may take what the deadline leaves plus one deadline more.
    """
    return 2 * send_deadline()


def reclaim_after() -> timedelta:
    """How old a claim must be before another dispatcher may take the row.

    Never shorter than twice the time limit of one message: a dispatcher renews its
    claim right before each message, so a live one always finishes (or is cut off)
    well inside the window. A crashed one's rows wait this long.
    """
    configured = float(current_app.config.get("OUTBOX_RECLAIM_AFTER") or 600)
    return timedelta(seconds=max(configured, 2 * message_time_limit()))


def server_pause() -> timedelta:
    """How long the rest of a batch waits after the server was found down or silent.

    One deadline: a try against a server that is still away then costs the worker at
    most half its time, and the backlog goes within this long of the server's return.
    """
    return timedelta(seconds=send_deadline())


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


class SendTimeout(TimeoutError):
    """The server took longer than the deadline for one message; the connection was cut."""


class Unconfirmed(Exception):
    """The message's data went out in full and no answer came: the server may have stored it."""


def classify(exc: Exception) -> bool:
    """True when the failure is worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    if isinstance(exc, PermanentFailure):
        return False
    # Refused or dropped connections, time-outs, DNS: the server may come back.
    return True


def server_unavailable(exc: Exception) -> bool:
    """True when the failure is the server's, not this message's: the rest of
    the batch would only wait for the same time-out or refusal."""
    if isinstance(exc, Unconfirmed):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPConnectError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing channel"
    return isinstance(exc, OSError)  # refused, reset, timed out, disconnected, cut by the watchdog


def _timed_out(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}" for rcpt, (code, msg) in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        text = f"{exc.smtp_code} {message}"
    elif isinstance(exc, (SendTimeout, Unconfirmed)):
        text = str(exc)
    elif _timed_out(exc):
        text = (f"The SMTP server did not answer within {float(current_app.config['MAIL_TIMEOUT']):g} s "
                f"({type(exc).__name__}: {exc})")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:2000]


def encoded_subject(subject: str) -> str:
    """The Subject as RFC 2047 encoded words only, folded to fit beside "Subject: ".

    Left to Flask-Mail, a Czech subject longer than a line is refolded by the email package's
    SMTP policy, which glues encoded words to plain text ("A1=?utf-8?b?…?="): strict clients
    then show "Pardubick ý kraj" and every client drops the space in "A1–A7 – Pardubický kraj".
    Lines that already fit are not refolded."""
    if subject.isascii():
        return subject
    # Folded with CRLF: Flask-Mail refuses any other line break in a header as an injection.
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")


def build_message(row: OutboxMessage) -> Message:
    message = Message(
        subject=encoded_subject(row.subject),
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-SPOD4-Message": f"{row.kind}-{row.id}"},
    )
    for item in row.attachments or []:
        message.attach(
            item["filename"], item["content_type"], item["data"].encode("utf-8"),
            headers=item.get("headers"),
        )
    return message


class FileTransport:
    """Development default: one .eml file per message, for a newcomer to open."""

    def __init__(self):
        self.folder = Path(current_app.config["MAIL_FILE_DIR"])
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message, name: str) -> None:
        (self.folder / f"{name}.eml").write_bytes(message.as_bytes())

    def reset(self, failed: bool = False) -> None:
        pass


class _DataWatch:
    """smtplib's client, telling when a message's data has gone out in full.

    From then on the server may have stored the message, so its answer is waited
    for as long as `on_data_sent()` says (seconds), and a failure after it is not
    taken for "not sent". smtplib's `data` writes the DATA command, then, after a
    354, the message with its closing dot.
    """

    on_data_sent = None
    _writes_in_data: int | None = None

    def data(self, msg):
        self._writes_in_data = 0
        try:
            return super().data(msg)
        finally:
            self._writes_in_data = None
            if self.sock is not None:
                try:
                    self.sock.settimeout(self.timeout)  # the next message's commands
                except OSError:
                    pass  # cut by the watchdog: the failure on its way says so

    def send(self, s):
        super().send(s)
        if self._writes_in_data is not None:
            self._writes_in_data += 1
            if self._writes_in_data == 2 and self.on_data_sent is not None:
                self.sock.settimeout(self.on_data_sent())


class _Smtp(_DataWatch, smtplib.SMTP):
    pass


class _SmtpSsl(_DataWatch, smtplib.SMTP_SSL):
    pass


class _TimedConnection(flask_mail.Connection):
    """Flask-Mail's connection with a socket time-out on connect and every command.

    Flask-Mail 0.10 opens smtplib without one, so a server that accepts and
    never answers would hold the dispatcher for ever. The smtplib object is
    kept in `opening` from before the connect, so the watchdog can cut it.
    """

    def __init__(self, state, timeout: float, on_data_sent):
        super().__init__(state)
        self.timeout = timeout
        self.on_data_sent = on_data_sent
        self.opening: _Smtp | _SmtpSsl | None = None

    def configure_host(self):
        state = self.mail
        host = (_SmtpSsl if state.use_ssl else _Smtp)(timeout=self.timeout)
        host.on_data_sent = self.on_data_sent
        self.opening = host
        try:
            host.connect(state.server, state.port)
            host.set_debuglevel(int(state.debug))
            if state.use_tls:
                host.starttls()
            if state.username and state.password:
                host.login(state.username, state.password)
        except BaseException:
            host.close()
            raise
        return host


class SmtpTransport:
    """One SMTP connection per pass, reopened after a failure.

    Every socket operation has MAIL_TIMEOUT; one message (with the connect,
    if needed) has MAIL_SEND_DEADLINE until its data has gone out and
    `message_time_limit()` in all, after which a watchdog cuts the
    connection, so a server that drips its answers slowly cannot hold a
    message past the reclaim window either.
    """

    def __init__(self):
        self.connection: _TimedConnection | None = None
        self.timeout = float(current_app.config["MAIL_TIMEOUT"])
        self.deadline = send_deadline()
        self.limit = message_time_limit()
        self._cut = threading.Event()
        self._watchdog: threading.Timer | None = None
        self._started = 0.0
        self._data_sent = False

    def send(self, message: Message, name: str) -> None:
        self._cut.clear()
        self._data_sent = False
        self._started = time.monotonic()
        self._watch(self.deadline)
        try:
            if self.connection is None:
                connection = _TimedConnection(current_app.extensions["mail"], self.timeout, self._data_went)
                self.connection = connection
                connection.__enter__()
            self.connection.send(message)
            if self._cut.is_set():
                # Accepted just as the watchdog fired: the message went, the connection did not survive.
                self.reset(failed=True)
        except Exception as exc:
            if self._data_sent and not isinstance(exc, smtplib.SMTPResponseException):
                raise Unconfirmed(
                    f"The SMTP server took the whole message and did not confirm it within {self.limit:g} s "
                    f"({type(exc).__name__}: {exc}); it may have stored it") from exc
            if self._cut.is_set():
                raise SendTimeout(f"The SMTP server did not finish one message within {self.deadline:g} s") from exc
            raise
        finally:
            self._watchdog.cancel()

    def _watch(self, seconds: float) -> None:
        self._watchdog = threading.Timer(seconds, self._cut_connection)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _data_went(self) -> float:
        """The data is out: the server's answer has until the message's time limit (seconds left)."""
        self._data_sent = True
        self._watchdog.cancel()
        left = max(self._started + self.limit - time.monotonic(), 0.01)
        self._watch(left)
        return left

    def _cut_connection(self) -> None:
        self._cut.set()
        host = self.connection.opening if self.connection is not None else None
        sock = getattr(host, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reset(self, failed: bool = False) -> None:
        connection, self.connection = self.connection, None
        host = connection.opening if connection is not None else None
        if host is None:
            return
        try:
            if failed or connection.host is None:
                host.close()  # a QUIT to a dead or silent server would only wait
            else:
                host.quit()
        except Exception:  # noqa: BLE001 - a dead connection may fail to close
            host.close()


def _transport():
    return FileTransport() if current_app.config["MAIL_TRANSPORT"] == "files" else SmtpTransport()


@dataclass
class Claim:
    """A row this dispatcher holds: its id, the token it wrote, the tries it had before,
    until when (time.monotonic) it may start sending without renewing the claim, and
    whether the server already took it once without confirming it."""

    id: int
    token: str
    attempts: int
    fresh_until: float = 0.0
    unconfirmed: bool = False


@dataclass
class Outcome:
    claim: Claim
    result: str  # "sent" | "retry" | "failed" | "dropped" (composed to nothing, its row deleted)
    values: dict = field(default_factory=dict)


def _freshness() -> float:
    """Seconds after writing a claim in which sending may start without renewing it."""
    return reclaim_after().total_seconds() / 4


def _claim_due(limit: int, now: datetime) -> list[Claim]:
    written = time.monotonic()  # no later than the claim's claimed_at is taken
    session = db.session
    session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    due = or_(
        and_(
            OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.RETRY]),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_at < now - reclaim_after()),
    )
    rows = session.scalars(
        select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    claims, retaken = [], []
    for row in rows:
        if row.state == OutboxState.SENDING:
            retaken.append(row.id)
        row.state = OutboxState.SENDING
        row.claimed_at = now
        row.claim_token = secrets.token_hex(16)
        claims.append(Claim(row.id, row.claim_token, row.attempts, written + _freshness(),
                            row.unconfirmed_at is not None))
    session.commit()
    if retaken:
        # A crashed worker's rows, or the untouched rest of a live worker's long batch
        # (which that worker will then skip); only a crashed worker's last one may arrive twice.
        current_app.logger.warning("outbox: took over %d messages claimed more than %g s ago: %s",
                                   len(retaken), reclaim_after().total_seconds(), _ids(retaken))
    return claims


def _ids(ids: list[int]) -> str:
    return ", ".join(map(str, ids[:20])) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


def _fenced_update(claim: Claim, **values) -> bool:
    """Write `values` to the row only while this dispatcher's claim is still on it."""
    with transaction():
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claim.id, OutboxMessage.claim_token == claim.token,
                   OutboxMessage.state == OutboxState.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def _failure(claim: Claim, exc: Exception) -> Outcome:
    """The outcome of one failed try (the message was handed to the server, or could not be written)."""
    tries = claim.attempts + 1
    tried = {"attempts": tries, "last_error": describe(exc)}
    if isinstance(exc, Unconfirmed):
        if claim.unconfirmed:
            tried["last_error"] = (f"{tried['last_error']}; the second time unconfirmed, so not sent again: "
                                   "it may have arrived")[:2000]
            return Outcome(claim, "failed", {**tried, "state": OutboxState.FAILED})
        return Outcome(claim, "retry", {**tried, "state": OutboxState.RETRY, "unconfirmed_at": utcnow(),
                                        "next_attempt_at": utcnow() + UNCONFIRMED_RETRY_AFTER})
    if not classify(exc) or tries >= MAX_ATTEMPTS:
        return Outcome(claim, "failed", {**tried, "state": OutboxState.FAILED})
    delay = RETRY_DELAYS[min(tries - 1, len(RETRY_DELAYS) - 1)]
    return Outcome(claim, "retry", {**tried, "state": OutboxState.RETRY, "next_attempt_at": utcnow() + delay})


def _sent(claim: Claim) -> Outcome:
    # What the message carried (private links, invitations) is not kept once it went.
    return Outcome(claim, "sent", {"state": OutboxState.SENT, "sent_at": utcnow(), "last_error": None,
                                   "attempts": claim.attempts + 1, "body_text": None, "body_html": None,
                                   "attachments": []})


class Dispatcher:
    """Sends claimed messages, fenced by their claim tokens.

    Kept across passes by `work`, so that what a database outage interrupted
    is finished when the database is back: outcomes not yet written
    (`unrecorded`) are written first, and claimed messages not yet sent
    (`held`) are sent before new ones are claimed. Both are fenced, so a row
    retaken meanwhile by another dispatcher is left alone.
    """

    def __init__(self):
        self.held: list[Claim] = []
        self.unrecorded: list[Outcome] = []
        self.taken_over = 0
        self._skipped: list[int] = []

    @property
    def busy(self) -> bool:
        return bool(self.held or self.unrecorded)

    def run_pass(self, limit: int = 100, now: datetime | None = None, stop: threading.Event | None = None) -> dict:
        """One pass over due messages; returns counts by outcome.

        No transaction is open while a message travels to the server, so a
        slow SMTP server never holds up registrations. A database error is
        raised after what is known has been kept for the next pass.
        """
        clock = (lambda: now) if now is not None else utcnow
        counts = {"sent": 0, "retry": 0, "failed": 0}
        while self.unrecorded:
            self._record(self.unrecorded[0], counts)
            self.unrecorded.pop(0)
        if not self.held:
            self.held = _claim_due(limit, clock())
        transport = None
        try:
            while self.held:
                if stop is not None and stop.is_set():
                    self.release(reason=None)
                    break
                claim = self.held[0]
                if transport is None:
                    transport = _transport()
                outcome = self._deliver(claim, transport, clock)
                self.held.pop(0)
                if outcome is None:
                    continue
                try:
                    self._record(outcome, counts)
                except SQLAlchemyError:
                    self.unrecorded.append(outcome)
                    raise
                if outcome.values.get("_unavailable"):
                    # Also when this message was given up: the rest was not tried, and is not.
                    counts["retry"] += self.release(reason=outcome)
        finally:
            if transport is not None:
                transport.reset()
            if self._skipped:
                current_app.logger.warning(
                    "outbox: %d messages of this batch were taken over by another worker before this one "
                    "reached them; left to it: %s", len(self._skipped), _ids(self._skipped))
                self._skipped = []
        return counts

    def _deliver(self, claim: Claim, transport, clock) -> Outcome | None:
        session = db.session
        session.rollback()
        row = session.get(OutboxMessage, claim.id, populate_existing=True)
        if row is None or row.state != OutboxState.SENDING or row.claim_token != claim.token:
            self._skip(claim)
            return None
        try:
            if row.body_text is None:
                # Queued as a plan, written now that it is sent. A plan that finds nothing
                # to send (an address typed into a public form that is nobody's here) is
                # deleted with its row.
                compose_pending([claim.id])
                row = session.get(OutboxMessage, claim.id, populate_existing=True)
                if row is None:
                    session.rollback()
                    return Outcome(claim, "dropped")
            message, name = build_message(row), f"{row.id:06d}-{row.kind}"
        except SQLAlchemyError:
            raise
        except Exception as exc:  # noqa: BLE001 - a message that cannot be written is recorded as failed
            session.rollback()
            return _failure(claim, exc)
        session.rollback()
        # The row was ours when read above. Sending must start within a quarter of
        # the window after the claim was written, so that it ends (within the
        # message's time limit, at most half the window) before anyone may retake the row.
        if time.monotonic() >= claim.fresh_until:
            renewed = time.monotonic()
            if not _fenced_update(claim, claimed_at=clock()):
                self._skip(claim)
                return None
            claim.fresh_until = renewed + _freshness()
        try:
            transport.send(message, name)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            transport.reset(failed=True)
            outcome = _failure(claim, exc)
            if server_unavailable(exc):
                outcome.values["_unavailable"] = True
            return outcome
        return _sent(claim)

    def _record(self, outcome: Outcome, counts: dict) -> None:
        if outcome.result == "dropped":
            # No row left to write to. Counted only when it happens, so that a pass of nothing
            # but dropped plans is not taken for an idle one (work), and the usual counts stay as they were.
            counts["dropped"] = counts.get("dropped", 0) + 1
            return
        values = {k: v for k, v in outcome.values.items() if not k.startswith("_")}
        if _fenced_update(outcome.claim, **values):
            counts[outcome.result] += 1
        else:
            self._lost(outcome.claim, f"after it was {outcome.result}" +
                       (" (it may arrive twice)" if outcome.result == "sent" else ""))

    def _skip(self, claim: Claim) -> None:
        self.taken_over += 1
        self._skipped.append(claim.id)

    def _lost(self, claim: Claim, when: str) -> None:
        self.taken_over += 1
        current_app.logger.warning(
            "outbox: message %s was taken over by another worker %s; left to that worker", claim.id, when)

    def release(self, reason: Outcome | None) -> int:
        """Give the held, untried messages back; not being tried is no try.

        With a `reason` (the server is down or silent) they wait the short
        `server_pause()`, not the back-off of the message that found out, so
        they go as soon as the server answers again; without one (the worker
        is stopping) they are due at once for another worker.
        """
        released = 0
        for claim in self.held:
            if reason is not None:
                values = {"state": OutboxState.RETRY, "last_error": reason.values["last_error"],
                          "next_attempt_at": utcnow() + server_pause()}
            else:
                values = {"state": OutboxState.QUEUED if claim.attempts == 0 else OutboxState.RETRY,
                          "next_attempt_at": utcnow()}
            released += _fenced_update(claim, **values)
        self.held = []
        return released


def send_due(limit: int = 100, now: datetime | None = None) -> dict:
    """One pass over due messages (`flask outbox send`); returns counts by outcome."""
    return Dispatcher().run_pass(limit, now)


def _one_line(exc: BaseException) -> str:
    detail = getattr(exc, "orig", None) or exc
    text = " ".join(str(detail).split())
    return f"{type(detail).__name__}: {text}"[:300]


def _discard_session() -> None:
    """Drop the session and its connection, so the next pass starts on a fresh one."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone already
        pass
    db.session.remove()


def work(batch: int = 50, interval: float = 5.0, exit_when_idle: bool = False,
         stop: threading.Event | None = None, max_pause: float = 30.0) -> None:
    """Keep sending due messages until `stop` is set (`flask outbox work`).

    A failed pass (the database or the mail server away, a bug) is logged in
    one line and followed by a pause that doubles from 1 s up to `max_pause`;
    the worker keeps going and picks up where it was once things answer again.
    """
    stop = stop or threading.Event()
    log = current_app.logger
    dispatcher = Dispatcher()
    failures = 0
    while not stop.is_set():
        try:
            counts = dispatcher.run_pass(batch, stop=stop)
        except Exception as exc:  # noqa: BLE001 - the worker must outlive any one pass
            failures += 1
            pause = min(max_pause, 2.0 ** (failures - 1))
            _discard_session()
            expected = isinstance(exc, (SQLAlchemyError, OSError))
            log.error("outbox: pass failed (%s); next try in %g s", _one_line(exc), pause,
                      exc_info=failures == 1 and not expected)
            stop.wait(pause)
            continue
        if failures:
            log.warning("outbox: working again after %d failed passes", failures)
            failures = 0
        if not any(counts.values()) and not dispatcher.busy:
            if exit_when_idle:
                break
            stop.wait(interval)
    try:
        dispatcher.release(reason=None)
    except Exception as exc:  # noqa: BLE001 - the database may still be away; the window takes them back
        log.error("outbox: could not give back %d claimed messages (%s)", len(dispatcher.held), _one_line(exc))
    finally:
        _discard_session()
