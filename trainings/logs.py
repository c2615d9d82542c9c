"""Logging: JSON lines in production (one object per line for the log collector),
readable text in development."""
import json
import logging
import sys
from datetime import datetime, timezone

from flask import Flask, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = request.path
            entry["remote"] = request.remote_addr
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") != "json":
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.handlers[:] = []
    app.logger.propagate = True
