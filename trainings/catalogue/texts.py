"""Catalogue texts that name another workshop link to it.

The offer documents name one workshop in two ways ("Vyhodnocování a plánování Krok za krokem"
in the list, "Vyhodnocování a IPOD Krok za krokem" in the text of "Od analýzy k tvorbě IPOD").
Every name a workshop goes by is in catalogue.yaml (its title and its `aliases`); a mention of
one of them in another item's text becomes a link, so no text points at a title that is not in
the catalogue.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import url_for
from markupsafe import Markup, escape

from .seed import catalogue_document


@lru_cache
def _names() -> tuple[re.Pattern | None, dict[str, str]]:
    slugs = {}
    for item in catalogue_document()["offers"]:
        if item["kind"] != "workshop":
            continue
        for name in [item["title"], *item.get("aliases", [])]:
            slugs[name] = item["slug"]
    # Longest first, so a name that contains another is linked whole.
    alternatives = sorted(slugs, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
    return pattern, slugs


def aliases(slug: str) -> list[str]:
    """Other names the documents use for this offer."""
    item = next((o for o in catalogue_document()["offers"] if o["slug"] == slug), None)
    return list(item.get("aliases", [])) if item else []


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
