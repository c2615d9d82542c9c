"""PDF documents (fpdf2): the prezenční listina and the osvědčení o účasti.

Both carry the EU emblem beside "Spolufinancováno Evropskou unií" (ESF+
publicity), the project's name and registration number from the catalogue, so
a printed page stands on its own in an audit. The emblem is drawn as vector
shapes from trainings/emblem.py, the same geometry as the site's SVG. The
font ships with the application (trainings/data/fonts, DejaVu Sans), so Czech
letters print the same on every server.

Every text is placed by hand with auto page breaks off: a long workshop title,
venue or name shrinks (and, past the column limits, is cut with "…") rather
than pushing the footer onto a second page.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .. import emblem
from ..catalogue.seed import catalogue_document
from ..certificates.service import certificate_number, display_code, issue_codes, verification_url
from ..models import Registration, RegistrationState, Term, utcnow
from ..registration.check_in import qr_rows
from ..registration.hours import certificate_available, format_hours
from ..registration.roster import organisation, term_registrations
from ..timefmt import PRAGUE, term_span
from .rows import place_label

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT = "DejaVu"
ESF_LINE = "Spolufinancováno Evropskou unií"
BLANK_ROWS = 5  # for people who come without a registration
MINISTRY = "Ministerstvo práce a sociálních věcí"
REG_NO_LABEL = "reg.\u00a0č.\u00a0"  # no-break spaces: the number never starts a line of its own


class _Document(FPDF):
    def __init__(self, orientation: str = "P", margin: float = 12):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(False)
        self.set_creator("SPOD4 registrace")
        self.project = catalogue_document()["project"]

    def fitted(self, width: float, text: str, size: float, min_size: float = 6.5) -> tuple[str, float]:
        """The text at the largest size up to `size` that fits the width; cut with "…" if even the smallest does not."""
        padding = 2 * self.c_margin
        current = size
        while current > min_size:
            self.set_font_size(current)
            if self.get_string_width(text) + padding <= width:
                return text, current
            current -= 0.5
        self.set_font_size(min_size)
        if self.get_string_width(text) + padding <= width:
            return text, min_size
        while text and self.get_string_width(text + "…") + padding > width:
            text = text[:-1]
        return text + "…", min_size

    def wrapped(self, width: float, text: str, size: float, max_lines: int, min_size: float) -> tuple[list[str], float]:
        """The text broken into at most `max_lines` lines at the largest size that allows it.

        At the smallest size the last line is cut with "…": the page keeps its
        one-page layout whatever was typed into a 300-character field.
        """
        current = size
        while True:
            self.set_font_size(current)
            lines = self.multi_cell(width, text=text, dry_run=True, output="LINES")
            if len(lines) <= max_lines or current <= min_size:
                break
            current -= 0.5
        if len(lines) > max_lines:
            last = " ".join(lines[max_lines - 1:])
            while last and self.get_string_width(last + "…") + 2 * self.c_margin > width:
                last = last[:-1]
            lines = lines[: max_lines - 1] + [last.rstrip() + "…"]
        return lines, current

    def write_lines(self, lines: list[str], size: float, line_height: float, align: str = "C",
                    x: float | None = None, width: float = 0) -> None:
        self.set_font_size(size)
        for line in lines:
            if x is not None:
                self.set_x(x)
            self.cell(width, line_height, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def draw_emblem(self, x: float, y: float, height: float) -> float:
        """The EU emblem with its top left corner at (x, y); returns its width."""
        shape = emblem.emblem(height)
        with self.local_context():
            self.set_fill_color(emblem.BLUE)
            self.rect(x, y, shape.width, shape.height, style="F")
            self.set_fill_color(emblem.GOLD)
            for corners in shape.stars:
                self.polygon([(x + cx, y + cy) for cx, cy in corners], style="F")
        return shape.width

    def draw_qr(self, url: str, x: float, y: float, size: float) -> None:
        """A QR code of `url` as filled rectangles (vectors: sharp at any print size), quiet zone included.

        One rectangle per run of dark modules in a row keeps the page small.
        """
        rows = qr_rows(url)
        module = size / len(rows)
        with self.local_context():
            self.set_fill_color(0)
            for r, row in enumerate(rows):
                start = None
                for c, dark in enumerate([*row, False]):
                    if dark and start is None:
                        start = c
                    elif not dark and start is not None:
                        self.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
                        start = None

    def project_block(self, emblem_height: float = 10) -> None:
        """The emblem with "Spolufinancováno Evropskou unií" beside it, then the project's name and number."""
        top, left = self.get_y(), self.l_margin
        gap = emblem_height / 3
        width = self.draw_emblem(left, top, emblem_height)
        self.set_xy(left + width + gap, top + (emblem_height - 5) / 2)
        self.set_font(FONT, "B", 10)
        self.cell(0, 5, ESF_LINE)
        self.set_xy(left, top + emblem_height + 2)
        self.set_font(FONT, "", 8)
        self.multi_cell(0, 4, f"Projekt {self.project['name']} ({self.project['short_name']}), "
                              f"{REG_NO_LABEL}{self.project['reg_no']}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --- prezenční listina -------------------------------------------------------------

# (title, width in mm) on A4 portrait with 12 mm margins: 186 mm in all.
SHEET_COLUMNS = [("č.", 12), ("Jméno a příjmení", 56), ("Organizace", 64), ("Podpis", 54)]
ROW_HEIGHT = 9  # room for a signature
LABEL_WIDTH = 34


class AttendanceSheet(_Document):
    def __init__(self, term: Term):
        super().__init__()
        self.term = term
        self.set_title(f"Prezenční listina – {term.offer.title}")

    def header(self):
        self.project_block()
        self.ln(2)
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, "PREZENČNÍ LISTINA", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        term = self.term
        for label, value in [
            ("Workshop", term.offer.title),
            ("Datum a čas", term_span(term.starts_at, term.ends_at)),
            ("Místo", place_label(term)),
            ("Lektorské vedení", term.lecturer or ""),
        ]:
            self.set_font(FONT, "B", 9)
            self.cell(LABEL_WIDTH, 5, f"{label}:")
            lines, size = self.wrapped(self.epw - LABEL_WIDTH, value, 9, max_lines=2, min_size=7)
            self.set_font(FONT, "")
            self.write_lines(lines, size, 5, align="L", x=self.l_margin + LABEL_WIDTH, width=self.epw - LABEL_WIDTH)
        self.ln(2)
        self.set_font(FONT, "B", 9)
        self.set_fill_color(220, 230, 241)
        for title, width in SHEET_COLUMNS:
            self.cell(width, 7, title, border=1, fill=True)
        self.ln(7)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        # A long title gives way; the date and the page number always print.
        tail = f" · {term_span(self.term.starts_at, self.term.ends_at)} · strana {self.page_no()}/{{nb}}"
        title, _ = self.fitted(self.epw - self.get_string_width(tail), self.term.offer.title, 8, min_size=8)
        self.cell(0, 5, title + tail, align="C")

    def row(self, number: str, name: str, organisation_text: str) -> None:
        if self.get_y() + ROW_HEIGHT > self.h - 16:
            self.add_page()
        widths = [w for _, w in SHEET_COLUMNS]
        self.set_font(FONT, "", 9)
        self.cell(widths[0], ROW_HEIGHT, number, border=1, align="R")
        for text, width in ((name, widths[1]), (organisation_text, widths[2])):
            fitted, _ = self.fitted(width, text, 9)
            self.cell(width, ROW_HEIGHT, fitted, border=1)
        self.set_font_size(9)
        self.cell(widths[3], ROW_HEIGHT, "", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def attendance_sheet_pdf(term: Term) -> bytes:
    """One row per confirmed participant, by surname, with an empty cell to sign; a few blank rows at the end."""
    people = term_registrations(term.id, states=[RegistrationState.CONFIRMED])
    pdf = AttendanceSheet(term)
    pdf.add_page()
    for number, registration in enumerate(people, start=1):
        pdf.row(f"{number}.", registration.name, organisation(registration))
    for number in range(len(people) + 1, len(people) + 1 + BLANK_ROWS):
        pdf.row(f"{number}.", "", "")
    if pdf.get_y() + 16 > pdf.h - 16:
        pdf.add_page()
    pdf.ln(6)
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, 5, f"Počet přihlášených: {len(people)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 8, "Lektorské vedení, podpis: ..............................................",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# --- osvědčení ---------------------------------------------------------------------

CERTIFICATE_MARGIN = 20
FACT_LABEL_WIDTH = 38
QR_SIZE = 24  # mm with its quiet zone: about 0.6 mm a module, which any phone reads from paper


class Certificates(_Document):
    """Osvědčení, one A4 page each; one for a person, or all of a term in one file."""

    def __init__(self, title: str, issued: date | None = None):
        super().__init__(margin=CERTIFICATE_MARGIN)
        self.set_title(title)
        self.issued = issued or utcnow().astimezone(PRAGUE).date()

    def page_for(self, registration: Registration) -> None:
        # Wording without a gendered verb ("absolvoval/a", "se zúčastnila"):
        # the person's name, then "účast na workshopu", and the ministry as the
        # subject of the one sentence.
        issue_codes([registration])  # nothing to do when a term's file issued them all at once
        term = registration.term
        width = self.epw
        self.add_page()
        self.set_y(14)
        self.project_block(emblem_height=14)

        self.set_y(62)
        self.set_font(FONT, "B", 26)
        self.cell(0, 12, "OSVĚDČENÍ", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 13)
        self.cell(0, 8, "o účasti na vzdělávací akci", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        self.ln(12)
        self.set_font(FONT, "B")
        lines, size = self.wrapped(width, registration.name, 20, max_lines=2, min_size=11)
        self.write_lines(lines, size, size * 0.5)
        self.set_font(FONT, "")
        lines, size = self.wrapped(width, organisation(registration), 11, max_lines=2, min_size=8)
        self.write_lines(lines, size, 6)

        self.ln(8)
        self.set_font(FONT, "", 11)
        self.cell(0, 6, "účast na workshopu", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        self.set_font(FONT, "B")
        lines, size = self.wrapped(width, term.offer.title, 15, max_lines=3, min_size=9)
        self.write_lines(lines, size, size * 0.5)

        self.ln(8)
        value_width = width - FACT_LABEL_WIDTH
        for label, value in [
            ("Termín", term_span(term.starts_at, term.ends_at)),
            ("Místo", place_label(term)),
            ("Rozsah", format_hours(term.length_hours)),
            ("Lektorské vedení", term.lecturer or ""),
        ]:
            self.set_font(FONT, "B", 10)
            self.cell(FACT_LABEL_WIDTH, 6, f"{label}:")
            self.set_font(FONT, "")
            lines, size = self.wrapped(value_width, value, 10, max_lines=2, min_size=7)
            self.write_lines(lines, size, 6, align="L", x=self.l_margin + FACT_LABEL_WIDTH, width=value_width)

        self.ln(6)
        self.set_font(FONT, "", 10)
        self.multi_cell(0, 5, f"Účast potvrzuje {MINISTRY} jako realizátor projektu {self.project['short_name']}.",
                        align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        # The signature and the footer sit at fixed heights, whatever came above.
        issued = self.issued
        self.set_y(self.h - 62)
        self.set_font(FONT, "", 10)
        self.cell(width / 2, 6, f"V Praze dne {issued.day}. {issued.month}. {issued.year}")
        self.cell(width / 2, 6, "..............................................", align="C",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(self.l_margin + width / 2)
        self.cell(width / 2, 5, "za realizační tým projektu SPOD4", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        # The number, the code and the address of the public verification page, and the
        # QR code of that address in the bottom right corner beside them.
        url = verification_url(registration.certificate_code)
        self.draw_qr(url, self.w - self.r_margin - QR_SIZE, self.h - CERTIFICATE_MARGIN - QR_SIZE, QR_SIZE)
        text_width = self.epw - QR_SIZE - 4
        self.set_y(self.h - 36)
        self.set_font(FONT, "", 8)
        for line in (f"Číslo osvědčení: {certificate_number(registration)}",
                     f"Ověřovací kód: {display_code(registration.certificate_code)}",
                     f"Platnost ověříte na {url}"):
            self.cell(text_width, 4, self.fitted(text_width, line, 8, min_size=6)[0],
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font_size(8)
        self.multi_cell(text_width, 4, f"{ESF_LINE}. Projekt {self.project['name']}, "
                                       f"{REG_NO_LABEL}{self.project['reg_no']}.",
                        align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def certificate_pdf(registration: Registration, issued: date | None = None) -> bytes:
    """The osvědčení of one person, one page; the caller has checked `hours.certificate_available`."""
    pdf = Certificates(f"Osvědčení – {registration.name}", issued)
    pdf.page_for(registration)
    return bytes(pdf.output())


def term_certificates(term: Term) -> list[Registration]:
    """Who gets an osvědčení from this term, by surname (the order of the prezenční listina)."""
    return [r for r in term_registrations(term.id, states=[RegistrationState.CONFIRMED]) if certificate_available(r)]


def term_certificates_pdf(term: Term, issued: date | None = None) -> bytes | None:
    """All osvědčení of a term in one file, a page each; None while nobody has one (the term has not ended,
    or nobody is marked present)."""
    people = term_certificates(term)
    if not people:
        return None
    issue_codes(people)  # one transaction for the whole term, not one per page
    pdf = Certificates(f"Osvědčení – {term.offer.title}, {term_span(term.starts_at, term.ends_at)}", issued)
    for registration in people:
        pdf.page_for(registration)
    return bytes(pdf.output())
