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
made once per thread (`_printer`), not per document. A term's osvědčení are one page laid out
and every other person's page stamped from it (`_Stencil`): the same file as laying out each
page, at a fifth of the cost. Whoever makes them (trainings/documents/) is told how many pages
are drawn, every CHUNK pages, and gets one file.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pydyf
import weasyprint
from flask import current_app, render_template
from markupsafe import Markup, escape
from weasyprint.document import Page
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.layout.inline import split_text_box
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
SVG_TITLE = "{http://www.w3.org/2000/svg}title"
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


def _page_references(pdf):
    """pydyf's PDF.page_references, built once per number of pages instead of on every call.

    pydyf 0.13 builds the tuple of every page's reference each time it is read, and WeasyPrint's
    tagging reads it for every structure element (about 80 a certificate): a 430-page file spent
    about a fifth of its time on that. Pages are only ever appended, so the count says when
    the tuple is out of date; the answer is the same tuple pydyf would build."""
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_page_references_of")
    if cached is None or cached[0] != len(kids):
        cached = pdf._page_references_of = (len(kids), tuple(
            f"{object_number} 0 R".encode("ascii") for object_number in kids[::3]))
    return cached[1]


if pydyf.__version__ == "0.13.0":  # the version pinned in requirements.txt; a newer one may have mended it
    pydyf.PDF.page_references = property(_page_references)


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
def _qr_runs(url: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR code of `url` with its quiet zone: its size in modules and its runs of dark modules in a
    row (row, first column, length). Kept per process: a code never changes, and a term's file made
    again (after a change of attendance) draws the same codes; encoding one costs about 4 ms, a third
    of a stamped page."""
    rows = qr_rows(url)
    runs = []
    for r, row in enumerate(rows):
        start = None
        for c, dark in enumerate([*row, False]):
            if dark and start is None:
                start = c
            elif not dark and start is not None:
                runs.append((r, start, c - start))
                start = None
    return len(rows), tuple(runs)


def qr_title(url: str) -> str:
    return f"QR kód adresy {url}"


def qr_svg(url: str) -> Markup:
    """The QR code of `url` as inline SVG (vectors: sharp at any print size), quiet zone included.

    One path segment per run of dark modules in a row keeps the page small; the <title> is the
    figure's alternative text in the tagged PDF."""
    size, runs = _qr_runs(url)
    path = "".join(f"M{start} {r}h{length}v1h-{length}z" for r, start, length in runs)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr">'
        f"<title>{escape(qr_title(url))}</title><path d=\"{path}\"/></svg>"
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


CHUNK = 50  # pages drawn between two progress reports: about a second


class _TextContext:
    """What WeasyPrint's line breaking needs of a layout context when it shapes one line again: only the
    hyphenation dictionaries (print.css hyphenates nothing, so this stays empty)."""

    def __init__(self):
        self.dictionaries = {}


def _copy(box):
    """The box and everything in it as new box objects, sharing what drawing only reads (styles, shaped text).

    Drawing and tagging keep per-page state on boxes (a link's annotation, a table cell's structure
    element), so a stamped page shares no box with another; a placeholder of an absolutely positioned
    box stays one, as the tagging and the stacking contexts expect."""
    if isinstance(box, AbsolutePlaceholder):
        copied = AbsolutePlaceholder(_copy(box._box))
        object.__setattr__(copied, "_layout_done", box._layout_done)
        return copied
    copied = box.copy()
    if isinstance(box, boxes.ParentBox):
        copied.children = [_copy(child) for child in box.children]
    return copied


def _as_printed(text: str) -> str | None:
    """`text` as it prints on one line (HTML makes a run of spaces, tabs and line breaks one space and
    drops it at either end), or None where it might print otherwise (anything unprintable, other spaces)."""
    text = re.sub(r"[ \t\n\r\f]+", " ", text).strip(" ")
    return text if text and text.isprintable() else None


class _Stencil:
    """One osvědčení as WeasyPrint laid it out, stamped with another person's values.

    Laying out a page costs WeasyPrint about 30 ms, almost all of it the same for everyone on a term:
    the heading, the workshop, the facts, the signature, the footer. The parts that differ (the name,
    the organisation, the number, the code, the verification address and its QR code) each sit on one
    line; stamping shapes those lines again with the same font and style (WeasyPrint's own line
    breaking), moves a centred line by half the change of its width, and draws the person's QR code in
    the same box. Everything else is the laid-out page itself, so the look, the text layer and the
    tagged structure (PDF/UA) are WeasyPrint's.

    A value that would not stay on one line of the same height (a long name that wraps, a letter from
    a fallback font with other metrics, a character Python calls unprintable) cannot be stamped: `stamp` says None and that
    person's page is laid out in full, as before.
    """

    FIELDS = (("name", "name"), ("org", "organisation"), ("number", "number"), ("code", "code"), ("url", "url"))

    def __init__(self, page, fields: dict, qr: list[int], figures: list[list[int]]):
        self.page_box = _copy(page._page_box)
        for path in figures:  # the emblem: drawn once for all stamped pages
            figure = _at(self.page_box, path)
            figure.replacement = _DrawnOnce(figure.replacement)
        self.fields = fields  # certificate key -> (path to the line, the text before the value)
        self.qr = qr  # path to the QR code's box
        self.text_context = _TextContext()

    @classmethod
    def of(cls, page, certificate: dict) -> _Stencil | None:
        """The stencil of a laid-out page of `certificate`, or None where a value did not lay out on one line."""
        found, qr, figures = {}, None, []
        for path, box in _boxes(page._page_box):
            classes = (box.element.get("class") or "").split() if box.element is not None else []
            if box.element_tag == "{http://www.w3.org/2000/svg}svg" and "qr" in classes:
                qr = path
            elif isinstance(box, boxes.ReplacedBox):
                figures.append(path)
            for css_class, key in cls.FIELDS:
                if css_class in classes and isinstance(box, boxes.BlockBox):
                    found[key] = path
        if qr is None or len(found) != len(cls.FIELDS):
            return None
        fields = {}
        for key, path in found.items():
            block = _at(page._page_box, path)
            value = _as_printed(certificate[key])
            if len(block.children) != 1 or not isinstance(block.children[0], boxes.LineBox) or not value:
                return None
            text = _value_box(block.children[0])
            if text is None or not text.text.endswith(value):
                return None
            fields[key] = (path, text.text[:-len(value)])
        return cls(page, fields, qr, figures)

    def stamp(self, certificate: dict) -> Page | None:
        """The page of `certificate`, or None when a value does not fit the stencil's lines."""
        root = _copy(self.page_box)
        for key, (path, before) in self.fields.items():
            value = _as_printed(certificate[key])
            holder = value and self._restamp(_at(root, path), before + value)
            if not holder:
                return None
            if key == "url":  # the link around the address
                holder.link = ("url", ("external", certificate["url"]))
        qr = _at(root, self.qr)
        qr.element = ElementTree.Element(qr.element.tag, {"class": "qr"})
        ElementTree.SubElement(qr.element, SVG_TITLE).text = qr_title(certificate["url"])
        qr.replacement = _QrCode(qr.replacement, certificate["url"])
        return Page(root)

    def _restamp(self, block, text: str):
        """Put `text` in the block's one line in place of the stencil's; the box holding it, or None
        where it would take another line or another height."""
        line = block.children[0]
        holder, index, old = _value_place(line)
        room = block.width - (line.width - old.width)
        new, rest, _ = split_text_box(self.text_context, old.copy_with_text(text), room, 0)
        if new is None or rest is not None or (new.height, new.baseline) != (old.height, old.baseline):
            return None
        grown = new.width - old.width
        holder.children[index] = new
        if holder is not line:  # the address inside its link
            holder.width += grown
        line.width += grown
        align = block.style["text_align_all"]
        if align == "center":
            line.translate(dx=-grown / 2)
        elif align not in ("left", "start"):
            return None
        return holder


class _QrCode:
    """A person's QR code in the stencil's QR box, drawn as WeasyPrint draws qr_svg: the same squares as
    subpaths of one black fill, scaled from modules to the box, inside the figure's clip and marks.

    WeasyPrint would parse the path's text again for every page, a third of a stamped page's cost; the
    squares are written straight into the page. The figure's alternative text is the box's element's
    <title>, as for the inline SVG."""

    def __init__(self, template, url: str):
        self.template = template  # the stencil's SVG image: the intrinsic size of the box
        self.size, self.runs = _qr_runs(url)

    def get_intrinsic_size(self, image_resolution, font_size):
        return self.template.get_intrinsic_size(image_resolution, font_size)

    def draw(self, stream, concrete_width, concrete_height, style):
        with stream.stacked():
            stream.transform(a=concrete_width / self.size, d=concrete_height / self.size)
            stream.set_color_rgb(0, 0, 0)
            for r, start, length in self.runs:
                end = start + length
                stream.move_to(start, r)
                stream.line_to(end, r)
                stream.line_to(end, r + 1)
                stream.line_to(start, r + 1)
                stream.close()
            stream.fill()


class _DrawnOnce:
    """A figure every stamped page shows alike (the EU emblem): WeasyPrint draws it on the first page,
    and the other pages repeat the drawing operations it wrote.

    The operations name only the file's shared graphics states (its resources), so they mean the same
    on every page of that file; one of these lives for one file. A drawing that used anything drawn
    per page (an image, a group, a shading) is drawn again each time instead."""

    def __init__(self, image):
        self.image = image
        self.drawing = None  # (the file's resources, the operations)

    def get_intrinsic_size(self, image_resolution, font_size):
        return self.image.get_intrinsic_size(image_resolution, font_size)

    def draw(self, stream, concrete_width, concrete_height, style):
        resources = stream._resources
        if self.drawing is not None and self.drawing[0] is resources:
            stream.stream.extend(self.drawing[1])
            return
        start = len(stream.stream)
        self.image.draw(stream, concrete_width, concrete_height, style)
        if len(stream.stream) < start:  # it took back an operation written before it began
            return
        operations = stream.stream[start:]
        if all(isinstance(op, bytes) and not op.endswith((b" Do", b" sh")) for op in operations):
            self.drawing = (resources, operations)


def _boxes(box, path=()):
    """Every box under `box` with its path (the indexes of the children leading to it)."""
    yield list(path), box
    for index, child in enumerate(getattr(box, "children", ())):
        yield from _boxes(child, (*path, index))


def _at(box, path: list[int]):
    for index in path:
        box = box.children[index]
    return box


def _value_place(line):
    """Where the last text of a line sits: its parent box (the line, or a link inside it) and index."""
    holder = line
    last = line.children[-1] if line.children else None
    if isinstance(last, boxes.InlineBox) and len(last.children) == 1:
        holder, last = last, last.children[0]
    if not isinstance(last, boxes.TextBox) or any(
            not isinstance(child, boxes.TextBox) for child in line.children[:-1]):
        return None, None, None
    return holder, len(holder.children) - 1, last


def _value_box(line):
    return _value_place(line)[2]


def _pages(certificates: list[dict], **context) -> tuple[list, object]:
    """A page for each osvědčení: stamped from the first one laid out where it can be, laid out where not;
    and the first laid-out document (its title and language are the file's)."""
    first = stencil = None
    pages = []
    for number, certificate in enumerate(certificates, 1):
        page = stencil.stamp(certificate) if stencil else None
        if page is not None:
            pages.append(page)
            continue
        document = _layout("exports/certificate.html", certificates=[certificate], **context)
        first = first or document
        if stencil is None and number < len(certificates):  # one person's file needs none
            stencil = _Stencil.of(document.pages[0], certificate)
        pages.extend(document.pages)
    return pages, first


def _reporting(pages: list, progress: Callable[[int], None]) -> None:
    """Tell `progress` every CHUNK pages WeasyPrint has drawn (drawing is most of the work now) and after the last."""
    for number, page in enumerate(pages, 1):
        if number % CHUNK == 0 or number == len(pages):
            paint = page.paint

            def painted(stream, scale=1, paint=paint, number=number):
                paint(stream, scale)
                progress(number)
            page.paint = painted


def _certificates(title: str, people: list[Registration], issued: date | None,
                  progress: Callable[[int], None] | None = None) -> bytes:
    """Osvědčení, one A4 page each; one for a person, or all of a term in one file.

    What each page says is read from the database first, so `progress` may commit while the
    pages are drawn without the pages' rows being read again."""
    issued = issued or utcnow().astimezone(PRAGUE).date()
    pages, first = _pages([_certificate(r) for r in people], title=title, ministry=project.MINISTRY,
                          issued=f"{issued.day}. {issued.month}. {issued.year}")
    if progress:
        _reporting(pages, progress)
    # WeasyPrint's way to join documents: the first one's metadata (title, language), every page.
    return first.copy(pages).write_pdf(**PDF_OPTIONS)


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
