"""Czech alphabetical order: the one key every list of kraje, ORP and people sorts by;
and `fold`, the one way text is matched in searches.

Czech order is not code-point order: "ch" is a letter of its own after "h"
("Hlinsko" < "Chrudim"), "č", "ř", "š", "ž" follow "c", "r", "s", "z" as
letters of their own, while "á", "é", "ú" … sort as their plain letter unless
two words differ only there. Neither database gets this right by default (and
SQLite has no ICU at all), so lists are sorted in Python with ICU's Czech
collator (PyICU), the same on every database. Numbers inside a name compare
by value, so Prague's districts run "Praha 1, Praha 2, … Praha 10 … Praha 22".

People have one name field ("Mgr. Jana Nováková, DiS."). They are ordered by
surname, then the rest of the name, by this rule: whatever follows the first
comma is a post-nominal title and is left out; words ending with a full stop
(Mgr., Ing., PhDr.) are titles and are left out; the last word left is the
surname, the words before it the first names. A name typed the other way
round ("Nováková Jana") is therefore sorted under "Jana"; the full name
breaks any tie, so the order is always the same.
"""
from __future__ import annotations

import threading
import unicodedata

import icu

_local = threading.local()


def _collator() -> icu.Collator:
    # One collator per thread: ICU allows sharing only its read-only methods,
    # and a per-thread instance costs nothing worth sharing.
    collator = getattr(_local, "collator", None)
    if collator is None:
        collator = icu.Collator.createInstance(icu.Locale("cs_CZ"))
        collator.setAttribute(icu.UCollAttribute.NUMERIC_COLLATION, icu.UCollAttributeValue.ON)
        _local.collator = collator
    return collator


def czech_key(text: str | None) -> bytes:
    """A sort key for `text` in Czech order, numbers by value: `sorted(names, key=czech_key)`."""
    return _collator().getSortKey(text or "")


def split_name(name: str | None) -> tuple[str, str]:
    """(surname, first names) of one typed name, by the rule in this module's docstring."""
    words = [w for w in (name or "").split(",", 1)[0].split() if not w.endswith(".")]
    if not words:
        return (name or "").strip(), ""
    return words[-1], " ".join(words[:-1])


def person_key(name: str | None) -> tuple[bytes, bytes, bytes]:
    """Sort key of a person: surname, then first names, in Czech order."""
    surname, first_names = split_name(name)
    return czech_key(surname), czech_key(first_names), czech_key(name)


def fold(text: str | None) -> str:
    """Lower case without diacritics, for searching: at the door "novakova" finds "Nováková",
    in the catalogue "vyhodnocovani" finds "Vyhodnocování"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
