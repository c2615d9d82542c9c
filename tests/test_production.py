"""What operations rely on: a health check that tells the truth, logs a collector can read."""
import json
import logging
import socket
from urllib.parse import urlsplit

import pytest
import requests

from trainings import create_app
from trainings.logs import JsonFormatter

from .stack import production_env, web_instances


def test_health_says_ok_when_the_database_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_says_503_when_the_database_is_down(app):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    down = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none",
                                  "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    response = down.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_json_logs_are_one_object_per_line_with_the_request(app):
    record = logging.LogRecord("trainings", logging.WARNING, __file__, 1, "Zpráva %s", ("č. 1",), None)
    with app.test_request_context("/termin/1/prihlaska", method="POST"):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "Zpráva č. 1"
    assert (entry["level"], entry["method"], entry["path"]) == ("WARNING", "POST", "/termin/1/prihlaska")


# --- gunicorn's own answers ------------------------------------------------------------------


def _raw_exchange(base: str, request: bytes) -> tuple[int, dict, str]:
    """Send bytes as they are (no client library would send a request line this long) and read
    the answer up to the close gunicorn ends its own answers with."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body.decode("utf-8", "replace")


@pytest.mark.slow
def test_gunicorns_own_answers_are_czech_pages(tmp_path):
    """A request line or headers over gunicorn's limits never reach the application: gunicorn
    answers them itself (414, 431, 400 for a line it cannot read). The answers are the short
    Czech error page with the application's words, not gunicorn's English."""
    env = production_env(f"sqlite:///{tmp_path / 'stack.sqlite3'}", RATELIMIT_STORAGE_URI="memory://")
    with web_instances(env, count=1, workers=1, threads=2) as [base]:
        long_line = b"GET /?q=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        big_header = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n"
        garbage = b"\x16\x03\x01 nonsense\r\n\r\n"
        answers = {name: _raw_exchange(base, request)
                   for name, request in (("line", long_line), ("header", big_header), ("garbage", garbage))}
        # Under gunicorn's limit but absurd all the same: the application's own Czech 414. And
        # addresses the application refuses before a view runs: this database has no tables,
        # so any query would have been a 503.
        app_answer = requests.get(f"{base}/?q={'x' * 3000}", timeout=10)
        refused = {url: requests.get(base + url, timeout=10)
                   for url in ("/nabidka/a%00b", "/nabidka/%C3%28", "/api/v1/terms?q=%FF", "/kraj/%00/kalendar.ics")}
    expected = {"line": (414, "Příliš dlouhá adresa"), "header": (431, "Příliš velké hlavičky požadavku"),
                "garbage": (400, "Neplatný požadavek")}
    for name, (status, headers, page) in answers.items():
        assert (status, headers["Content-Type"]) == (expected[name][0], "text/html; charset=utf-8"), name
        assert '<html lang="cs">' in page and f"<h1>{expected[name][1]}</h1>" in page, name
        assert "Bad Request" not in page and "Too Long" not in page and "Too Large" not in page, name
        assert headers["Connection"] == "close" and int(headers["Content-Length"]) == len(page.encode()), name
    assert app_answer.status_code == 414 and "<h1>Příliš dlouhá adresa</h1>" in app_answer.text
    assert {url: (r.status_code, r.headers["Content-Type"].split(";")[0]) for url, r in refused.items()} == {
        "/nabidka/a%00b": (404, "text/html"), "/nabidka/%C3%28": (404, "text/html"),
        "/api/v1/terms?q=%FF": (400, "application/problem+json"), "/kraj/%00/kalendar.ics": (404, "text/plain")}
