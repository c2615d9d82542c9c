"""The check-in code as a link and a QR code, for the e-mail and the private page.

The QR code encodes the absolute URL of the staff check-in page for the code
(/sprava/prichod/<code>): a staff member's phone camera opens the person's
row directly; anyone else lands on the login page. The code is also printed
as text, to be read out or typed into the check-in search.

In e-mails the QR code is an HTML table of coloured cells rather than an
image: no attachment (which would change the MIME structure that calendar
clients and the tests read), no remote image that mail clients block by
default, and no data: URI, which Gmail and Outlook drop. On web pages it is
inline SVG, which needs nothing from the Content-Security-Policy.
"""
from __future__ import annotations

import io

import segno
from markupsafe import Markup

from .models import Registration
from .urls import absolute_url

MODULE_PX = 5  # pixel size of one QR module in the e-mail
QUIET_ZONE = 4  # modules of white around the symbol, as the standard asks


def check_in_url(registration: Registration) -> str | None:
    """Where the door code leads, while she has one to show (Registration.door_code); None
    for an online term, which has no door: the lecturer marks attendance on the check-in
    page by the names she sees in the meeting (trainings/registration/templates/registration/
    _online_attendance.txt)."""
    code = registration.door_code()
    if code is None:
        return None
    return absolute_url("attendance.by_code", code=code)


def _qr(url: str) -> segno.QRCode:
    # M survives a scratched phone screen or a glare better than the default L.
    return segno.make_qr(url, error="m")


def qr_rows(url: str) -> list[list[bool]]:
    """The symbol with its quiet zone, True for a dark module."""
    return [[bool(m) for m in row] for row in _qr(url).matrix_iter(border=QUIET_ZONE)]


def _runs(row: list[bool]):
    start = 0
    for i in range(1, len(row) + 1):
        if i == len(row) or row[i] != row[start]:
            yield row[start], i - start
            start = i


def qr_html_table(url: str) -> Markup:
    """The QR code as e-mail-safe HTML: one single-row table per line of modules.

    A separate table per line keeps each line's cell widths independent, so
    no client has to reconcile a column grid. Cells carry their size as
    attributes, which every client honours (Outlook ignores CSS sizes); a
    zero font size keeps empty cells from growing to a line of text. The
    markup is broken into short lines because SMTP refuses lines over 998
    characters, and kept lean because Gmail cuts messages over 102 kB.
    """
    px = MODULE_PX
    lines = ['<div role="img" aria-label="QR kód pro příchod na workshop" '
             'style="display:inline-block;background:#fff;font-size:0;line-height:0">']
    for row in qr_rows(url):
        cells = [
            f'<td width="{n * px}" height="{px}" bgcolor="{"#000" if dark else "#fff"}"></td>'
            for dark, n in _runs(row)
        ]
        lines.append('<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr '
                     'style="font-size:0;line-height:0">')
        lines.extend("".join(cells[i:i + 12]) for i in range(0, len(cells), 12))
        lines.append("</tr></table>")
    lines.append("</div>")
    return Markup("\n".join(lines))


def qr_svg(url: str, scale: int = 5) -> Markup:
    """Inline SVG for web pages."""
    out = io.BytesIO()
    _qr(url).save(
        out, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, svgns=True, nl=False,
        title="QR kód pro příchod na workshop", svgclass="qr", lineclass=None,
    )
    return Markup(out.getvalue().decode("utf-8"))
