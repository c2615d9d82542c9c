"""PDF documents (fpdf2): the prezenční listina and the osvědčení o absolvování.

Both carry the ESF+ publicity line, the project's name and registration
number from the catalogue, so a printed page stands on its own in an audit.
The font ships with the application (trainings/data/fonts, DejaVu Sans), so
Czech letters print the same on every server.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ..catalogue.seed import catalogue_document
from ..models import Registration, RegistrationState, Term, utcnow
from ..registration.hours import format_hours
from ..registration.roster import organisation, term_registrations
from ..timefmt import PRAGUE, term_span
from .rows import place_label

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT = "DejaVu"
ESF_LINE = "Spolufinancováno Evropskou unií"
BLANK_ROWS = 5  # for people who come without a registration


class _Document(FPDF):
    def __init__(self, orientation: str = "P"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(12, 12, 12)
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
        while text and self.get_string_width(text + "…") + padding > width:
            text = text[:-1]
        return text + "…", min_size

    def project_block(self) -> None:
        self.set_font(FONT, "B", 10)
        self.cell(0, 5, ESF_LINE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 8)
        self.multi_cell(0, 4, f"Projekt {self.project['name']} ({self.project['short_name']}), "
                              f"reg. č. {self.project['reg_no']}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --- prezenční listina -------------------------------------------------------------

# (title, width in mm) on A4 portrait with 12 mm margins: 186 mm in all.
SHEET_COLUMNS = [("č.", 12), ("Jméno a příjmení", 56), ("Organizace", 64), ("Podpis", 54)]
ROW_HEIGHT = 9  # room for a signature


class AttendanceSheet(_Document):
    def __init__(self, term: Term):
        super().__init__()
        self.term = term
        self.set_title(f"Prezenční listina – {term.offer.title}")
        self.set_auto_page_break(False)  # rows are placed by hand so a row never splits

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
            ("Lektor/ka", term.lecturer or ""),
        ]:
            self.set_font(FONT, "B", 9)
            self.cell(28, 5, f"{label}:")
            self.set_font(FONT, "", 9)
            self.multi_cell(0, 5, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_font(FONT, "B", 9)
        self.set_fill_color(220, 230, 241)
        for title, width in SHEET_COLUMNS:
            self.cell(width, 7, title, border=1, fill=True)
        self.ln(7)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"{self.term.offer.title} · {term_span(self.term.starts_at, self.term.ends_at)}"
                        f" · strana {self.page_no()}/{{nb}}", align="C")

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
    """One row per confirmed participant, by name, with an empty cell to sign; a few blank rows at the end."""
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
    pdf.cell(0, 5, f"Přihlášených účastníků: {len(people)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 8, "Podpis lektora/lektorky: ..............................................",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# --- osvědčení ---------------------------------------------------------------------


def certificate_number(registration: Registration) -> str:
    return f"SPOD4-{registration.term_id}-{registration.id}"


def certificate_pdf(registration: Registration, issued: date | None = None) -> bytes:
    """The osvědčení o absolvování; the caller has checked `hours.certificate_available`."""
    term = registration.term
    issued = issued or utcnow().astimezone(PRAGUE).date()
    pdf = _Document()
    pdf.set_title(f"Osvědčení – {registration.name}")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.project_block()
    pdf.ln(22)
    pdf.set_font(FONT, "B", 26)
    pdf.cell(0, 12, "OSVĚDČENÍ", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 13)
    pdf.cell(0, 8, "o absolvování vzdělávací akce", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(14)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 6, "Ministerstvo práce a sociálních věcí potvrzuje, že", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FONT, "B", 20)
    pdf.multi_cell(0, 10, registration.name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 6, organisation(registration), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.cell(0, 6, "absolvoval/a workshop", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, term.offer.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)
    for label, value in [
        ("Termín", term_span(term.starts_at, term.ends_at)),
        ("Místo", place_label(term)),
        ("Rozsah", format_hours(term.length_hours)),
        ("Lektor/ka", term.lecturer or ""),
        ("Projekt", f"{pdf.project['name']}, reg. č. {pdf.project['reg_no']}"),
    ]:
        pdf.set_x(30)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(30, 6, f"{label}:")
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(120, 6, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(24)
    pdf.set_font(FONT, "", 10)
    pdf.set_x(30)
    pdf.cell(75, 6, f"V Praze dne {issued.day}. {issued.month}. {issued.year}")
    pdf.cell(75, 6, "..............................................", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(105)
    pdf.cell(75, 5, "za realizační tým projektu SPOD4", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(-26)
    pdf.set_font(FONT, "", 8)
    pdf.cell(0, 4, f"Číslo osvědčení: {certificate_number(registration)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 4, f"{ESF_LINE}. {pdf.project['name']}, reg. č. {pdf.project['reg_no']}.", align="L")
    return bytes(pdf.output())
