"""The production stack on this machine: gunicorn instances and outbox workers as
separate processes on one database, as the README's deployment section runs
them. Used by the multi-process test and by the benchmarks in bench/."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, **extra) -> dict:
    env = {
        **os.environ,
        "TRAININGS_CONFIG": "production",
        "SECRET_KEY": "stack-test-secret",
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": os.environ.get("STACK_REDIS_URL", "redis://127.0.0.1:6379/15"),
        # A burst from one address is the point of the test, not an attack.
        "RATELIMIT_FORMS": "1000000 per minute",
        "LOG_FORMAT": "text",
        "GUNICORN_LOGLEVEL": "warning",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        # Production sets secure cookies; this stack runs on plain http.
        "SESSION_COOKIE_SECURE": "0",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@contextmanager
def web_instances(env: dict, count: int = 2, workers: int = 2, threads: int = 4, app: str = "app:create_app()"):
    """Start `count` gunicorn instances with the production config; yield their base URLs."""
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            proc_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
                        "GUNICORN_THREADS": str(threads)}
            processes.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "--access-logfile", "/dev/null", app],
                cwd=ROOT, env=proc_env, stdout=subprocess.DEVNULL, stderr=_log(f"gunicorn-{port}"),
            ))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_for(url + ("/health" if app == "app:create_app()" else "/"))
        yield urls
    finally:
        _stop(processes)


@contextmanager
def outbox_workers(env: dict, count: int = 2):
    command = [PYTHON, "-m", "flask", "--app", "app", "outbox", "work", "--interval", "0.2", "--batch", "20"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=_log(f"worker-{i}"))
                 for i in range(count)]
    try:
        yield processes
    finally:
        _stop(processes)


LOG_DIR = Path(os.environ.get("STACK_LOG_DIR", "/tmp/spod4-stack"))


def _log(name):
    """Each process's errors go to a file (a pipe nobody reads would fill and block it)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return open(LOG_DIR / f"{name}.log", "w")


def _stop(processes):
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def register(session: requests.Session, base: str, term_id: int, person: dict) -> int:
    """What a browser does: load the form (cookie + token), post it. Returns the POST status."""
    page = session.get(f"{base}/termin/{term_id}/prihlaska", timeout=30)
    token = CSRF.search(page.text).group(1)
    response = session.post(
        f"{base}/termin/{term_id}/prihlaska",
        data={"csrf_token": token, "consent": "y", "employer_type": "ospod", "job_title": "sociální pracovník", **person},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code
