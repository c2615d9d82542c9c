"""XLSX workbooks (openpyxl): a header row, column widths, dates as real dates."""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

from .. import project as project_facts
from ..models import Term
from ..timefmt import term_span
from .rows import COLUMNS, participant_rows, place_label

DATE_FORMAT = "d. m. yyyy h:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


def fill_sheet(sheet: Worksheet, header: list[str], widths: list[int], rows: list[list]) -> None:
    """Header row frozen and filterable; text stays text even when it looks like a formula.

    Written in openpyxl's write-only mode (rows streamed once), which keeps a
    2 000-row export well under a second.
    """
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    sheet.append([_header_cell(sheet, title) for title in header])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])


def _header_cell(sheet, title):
    cell = WriteOnlyCell(sheet, value=title)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(vertical="center", wrap_text=True)
    return cell


def _cell(sheet, value):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl takes a string starting with "=" for a formula; a name typed
        # into the public form must not become one.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def participants_xlsx(term: Term) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Účastníci")
    fill_sheet(sheet, [c.title for c in COLUMNS], [c.width for c in COLUMNS], participant_rows(term))

    project = project_facts.facts()
    facts = workbook.create_sheet("Termín")
    facts.column_dimensions["A"].width = 30
    facts.column_dimensions["B"].width = 80
    facts.append([_header_cell(facts, "Spolufinancováno Evropskou unií")])
    for label, value in [
        ("Projekt", project["name"]),
        ("Registrační číslo", project["reg_no"]),
        ("Workshop", term.offer.title),
        ("Termín", term_span(term.starts_at, term.ends_at)),
        ("Forma", term.form.label),
        ("Místo", place_label(term)),
        ("Lektorské vedení", term.lecturer or ""),
        ("Kapacita", term.capacity),
    ]:
        facts.append([_header_cell(facts, label), _cell(facts, value)])
    workbook.properties.title = f"{term.offer.title}, {term_span(term.starts_at, term.ends_at)}"
    workbook.properties.creator = "SPOD4 registrace"
    return _save(workbook)


def workbook_of_sheets(sheets: list[tuple[str, list[str], list[int], list[list]]]) -> bytes:
    """Several sheets (title, header, widths, rows), e.g. one per breakdown of a report."""
    workbook = Workbook(write_only=True)
    for title, header, widths, rows in sheets:
        fill_sheet(workbook.create_sheet(title[:31]), header, widths, rows)
    workbook.properties.creator = "SPOD4 registrace"
    return _save(workbook)
