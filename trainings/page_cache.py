"""A few seconds of display cache for public pages seen by anonymous visitors.

When a popular workshop opens, hundreds of people load the catalogue in the
same minute; each rendering counts free seats and formats every term. Within
one process, a page rendered for a visitor without a session is kept for
PAGE_CACHE_SECONDS and served to the next such visitor. Free seats shown may
be that many seconds old; whether a seat is free is always decided on the
real rows under the term lock, never from a page.

Only responses that set no cookie are kept (a page whose form created a CSRF
token is personal), and visitors with a session cookie (flash messages,
staff logins, open forms) always get a fresh page. Each process keeps its own
entries: no other process needs them.

A kept page is served by a WSGI middleware in front of Flask (`PageCache`), so a visitor it
serves costs no request context, session, rate limit or access check: none of them can change
what an anonymous GET of a public page gets. Which pages may be kept is the view's to say
(`cached_page`); the middleware finds the view by the address, as Flask would. Rate limits
apply to submissions only, and the metrics count a kept page like a rendered one (`served`).

Entries are found by path and query alone. That holds only while nothing else
of a request goes into a public page: absolute links come from PUBLIC_BASE_URL
(trainings/urls.py), never from the Host or X-Forwarded-Host a request names,
and an address with control characters never reaches a view (security.py).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import wraps

from blinker import Namespace
from flask import make_response
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.wrappers import Response

MAX_ENTRIES = 512
# Each query string is an entry of its own and a feed can weigh megabytes, so the entries of a
# process are bounded in bytes too: else anyone could make each worker hold 512 copies of the
# biggest feed with as many requests.
MAX_BYTES = 32 * 1024 * 1024

# Sent for each page served from the cache (sender: the app; endpoint, status, seconds), so
# that the metrics see every answer, not only those Flask rendered (trainings/metrics.py).
served = Namespace().signal("page-served-from-cache")


class _Entry:
    """A kept page; with body None, a note that the address's page was found personal or not a
    plain 200 (an error, a redirect): its visitors go straight to Flask until it runs out, rather
    than each waiting for another's rendering to learn that again."""

    __slots__ = ("expires", "body", "status", "headers", "endpoint")

    def __init__(self, expires: float, body: bytes | None, status: str, headers: list, endpoint: str):
        self.expires, self.body, self.status, self.headers, self.endpoint = expires, body, status, headers, endpoint


class _Rendering(threading.Event):
    """A rendering under way, set when it ends; `generation`: clear()'s count when it began."""

    def __init__(self, generation: int):
        super().__init__()
        self.generation = generation


_entries: OrderedDict[str, _Entry] = OrderedDict()
_bytes = 0  # the bodies in _entries, together
_lock = threading.Lock()
# One rendering per page at a time. When an entry runs out, the first thread renders it again
# while the others keep serving the old one (for at most STALE_GRACE more seconds); when there is
# none yet (a process just started), the others wait up to FIRST_RENDER_WAIT for that rendering.
# Either way a busy page never makes every thread render it at once.
_rendering: dict[str, _Rendering] = {}
# clear() counts up: a rendering begun before it read the rows as they were before the change
# that emptied the cache, so what it renders is not kept.
_generation = 0
STALE_GRACE = 10.0
FIRST_RENDER_WAIT = 5.0


def clear() -> None:
    global _bytes, _generation
    with _lock:
        _entries.clear()
        _bytes = 0
        _generation += 1
        # Those waiting for a rendering begun before are woken now (they find no entry and go on
        # to Flask): forgotten here, they would each wait the whole FIRST_RENDER_WAIT.
        for rendering in _rendering.values():
            rendering.set()
        _rendering.clear()


def cached_page(view):
    """The view's page may be kept and served to anonymous visitors (`PageCache`)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.vary.add("Cookie")
        return response

    wrapped.keeps_page = True
    return wrapped


class PageCache:
    """WSGI middleware: anonymous GETs of a page its view lets be kept are answered from the
    process's entries; everything else goes to the application as it came."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        seconds = self.app.config.get("PAGE_CACHE_SECONDS", 0)
        if not seconds or environ.get("REQUEST_METHOD") != "GET" or self._has_session(environ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        key = f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
        entry, elsewhere = _kept(key)
        if entry is None and elsewhere is None:
            endpoint = self._keeps(environ)
            if endpoint is None:
                return self.wsgi_app(environ, start_response)
            elsewhere, mine = _start_rendering(key)
            if mine is not None:
                return self._render(key, mine, endpoint, seconds, environ, start_response)
        if entry is None:
            entry = _after_waiting(key, elsewhere)
        if entry is None or entry.body is None:
            return self.wsgi_app(environ, start_response)
        response = Response(entry.body, status=entry.status, headers=entry.headers)
        if response.get_etag()[0]:
            response = response.make_conditional(environ)
        served.send(self.app, endpoint=entry.endpoint, status=response.status_code,
                    seconds=time.perf_counter() - started)
        return response(environ, start_response)

    def _has_session(self, environ) -> bool:
        cookies = environ.get("HTTP_COOKIE")
        if not cookies:
            return False
        name = self.app.config["SESSION_COOKIE_NAME"]
        # Werkzeug's parser, the one Flask reads the session with: Python's SimpleCookie gives up
        # at a cookie it finds malformed (JSON of a consent banner) and so missed the session after it.
        return name in cookies and name in parse_cookie(cookies)

    def _keeps(self, environ) -> str | None:
        """The endpoint of the address when its view lets its page be kept, else None."""
        try:
            endpoint, _ = self.app.url_map.bind_to_environ(environ).match(method="GET")
        except HTTPException:  # no such page, another method, a redirect: Flask answers it
            return None
        view = self.app.view_functions.get(endpoint)
        return endpoint if getattr(view, "keeps_page", False) else None

    def _render(self, key, mine, endpoint, seconds, environ, start_response):
        """Flask renders the page; it is kept unless it is personal (it sets a cookie: a form's
        CSRF token, a flash), not a plain 200, or streamed."""
        try:
            answer = {}
            chunks = self.wsgi_app(environ, _Deferred(answer))
            try:
                body = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            status, headers = answer["status"], answer["headers"]
            expires = time.monotonic() + seconds
            if status.startswith("200 ") and not any(
                    name.lower() in ("set-cookie", "transfer-encoding") for name, _ in headers):
                _put(key, mine, _Entry(expires, body, status,
                                       [(n, v) for n, v in headers if n.lower() != "content-length"], endpoint))
            elif not status.startswith("304 "):  # a 304 says what this visitor had, not what the page is
                _put(key, mine, _Entry(expires, None, status, [], endpoint))
            start_response(status, headers)
            return [body]
        finally:
            _done(key, mine)


class _Deferred:
    """start_response for an answer read whole before it is passed on: notes what was started."""

    def __init__(self, answer: dict):
        self.answer = answer

    def __call__(self, status, headers, exc_info=None):
        self.answer.update(status=status, headers=list(headers))
        return lambda data: None  # nothing here writes through the legacy write()


def _kept(key: str) -> tuple[_Entry | None, threading.Event | None]:
    """A fresh entry; or a stale one while another thread renders it; or nothing, with the other
    thread's rendering to wait for when there is one."""
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry.expires >= now:
            _entries.move_to_end(key)
            return entry, None
        elsewhere = _rendering.get(key)
        if elsewhere is not None and entry is not None and entry.expires + STALE_GRACE >= now:
            return entry, None
        return None, elsewhere


def _start_rendering(key: str) -> tuple[_Rendering | None, _Rendering | None]:
    """(the rendering that began meanwhile, None); or (None, this thread's) when it is to render."""
    with _lock:
        elsewhere = _rendering.get(key)
        if elsewhere is not None:
            return elsewhere, None
        mine = _rendering[key] = _Rendering(_generation)
        return None, mine


def _after_waiting(key: str, elsewhere: threading.Event) -> _Entry | None:
    """The entry the other thread rendered (a note without a body when its answer was personal
    or an error), or None when it took longer than FIRST_RENDER_WAIT: in those last cases this
    visitor's request goes on to Flask like any other."""
    elsewhere.wait(FIRST_RENDER_WAIT)
    with _lock:
        entry = _entries.get(key)
        return entry if entry is not None and entry.expires >= time.monotonic() else None


def _done(key: str, mine: _Rendering) -> None:
    with _lock:
        if _rendering.get(key) is mine:  # after a clear() the key may be another rendering's
            del _rendering[key]
    mine.set()


def _put(key: str, rendering: _Rendering, entry: _Entry) -> None:
    global _bytes
    if _size(entry) > MAX_BYTES:
        return
    with _lock:
        if rendering.generation != _generation:  # rendered from the rows before a clear()
            return
        replaced = _entries.pop(key, None)
        if replaced is not None:
            _bytes -= _size(replaced)
        _entries[key] = entry
        _bytes += _size(entry)
        while len(_entries) > MAX_ENTRIES or _bytes > MAX_BYTES:
            _, oldest = _entries.popitem(last=False)
            _bytes -= _size(oldest)


def _size(entry: _Entry) -> int:
    return len(entry.body) if entry.body is not None else 0
