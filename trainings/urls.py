"""Absolute links: built from PUBLIC_BASE_URL alone, in requests and outside them.

A request's Host and X-Forwarded-Host are whatever its sender wrote. A link built from them
and kept (the page cache, a shared HTTP cache, an e-mail) would send the next visitors to the
forger's site, so no link or redirect is ever built from them.
"""
from urllib.parse import SplitResult, urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def public_base(value) -> SplitResult:
    """PUBLIC_BASE_URL, checked: an http(s) address with a host, nothing after its path."""
    base = urlsplit(value or "")
    if base.scheme not in ("http", "https") or not base.hostname or base.query or base.fragment:
        raise RuntimeError(
            "PUBLIC_BASE_URL must be the site's public address, e.g. https://registrace.example.cz "
            f"(got {value!r}); absolute links are built from it."
        )
    return base


def absolute_url(endpoint: str, **values) -> str:
    base = public_base(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def for_public_base(adapter: MapAdapter, config) -> MapAdapter:
    """A request's URL adapter made to build for PUBLIC_BASE_URL: url_for(_external=True) and
    Werkzeug's own redirects (a missing trailing slash) name its host and scheme. Matching
    does not use them (no host or subdomain matching), so routing is unchanged."""
    base = public_base(config["PUBLIC_BASE_URL"])
    adapter.server_name, adapter.url_scheme = base.netloc, base.scheme
    return adapter
