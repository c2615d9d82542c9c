"""PDF documents: the prezenční listina and the osvědčení o účasti, as tagged PDF/UA-1.

Both are Jinja templates with print CSS (templates/exports/) that WeasyPrint lays
out and writes as a tagged PDF: a structure tree (headings, paragraphs, tables),
the language, the title shown instead of the file name and alternative text for
the EU emblem and the QR code, so a screen reader can read what people print.

Both carry the EU emblem (static/img/eu-emblem.svg, drawn by trainings/emblem.py)
beside "Spolufinancováno Evropskou unií" (ESF+ publicity), the project's name and
registration number from the catalogue, so a printed page stands on its own in an
audit. The font ships with the application (trainings/data/fonts, DejaVu Sans), so
Czech letters print the same on every server.

WeasyPrint reads files only through `_LocalFiles`: the static files and the fonts,
never the network, whatever a template or a value typed by staff points at.

What every document shares (the parsed print CSS with its fonts, the emblem read once) is
made once per thread (`_printer`), not per document. A term's osvědčení are laid out in
chunks of pages, so whoever makes them (trainings/documents/) can say how far it got, and
written as one file.
"""
from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from flask import current_app, render_template
from markupsafe import Markup, escape
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .. import project
from ..check_in import qr_rows
from ..certificates.rule import can_issue
from ..certificates.service import certificate_number, display_code, issue_codes, verification_url
from ..czech import hours as format_hours
from ..models import Registration, RegistrationState, Term, utcnow
from ..timefmt import PRAGUE, term_span
from .roster import organisation, term_registrations
from .rows import place_label

__all__ = ["attendance_sheet_pdf", "certificate_number", "certificate_pdf", "term_certificates",
           "term_certificates_pdf"]

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "exports"
PRINT_CSS = TEMPLATE_DIR / "print.css"
BLANK_ROWS = 5  # for people who come without a registration
CERTIFICATE_MARGIN = 20  # mm, left and right (print.css: @page certificate)
QR_SIZE = 24  # mm with its quiet zone: about 0.6 mm a module, which any phone reads from paper


class _LocalFiles(URLFetcher):
    """Gives WeasyPrint the application's static files and fonts and nothing else.

    Every other address (http, data, a file elsewhere on the server) is refused, and a
    refusal stops the rendering: a document that silently lost its emblem or its font
    would still be handed out.
    """

    def __init__(self, *roots: Path):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.roots = [root.resolve() for root in roots]

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"not a local file: {url}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise ValueError(f"not an application file: {url}")
        return URLFetcherResponse(path.as_uri(), path.read_bytes())


PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


class _Printer:
    """The parsed print CSS, its fonts and WeasyPrint's image cache, for one thread.

    One font configuration per thread, not per process: @font-face registers into it and
    gunicorn's threads render at the same time. Parsing the CSS and loading the two fonts
    each time cost a few hundred milliseconds a document; the images cache keeps the
    emblem, read and parsed once. print.css is read when the thread first prints: a
    change to it needs a restart, like a change to the code.
    """

    def __init__(self, static: Path):
        self.static = static
        self.base_url = f"{static.parent.as_uri()}/"
        self.fetcher = _LocalFiles(static, FONT_DIR)
        self.fonts = FontConfiguration()
        self.css = weasyprint.CSS(filename=str(PRINT_CSS), url_fetcher=self.fetcher, font_config=self.fonts)
        self.images: dict = {}


_threads = threading.local()


def _printer() -> _Printer:
    static = Path(current_app.static_folder)
    printer = getattr(_threads, "printer", None)
    if printer is None or printer.static != static:
        printer = _threads.printer = _Printer(static)
    return printer


def _layout(template: str, **context):
    """The laid-out pages of one template (a weasyprint Document), not yet written."""
    printer = _printer()
    html = render_template(template, project=project.facts(), **context)
    document = weasyprint.HTML(string=html, base_url=printer.base_url, url_fetcher=printer.fetcher)
    return document.render(stylesheets=[printer.css], font_config=printer.fonts, cache=printer.images,
                           **PDF_OPTIONS)


def _write(template: str, **context) -> bytes:
    return _layout(template, **context).write_pdf(**PDF_OPTIONS)


@functools.lru_cache(maxsize=2048)
def qr_svg(url: str) -> Markup:
    """The QR code of `url` as inline SVG (vectors: sharp at any print size), quiet zone included.

    One path segment per run of dark modules in a row keeps the page small; the <title> is the
    figure's alternative text in the tagged PDF. Kept per process: a code never changes, and a
    term's file made again (after a change of attendance) draws the same codes, a fifth of a
    page's cost.
    """
    rows = qr_rows(url)
    path = []
    for r, row in enumerate(rows):
        start = None
        for c, dark in enumerate([*row, False]):
            if dark and start is None:
                start = c
            elif not dark and start is not None:
                path.append(f"M{start} {r}h{c - start}v1h-{c - start}z")
                start = None
    size = len(rows)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr">'
        f"<title>QR kód adresy {escape(url)}</title><path d=\"{''.join(path)}\"/></svg>"
    )


# --- prezenční listina -------------------------------------------------------------


def attendance_sheet_pdf(term: Term) -> bytes:
    """One row per confirmed participant, by surname, with a cell to sign; a few blank rows at the end.

    Attendance already marked (at the door, before printing) is noted in the signature cell."""
    people = [{"name": r.name, "organisation": organisation(r), "attended": r.attended}
              for r in term_registrations(term.id, states=[RegistrationState.CONFIRMED])]
    return _write(
        "exports/attendance_sheet.html",
        title=f"Prezenční listina – {term.offer.title}",
        term={"title": term.offer.title, "span": term_span(term.starts_at, term.ends_at),
              "place": place_label(term), "lecturer": term.lecturer or ""},
        people=people,
        blank_rows=range(len(people) + 1, len(people) + 1 + BLANK_ROWS),
    )


# --- osvědčení ---------------------------------------------------------------------


def _certificate(registration: Registration) -> dict:
    """What one osvědčení says; its verification code is issued already."""
    term = registration.term
    url = verification_url(registration.certificate_code)
    return {
        "name": registration.name, "organisation": organisation(registration), "title": term.offer.title,
        "span": term_span(term.starts_at, term.ends_at), "place": place_label(term),
        "hours": format_hours(term.length_hours), "lecturer": term.lecturer or "",
        "number": certificate_number(registration), "code": display_code(registration.certificate_code),
        "url": url, "qr_svg": qr_svg(url),
    }


CHUNK = 50  # pages laid out at a time: progress moves every ~3 s; each chunk costs ~0.1 s more


def _certificates(title: str, people: list[Registration], issued: date | None,
                  progress: Callable[[int], None] | None = None) -> bytes:
    """Osvědčení, one A4 page each; one for a person, or all of a term in one file.

    What each page says is read from the database first, so `progress` may commit between
    chunks without the pages' rows being read again."""
    issued = issued or utcnow().astimezone(PRAGUE).date()
    pages = [_certificate(r) for r in people]
    documents = []
    for start in range(0, len(pages), CHUNK):
        documents.append(_layout("exports/certificate.html", title=title, ministry=project.MINISTRY,
                                 issued=f"{issued.day}. {issued.month}. {issued.year}",
                                 certificates=pages[start:start + CHUNK]))
        if progress:
            progress(min(start + CHUNK, len(pages)))
    # WeasyPrint's way to join documents: the first one's metadata (title, language), every page.
    return documents[0].copy([page for document in documents for page in document.pages]).write_pdf(**PDF_OPTIONS)


def certificate_pdf(registration: Registration, issued: date | None = None) -> bytes:
    """The osvědčení of one person, one page."""
    if not can_issue(registration):
        raise ValueError(f"registration {registration.id} gets no osvědčení")
    issue_codes([registration])
    return _certificates(f"Osvědčení – {registration.name}", [registration], issued)


def term_certificates(term: Term) -> list[Registration]:
    """Who gets an osvědčení from this term, by surname (the order of the prezenční listina)."""
    return [r for r in term_registrations(term.id, states=[RegistrationState.CONFIRMED]) if can_issue(r)]


def certificates_fingerprint(term: Term, people: list[Registration]) -> str:
    """What a term's osvědčení print apart from the codes and the day: a file made for one fingerprint
    is out of date once it differs (someone marked present or absent, a name or the term changed)."""
    facts = [term.id, term.offer.title, term_span(term.starts_at, term.ends_at), place_label(term),
             format_hours(term.length_hours), term.lecturer or ""]
    facts += [(r.id, r.name, organisation(r)) for r in people]
    return hashlib.sha256(json.dumps(facts, ensure_ascii=False).encode("utf-8")).hexdigest()


def term_certificates_pdf(term: Term, issued: date | None = None, people: list[Registration] | None = None,
                          progress: Callable[[int], None] | None = None) -> bytes | None:
    """All osvědčení of a term in one file, a page each; None while nobody has one (the term has not ended,
    or nobody is marked present). `people`: `term_certificates(term)` when the caller has it already;
    `progress` is told how many pages are laid out."""
    people = term_certificates(term) if people is None else people
    if not people:
        return None
    issue_codes(people)  # one transaction for the whole term, not one per page
    return _certificates(f"Osvědčení – {term.offer.title}, {term_span(term.starts_at, term.ends_at)}",
                         people, issued, progress)
