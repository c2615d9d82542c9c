"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py 'app:create_app()'`.

Every value can be overridden from the environment (GUNICORN_* below) or the
command line. Workers hold no state another worker needs: sessions live in
signed cookies, rate-limit counters in Redis, e-mails in the database outbox.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Requests are short and mostly wait on PostgreSQL: two workers per core, each
# with a few threads, keeps both cores busy without starving the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows into an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# The app is loaded and its templates compiled once, here, and every worker is forked from it
# (`when_ready`): a new worker (at start, or after max_requests) answers its first requests
# as fast as the others instead of spending seconds importing and compiling while its
# clients wait. A deploy restarts gunicorn itself (a HUP does not load new code).
preload_app = True


def when_ready(server):
    import gc

    app = server.app.wsgi()
    if _serves_the_application(app):
        from trainings import compile_templates

        compile_templates(app)
    # What the master holds now lives as long as every worker: kept out of the collector's
    # generations, it is neither scanned nor copied into each worker by the collector touching it.
    gc.freeze()


def _serves_the_application(app) -> bool:
    return "sqlalchemy" in getattr(app, "extensions", {})  # not the benchmarks' bare baseline (bench/hello.py)


def post_worker_init(worker):
    # A thread that holds a term's row lock spends most of it waiting on PostgreSQL; each
    # time an answer comes it must take the GIL back from threads busy with other
    # requests, by default after up to 5 ms. A shorter interval keeps the locked section
    # (and so the queue of sign-ups behind it) short.
    import sys

    sys.setswitchinterval(float(os.environ.get("PYTHON_SWITCH_INTERVAL", "0.001")))
    _answer_own_errors_in_czech()
    if _serves_the_application(worker.wsgi):
        _own_database_connections(worker.wsgi)
        _ask_whether_the_database_answers(worker)


def _answer_own_errors_in_czech():
    """gunicorn answers a request it does not hand to the application itself: a request line
    over limit_request_line (414), headers over limit_request_field_size or limit_request_fields
    (431), a line it cannot read (400). Its page is English and echoes what was sent; this one
    is the site's Czech error page, with the same status. gunicorn's workers call
    util.write_error for each of these, so replacing it in the worker is enough."""
    from gunicorn import util

    from trainings.pages.views import standalone_error_page
    from trainings.security import CONTENT_SECURITY_POLICY

    def write_error(sock, status_int, reason, mesg):
        body = standalone_error_page(status_int).encode("utf-8")
        head = (
            f"HTTP/1.1 {status_int} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            f"Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "\r\n"
        )
        util.write_nonblock(sock, head.encode("latin-1") + body)

    util.write_error = write_error


def _ask_whether_the_database_answers(worker):
    # Workers are recycled (max_requests), also during a database outage: one that knows
    # of it before its first request fails requests and /health at once.
    from trainings.db_session import ask_whether_the_database_answers

    ask_whether_the_database_answers(worker.wsgi)


def _own_database_connections(app):
    # Connections the master may have opened before forking belong to it: a worker that used
    # one would share its socket with its siblings. SQLAlchemy's way for a forked process is to
    # drop the inherited pool without closing what the parent still holds.
    from trainings.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
