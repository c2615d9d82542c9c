"""Catalogue texts that name another workshop link to it.

The offer documents name one workshop in two ways ("Vyhodnocování a plánování Krok za krokem"
in the list, "Vyhodnocování a IPOD Krok za krokem" in the text of "Od analýzy k tvorbě IPOD").
Every name a workshop in the catalogue goes by (its title and its other names, `Offer.aliases`,
both edited in the back office) in another item's text becomes a link, so no text points at a
title that is not in the catalogue; a withdrawn workshop's name is left as plain text.

The names are read from the database at most every few seconds per process (a publish in this
process, or a seed, forgets them at once), so a page's texts cost no query of their own.
"""
from __future__ import annotations

import re
import threading
import time

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from ..extensions import db
from ..models import Offer, OfferKind

NAMES_FOR_SECONDS = 5.0
_lock = threading.Lock()
_cached: dict = {}


def forget() -> None:
    """After a change of titles or other names in this process (publishing, seeding)."""
    with _lock:
        _cached.clear()


def _read() -> tuple[re.Pattern | None, dict[str, str]]:
    slugs = {}
    rows = db.session.execute(
        select(Offer.slug, Offer.title, Offer.aliases)
        .where(Offer.kind == OfferKind.WORKSHOP, Offer.withdrawn_at.is_(None))
        .order_by(Offer.position, Offer.id)
    )
    for slug, title, aliases in rows:
        for name in [title, *(aliases or [])]:
            slugs.setdefault(name, slug)
    # Longest first, so a name that contains another is linked whole.
    alternatives = sorted(slugs, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
    return pattern, slugs


def _names() -> tuple[re.Pattern | None, dict[str, str]]:
    now = time.monotonic()
    with _lock:
        if _cached and now - _cached["at"] < NAMES_FOR_SECONDS:
            return _cached["names"]
    names = _read()
    with _lock:
        _cached.update(at=now, names=names)
    return names


def link_offer_names(text: str | None, current_slug: str | None = None) -> Markup:
    """`text` escaped, with each workshop name (other than the page's own) as a link to it."""
    pattern, slugs = _names()
    text = text or ""
    if pattern is None:
        return escape(text)
    parts, last = [], 0
    for match in pattern.finditer(text):
        slug = slugs[match[0]]
        if slug == current_slug:
            continue
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a href="{}">{}</a>').format(url_for("catalogue.offer", slug=slug), match[0]))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
