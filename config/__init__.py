"""Settings per environment.

`TRAININGS_CONFIG` picks one of `development` (the default), `testing` and
`production`. Secrets and the database address come from the environment only.
"""
import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(value):
    """Accept the usual `postgres://` and `postgresql://` forms and use psycopg 3 for them."""
    if not value:
        return value
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Time limits for PostgreSQL, in seconds (trainings/db_session.py engine_options);
    # a request behind a dead or hung database fails within about
    # DATABASE_PING_TIMEOUT + DATABASE_CONNECT_TIMEOUT (+ DATABASE_POOL_TIMEOUT when
    # every pooled connection is busy). A statement without an answer for
    # DATABASE_PING_TIMEOUT makes the process probe the server (a fresh SELECT 1, as long);
    # no answer to that either cuts the statement and fails new work at once until a probe
    # is answered. 0 switches a server-side limit off.
    DATABASE_CONNECT_TIMEOUT = float(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
    DATABASE_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "15"))
    DATABASE_LOCK_TIMEOUT = float(os.environ.get("DATABASE_LOCK_TIMEOUT", "10"))
    DATABASE_IDLE_TRANSACTION_TIMEOUT = float(os.environ.get("DATABASE_IDLE_TRANSACTION_TIMEOUT", "60"))
    DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", "5"))
    DATABASE_PING_TIMEOUT = float(os.environ.get("DATABASE_PING_TIMEOUT", "1"))
    DATABASE_TCP_USER_TIMEOUT = float(os.environ.get("DATABASE_TCP_USER_TIMEOUT", "10"))
    # /health answers 503 when a fresh connection and SELECT 1 take longer than this.
    HEALTH_TIMEOUT = float(os.environ.get("HEALTH_TIMEOUT", "1"))
    # Request size: the whole body, one form field, the number of fields.
    # No form uploads files; the longest text field takes 5000 characters.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024)))
    MAX_FORM_MEMORY_SIZE = int(os.environ.get("MAX_FORM_MEMORY_SIZE", str(64 * 1024)))
    MAX_FORM_PARTS = int(os.environ.get("MAX_FORM_PARTS", "500"))
    # Every absolute link (e-mails, calendars, the API, QR codes, redirects) is built from
    # this, never from a request's Host (trainings/urls.py); required in production.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Longer addresses are refused with a 414 before any view runs (trainings/security.py);
    # gunicorn refuses request lines over 4094 bytes itself.
    MAX_URL_LENGTH = int(os.environ.get("MAX_URL_LENGTH", "2048"))
    TIMEZONE = "Europe/Prague"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # "files" writes each message as an .eml file into MAIL_FILE_DIR, "smtp"
    # sends through Flask-Mail.
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "smtp")
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "SPOD4 registrace <spod4@mpsv.gov.cz>"
    )
    # Seconds for connecting to the SMTP server and for each of its answers;
    # one message may take MAIL_SEND_DEADLINE (default 6 × MAIL_TIMEOUT) until its
    # data has gone out and twice that in all (the answer to the data may run on),
    # then the connection is cut and the message retried later.
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    MAIL_SEND_DEADLINE = float(os.environ.get("MAIL_SEND_DEADLINE", "0")) or None
    # A message left "sending" this long (a crashed worker's) is taken by another
    # worker; never less than four times MAIL_SEND_DEADLINE (trainings/mail/dispatch.py).
    OUTBOX_RECLAIM_AFTER = float(os.environ.get("OUTBOX_RECLAIM_AFTER", "600"))
    # A document job whose worker wrote no progress this long (a dead worker's) is taken back
    # (trainings/documents/service.py); a chunk of 50 pages takes about 3 s, writing the file ~15 s.
    DOCUMENTS_RECLAIM_AFTER = float(os.environ.get("DOCUMENTS_RECLAIM_AFTER", "120"))
    # ORGANIZER of the calendar invitations (RFC 5546): the mailbox replies go to.
    # Default: the address of MAIL_DEFAULT_SENDER.
    ICS_ORGANIZER_EMAIL = os.environ.get("ICS_ORGANIZER_EMAIL")
    ICS_ORGANIZER_NAME = os.environ.get("ICS_ORGANIZER_NAME", "SPOD4 – MPSV")

    # Registration rules: switching the lock off exists only so that the
    # concurrency tests can show the race the lock prevents.
    REGISTRATION_LOCKING = True
    CONSENT_VERSION = "2026-11"
    HANDOVER_TIME = timedelta(hours=int(os.environ.get("HANDOVER_HOURS", "48")))  # a colleague confirms a handed-over seat within this
    # Seconds a public page rendered for a visitor without a session may be
    # served again (trainings/page_cache.py); 0 switches the cache off.
    PAGE_CACHE_SECONDS = float(os.environ.get("PAGE_CACHE_SECONDS", "5"))
    # Personal data are anonymised this long after the activity (`retention run`).
    # Default: the length of the project's reporting period, 1. 1. 2026 – 30. 9. 2028.
    RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", "1003"))
    # The ministry's data-protection officer as the privacy page names her (name, e-mail, phone in one line).
    # Not in the project's documents, so the operator sets it; unset, the page points to the ministry's website.
    DPO_CONTACT = os.environ.get("DPO_CONTACT", "").strip() or None
    REMINDER_DAYS_BEFORE = int(os.environ.get("REMINDER_DAYS_BEFORE", "2"))

    # /metrics (trainings/metrics.py): a 404 unless one of these is set; a bearer token
    # and/or the client networks allowed to scrape, e.g. "10.0.0.0/8,127.0.0.1/32".
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_ALLOW_CIDRS = os.environ.get("METRICS_ALLOW_CIDRS") or None
    # How many proxies stand in front of the app (0: none); their X-Forwarded-* are trusted.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # No X-RateLimit-* on every answer: browsers ignore them and each cost two more
    # Redis round trips per form POST; a 429 still says Retry-After (pages/views.py).
    RATELIMIT_HEADERS_ENABLED = False
    # Limits per client address on the forms that write or send e-mail.
    RATELIMIT_FORMS = os.environ.get("RATELIMIT_FORMS", "20 per minute;200 per hour")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute;50 per hour")
    WTF_CSRF_TIME_LIMIT = None  # a form left open between two home visits still submits
    # A staff session ends after this at the latest (sessions.py), and so does its cookie.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # ... and after this long without a request (a computer left unlocked in an office).
    STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("STAFF_IDLE_MINUTES", "30")))
    # Every forgotten-password answer takes this long, so its time does not tell known
    # addresses from unknown ones (staff/accounts.py request_password_reset).
    PASSWORD_RESET_MIN_SECONDS = 0.4
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = Config.SQLALCHEMY_DATABASE_URI or (
        f"sqlite:///{INSTANCE_DIR / 'spod4.sqlite3'}"
    )
    MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "files")
    # Where `make run` serves the site.
    PUBLIC_BASE_URL = Config.PUBLIC_BASE_URL or "http://127.0.0.1:5000"


class TestingConfig(Config):
    TESTING = True
    # High enough that tests posting many forms are not throttled; the
    # rate-limit tests lower them (the limits are read per request).
    RATELIMIT_FORMS = "100000 per minute"
    RATELIMIT_LOGIN = "100000 per minute"
    SECRET_KEY = "testing"
    # The tests choose their databases themselves (tests/conftest.py).
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_TRANSPORT = "files"
    PAGE_CACHE_SECONDS = 0  # tests read pages right after changing data; test_page_cache turns it on
    PASSWORD_RESET_MIN_SECONDS = 0  # the fuzz posts the form hundreds of times; test_staff_auth sets it
    # Flask-Mail would swallow every message under TESTING; the tests use a real SMTP server instead.
    MAIL_SUPPRESS_SEND = False
    PUBLIC_BASE_URL = "http://spod4.test"


class ProductionConfig(Config):
    # Only a local stack on plain http (tests/stack.py) turns this off.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load(name=None):
    name = name or os.environ.get("TRAININGS_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown TRAININGS_CONFIG {name!r}; use one of {sorted(CONFIGS)}")
