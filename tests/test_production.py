"""What operations rely on: a health check that tells the truth, logs a collector can read."""
import json
import logging

from trainings import create_app
from trainings.logs import JsonFormatter


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
