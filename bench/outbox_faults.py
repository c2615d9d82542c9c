"""The outbox under faults: what a real SMTP server receives when things go wrong.

    .venv/bin/python bench/outbox_faults.py [--root CHECKOUT]

Runs `flask outbox …` workers as separate processes from CHECKOUT (default:
this one; point it at a `git worktree` of an older commit to measure the code
before a change with the same method) against PostgreSQL (TEST_DATABASE_URL's
server, a throwaway database) and aiosmtpd, with tests/tcp_proxy.py in front of
the database or the mail server for the faults. The time limits are shrunk so
that each scenario takes seconds: MAIL_TIMEOUT 0.5 s, MAIL_SEND_DEADLINE 1 s,
reclaim window 2 s (for code that has the window as the constant STUCK_AFTER,
the same 2 s are patched in).

Prints one row per scenario: messages queued, messages the SMTP server
accepted, duplicates among them, messages never delivered by the end, and the
seconds the scenario took (worker start-up, about 3 s, included).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import build, postgres_url  # noqa: E402
from tests.smtp import SmtpServer  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402
from tests.test_outbox_faults import SlowRecorder  # noqa: E402
from trainings.extensions import db  # noqa: E402
from trainings.mail.outbox import enqueue  # noqa: E402
from trainings.models import OutboxMessage, OutboxState, utcnow  # noqa: E402

LIMITS = {"MAIL_TIMEOUT": "0.5", "MAIL_SEND_DEADLINE": "1", "OUTBOX_RECLAIM_AFTER": "2"}
RECLAIM = 2.0

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

    def env(self, database_url: str, smtp_port: int) -> dict:
        return {**os.environ, "TRAININGS_CONFIG": "development", "DATABASE_URL": database_url,
                "MAIL_TRANSPORT": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), **LIMITS}

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


def sent() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == OutboxState.SENT))


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@contextmanager
def smtp(delay: float):
    server = SmtpServer()
    server.recorder = SlowRecorder(delay)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def result(name, recipients, server, started, note):
    got = [m["To"] for m in server.recorder.messages]
    distinct = set(got) & set(recipients)
    return {"scenario": name, "rows": len(recipients), "received": len(got), "duplicates": len(got) - len(set(got)),
            "lost": len(recipients) - len(distinct), "seconds": time.monotonic() - started, "note": note}


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose workers run")
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
        for scenario in (slow_smtp_two_workers, silent_smtp, lambda b: database_fault(b, "refuse"),
                         lambda b: database_fault(b, "hang"), killed_worker):
            rows.append(scenario(bench))
            print(f"  … {rows[-1]['scenario']}", file=sys.stderr, flush=True)
        db.session.remove()
        db.engine.dispose()
    commit = subprocess.run(["git", "-C", str(bench.root), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    print(f"\nworkers from {bench.root} ({commit}); logs in {bench.logs}")
    print(f"start-up of one worker process (an idle `outbox send`): {startup:.1f} s\n")
    print(f"{'scenario':<40} {'rows':>5} {'received':>9} {'duplicates':>11} {'lost':>5} {'seconds':>8}  note")
    for r in rows:
        print(f"{r['scenario']:<40} {r['rows']:>5} {r['received']:>9} {r['duplicates']:>11} {r['lost']:>5} "
              f"{r['seconds']:>8.1f}  {r['note']}")


if __name__ == "__main__":
    main()
