"""CSV that Czech Excel opens correctly by double-click.

Excel in the Czech locale expects `;` between fields (the comma is the
decimal separator) and reads UTF-8 only when the file starts with a BOM.
"""
from __future__ import annotations

import csv
import io

from ..models import Term
from .rows import COLUMNS, participant_rows

DATE_FORMAT = "%d.%m.%Y %H:%M"  # what Czech Excel recognises as a date and time
# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection); names and job titles come from the public sign-up form.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime(DATE_FORMAT)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def participants_csv(term: Term) -> bytes:
    return write_csv([c.title for c in COLUMNS], participant_rows(term))
