"""The outbox under faults: what a real SMTP server receives when things go wrong.

    .venv/bin/python bench/outbox_faults.py [--root CHECKOUT]

Runs `flask outbox …` workers as separate processes from CHECKOUT (default:
this one; point it at a `git worktree` of an older commit to measure the code
before a change with the same method) against PostgreSQL (TEST_DATABASE_URL's
server, a throwaway database) and aiosmtpd, with tests/tcp_proxy.py in front of
the database or the mail server for the faults. The time limits are shrunk so
that each scenario takes seconds: MAIL_TIMEOUT 0.5 s, MAIL_SEND_DEADLINE 1 s,
reclaim window 4 s (the least code that lets the server's final answer run to
twice the deadline allows; for code that has the window as the constant
STUCK_AFTER, the same 4 s are patched in). A scenario may set its own limits.

Prints one row per scenario: messages queued, messages the SMTP server
accepted, duplicates among them, messages never delivered by the end, messages
given up (`failed`), and the seconds the scenario took (worker start-up, about
3 s, included). Where a scenario lets time pass ("retry rounds"), every message
waiting for its next try is made due at once, as if its back-off had run out.

`--only WORD` runs the scenarios whose name contains WORD.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import and_, delete, func, or_, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import build, postgres_url  # noqa: E402
from tests.smtp import SmtpServer  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402
from tests.test_outbox_faults import LateAnswerRecorder, SlowRecorder  # noqa: E402
from trainings.extensions import db  # noqa: E402
from trainings.mail.outbox import enqueue  # noqa: E402
from trainings.models import OutboxMessage, OutboxState, utcnow  # noqa: E402

LIMITS = {"MAIL_TIMEOUT": "0.5", "MAIL_SEND_DEADLINE": "1", "OUTBOX_RECLAIM_AFTER": "4"}
RECLAIM = 4.0

# Starts `flask --app app outbox …` from the checkout in the current directory;
# code whose reclaim window is a constant gets the same window as the settings.
BOOT = """
import datetime, os, sys
sys.path.insert(0, os.getcwd())
from trainings.mail import dispatch
if hasattr(dispatch, "STUCK_AFTER"):
    dispatch.STUCK_AFTER = datetime.timedelta(seconds=float(os.environ["OUTBOX_RECLAIM_AFTER"]))
from flask.cli import main
sys.argv = ["flask", "--app", "app", "outbox", *sys.argv[1:]]
main()
"""


class Bench:
    def __init__(self, root: Path, url: str):
        self.root = root
        self.url = url
        self.logs = Path(tempfile.mkdtemp(prefix="spod4-outbox-faults-"))
        self.count = 0

    def env(self, database_url: str, smtp_port: int, **limits: str) -> dict:
        return {**os.environ, "TRAININGS_CONFIG": "development", "DATABASE_URL": database_url,
                "MAIL_TRANSPORT": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), **LIMITS,
                **limits}

    def start(self, env: dict, *args: str) -> subprocess.Popen:
        self.count += 1
        log = open(self.logs / f"{self.count:02d}-{args[0]}.log", "w")
        return subprocess.Popen([sys.executable, "-c", BOOT, *args], cwd=self.root, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    @contextmanager
    def workers(self, env: dict, count: int = 1, batch: int = 50):
        procs = [self.start(env, "work", "--batch", str(batch), "--interval", "0.2") for _ in range(count)]
        try:
            yield procs
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def queue(rows: int) -> list[str]:
    db.session.execute(delete(OutboxMessage))
    for i in range(rows):
        enqueue(kind="test", recipient=f"ucastnik{i}@example.cz", subject=f"Zpráva {i}", body_text="Text")
    db.session.commit()
    return [f"ucastnik{i}@example.cz" for i in range(rows)]


def in_state(state: OutboxState) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == state))


def sent() -> int:
    return in_state(OutboxState.SENT)


def settled() -> bool:
    """Nothing queued or being sent, and nothing due within the next 30 s: the workers
    would only wait for a back-off to run out."""
    db.session.rollback()
    busy = or_(OutboxMessage.state.in_([OutboxState.QUEUED, OutboxState.SENDING]),
               and_(OutboxMessage.state == OutboxState.RETRY,
                    OutboxMessage.next_attempt_at < utcnow() + timedelta(seconds=30)))
    return not db.session.scalar(select(func.count()).select_from(OutboxMessage).where(busy))


def back_offs_run_out() -> int:
    """Time passes: every message waiting for its next try is due now."""
    count = db.session.execute(update(OutboxMessage).where(OutboxMessage.state == OutboxState.RETRY)
                               .values(next_attempt_at=utcnow())).rowcount
    db.session.commit()
    return count


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@contextmanager
def smtp(delay: float, recorder=None):
    server = SmtpServer()
    server.recorder = recorder or SlowRecorder(delay)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def result(name, recipients, server, started, note):
    got = [m["To"] for m in server.recorder.messages]
    distinct = set(got) & set(recipients)
    return {"scenario": name, "rows": len(recipients), "received": len(got), "duplicates": len(got) - len(set(got)),
            "lost": len(recipients) - len(distinct), "given up": in_state(OutboxState.FAILED),
            "seconds": time.monotonic() - started, "note": note}


def alive(procs) -> str:
    codes = [p.poll() for p in procs]
    return "worker running" if all(c is None for c in codes) else f"worker exited ({codes})"


# --- scenarios ------------------------------------------------------------------------------


def slow_smtp_two_workers(bench: Bench):
    recipients = queue(70)
    with smtp(0.1) as server:
        started = time.monotonic()
        with bench.workers(bench.env(bench.url, server.port), count=2, batch=50) as procs:
            wait_until(lambda: sent() == 70, 40)
            time.sleep(1)  # a duplicate still on its way arrives
            note = alive(procs)
        return result("slow SMTP, 2 workers, batch > window", recipients, server, started, note)


def silent_smtp(bench: Bench):
    recipients = queue(5)
    with smtp(0.0) as server, TcpProxy("127.0.0.1", server.port) as proxy:
        proxy.hang()
        started = time.monotonic()
        proc = bench.start(bench.env(bench.url, proxy.port), "send")
        try:
            proc.wait(timeout=30)
            note = f"send returned in {time.monotonic() - started:.1f} s"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            note = "send hung; killed after 30 s"
        proxy.restore()
        # The server is back: once the retry is due (or the hung claim is past the window), one pass.
        db.session.execute(update(OutboxMessage).where(OutboxMessage.state == OutboxState.RETRY)
                           .values(next_attempt_at=utcnow()))
        db.session.commit()
        time.sleep(RECLAIM + 0.5)
        bench.start(bench.env(bench.url, server.port), "send").wait(timeout=60)
        return result("silent SMTP (accepts, never answers)", recipients, server, started, note)


def database_fault(bench: Bench, fault: str):
    recipients = queue(40)
    parsed = make_url(bench.url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with smtp(0.05) as server:
            started = time.monotonic()
            with bench.workers(bench.env(proxied, server.port), batch=10) as procs:
                wait_until(lambda: len(server.recorder.messages) >= 5, 20)
                getattr(proxy, fault)()
                time.sleep(3)
                proxy.restore()
                wait_until(lambda: sent() == 40 or procs[0].poll() is not None, 30)
                time.sleep(1)
                note = alive(procs)
            return result(f"database {'refuses' if fault == 'refuse' else 'hangs'} for 3 s", recipients, server,
                          started, note)
    finally:
        proxy.stop()


def killed_worker(bench: Bench):
    recipients = queue(30)
    with smtp(0.1) as server:
        started = time.monotonic()
        env = bench.env(bench.url, server.port)
        with bench.workers(env, batch=30) as (first,):
            wait_until(lambda: len(server.recorder.messages) >= 5, 20)
            first.send_signal(signal.SIGKILL)
            first.wait()
        with bench.workers(env, batch=30) as procs:
            wait_until(lambda: sent() == 30, 30)
            time.sleep(0.5)
            note = alive(procs) + " (the second one)"
        return result("worker SIGKILLed mid-batch", recipients, server, started, note)


def smtp_away_under_long_batches(bench: Bench):
    """Two workers, each message 1.5 s, so a batch of 50 outlasts the reclaim window and the
    workers keep taking over each other's untouched rows; the server is away for 7 s mid-way.
    Counts what went out within 20 s of the server's return (the backlog should flow at
    once), then lets the back-offs run out once and counts again."""
    recipients = queue(60)
    limits = {"MAIL_TIMEOUT": "2", "MAIL_SEND_DEADLINE": "2", "OUTBOX_RECLAIM_AFTER": "4"}
    with smtp(1.5) as server, TcpProxy("127.0.0.1", server.port) as proxy:
        started = time.monotonic()
        with bench.workers(bench.env(bench.url, proxy.port, **limits), count=2, batch=50) as procs:
            wait_until(lambda: len(server.recorder.messages) >= 40, 120)
            proxy.refuse()
            time.sleep(7)
            given_up_in_outage = in_state(OutboxState.FAILED)
            proxy.restore()
            before = len(server.recorder.messages)
            time.sleep(20)
            flowed = len(server.recorder.messages) - before
            wait_until(settled, 120)
            back_offs_run_out()
            wait_until(settled, 120)
            time.sleep(1)
            note = (f"{given_up_in_outage} given up during the outage; {flowed} delivered in the 20 s after "
                    f"the server came back; {alive(procs)}")
        return result("SMTP away 7 s, 1.5 s/message, 2 workers", recipients, server, started, note)


def late_answer(bench: Bench, answer_after: float):
    """The server stores each message at once and answers 250 only `answer_after` seconds
    later; one worker, MAIL_SEND_DEADLINE 2 s. Three retry rounds: after each, every
    back-off runs out."""
    recipients = queue(5)
    limits = {"MAIL_TIMEOUT": "1", "MAIL_SEND_DEADLINE": "2", "OUTBOX_RECLAIM_AFTER": "8"}
    with smtp(0, LateAnswerRecorder(answer_after)) as server:
        started = time.monotonic()
        with bench.workers(bench.env(bench.url, server.port, **limits), batch=10) as procs:
            wait_until(settled, 60)
            for _ in range(3):
                back_offs_run_out()
                time.sleep(1)
                wait_until(settled, 60)
            copies = sorted(Counter(m["To"] for m in server.recorder.messages).values(), reverse=True)
            note = f"copies per message {copies}; {alive(procs)}"
        return result(f"SMTP stores, answers 250 after {answer_after:g} s", recipients, server, started, note)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose workers run")
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    args = parser.parse_args()
    url = postgres_url("spod4_bench_outbox")
    if url is None:
        sys.exit("PostgreSQL is not reachable at TEST_DATABASE_URL")
    app = build(url)
    bench = Bench(args.root.resolve(), url)
    rows = []
    with app.app_context():
        queue(0)
        started = time.monotonic()
        bench.start(bench.env(url, 25), "send").wait(timeout=60)
        startup = time.monotonic() - started
        scenarios = {
            "slow-two-workers": slow_smtp_two_workers,
            "silent": silent_smtp,
            "database-refuses": lambda b: database_fault(b, "refuse"),
            "database-hangs": lambda b: database_fault(b, "hang"),
            "killed-worker": killed_worker,
            "smtp-away-long-batches": smtp_away_under_long_batches,
            "late-answer-2.1": lambda b: late_answer(b, 2.1),
            "late-answer-30": lambda b: late_answer(b, 30),
        }
        for name, scenario in scenarios.items():
            if args.only not in name:
                continue
            rows.append(scenario(bench))
            print(f"  … {rows[-1]['scenario']}", file=sys.stderr, flush=True)
        db.session.remove()
        db.engine.dispose()
    commit = subprocess.run(["git", "-C", str(bench.root), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    print(f"\nworkers from {bench.root} ({commit}); logs in {bench.logs}")
    print(f"start-up of one worker process (an idle `outbox send`): {startup:.1f} s\n")
    print(f"{'scenario':<42} {'rows':>5} {'received':>9} {'duplicates':>11} {'lost':>5} {'given up':>9} "
          f"{'seconds':>8}  note")
    for r in rows:
        print(f"{r['scenario']:<42} {r['rows']:>5} {r['received']:>9} {r['duplicates']:>11} {r['lost']:>5} "
              f"{r['given up']:>9} {r['seconds']:>8.1f}  {r['note']}")


if __name__ == "__main__":
    main()
