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

from flask import Response, current_app, make_response, request, session

MAX_ENTRIES = 512

_entries: OrderedDict[str, tuple[float, bytes, int, list]] = OrderedDict()
_lock = threading.Lock()
# One rendering per page at a time: when an entry runs out, the first thread
# renders it again while the others keep serving the old one (for at most
# STALE_GRACE more seconds), so a busy page never makes every thread render.
_refreshing: set[str] = set()
STALE_GRACE = 10.0


def clear() -> None:
    with _lock:
        _entries.clear()
        _refreshing.clear()


def _get(key: str):
    """(entry, must_render): a fresh entry; or a stale one while another thread renders."""
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry[0] >= now:
            _entries.move_to_end(key)
            return entry, False
        if entry is not None and key in _refreshing and entry[0] + STALE_GRACE >= now:
            return entry, False
        _refreshing.add(key)
        return None, True


def _done(key: str) -> None:
    with _lock:
        _refreshing.discard(key)


def _put(key: str, seconds: float, response: Response) -> None:
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    with _lock:
        _entries[key] = (time.monotonic() + seconds, response.get_data(), response.status_code, headers)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def cached_page(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if not seconds or request.method != "GET" or current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
            return view(*args, **kwargs)
        key = request.full_path
        hit, must_render = _get(key)
        if hit is not None:
            _, body, status, headers = hit
            response = Response(body, status=status, headers=headers)
            return response.make_conditional(request) if response.get_etag()[0] else response
        try:
            response = make_response(view(*args, **kwargs))
            response.vary.add("Cookie")
            # The session cookie is written after this point, so ask the session itself.
            personal = session.modified or bool(session) or "Set-Cookie" in response.headers
            if response.status_code == 200 and not personal and not response.is_streamed:
                _put(key, seconds, response)
        finally:
            if must_render:
                _done(key)
        return response

    return wrapped
