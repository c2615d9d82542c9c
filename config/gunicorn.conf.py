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
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
preload_app = False


def post_worker_init(worker):
    # A thread that holds a term's row lock spends most of it waiting on PostgreSQL; each
    # time an answer comes it must take the GIL back from threads busy with other
    # requests, by default after up to 5 ms. A shorter interval keeps the locked section
    # (and so the queue of sign-ups behind it) short.
    import sys

    sys.setswitchinterval(float(os.environ.get("PYTHON_SWITCH_INTERVAL", "0.001")))
