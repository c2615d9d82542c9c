"""One page of a long list, read from `?strana=N`: what a page shows when a list can grow without
bound (a whole period's people), while the full list stays in the download."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from flask import request, url_for

PAGE_ARG = "strana"


@dataclass(frozen=True)
class Page:
    items: Sequence
    number: int  # from 1
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 on an empty list)."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.size, self.total)


def requested_page(args) -> int:
    """The page number asked for; anything that is not a plain positive number is the first page."""
    value = args.get(PAGE_ARG, "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 6 and int(value) > 0 else 1


def page_of(items: Sequence, number: int, size: int) -> Page:
    """The `number`-th page of `items`; past the end, the last page."""
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(items[start:start + size], number, size, len(items))


def page_url(number: int, fragment: str = "") -> str:
    """This page's address with `strana=number`, keeping its other query values (filters, period)."""
    values = {**(request.view_args or {}), **request.args.to_dict(), PAGE_ARG: number}
    return url_for(request.endpoint, **values) + fragment
