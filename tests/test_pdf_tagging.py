"""The prezenční listina and the osvědčení are tagged PDF/UA-1: a screen reader gets the text in
reading order with headings and tables, in Czech, under the document's title, and the emblem and
the QR code have alternative text (the accessibility statement claims no exception for them)."""
import io
import re
from datetime import date
from pathlib import Path

import pydyf
import pytest
import segno
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from trainings.exports import pdf
from trainings.models import Registration, Term, TermForm

from .helpers import make_term, region
from .staff_helpers import attend, fresh, move_to_past, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")


def structure(data: bytes) -> tuple[dict, list[dict]]:
    """The document catalog and every element of its structure tree (/S, /Alt), walked from /StructTreeRoot."""
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    elements, stack = [], [root["/StructTreeRoot"].get_object().get("/K")]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(node)
        elif hasattr(node, "get") and node.get("/S") is not None:
            elements.append({"type": str(node["/S"]).lstrip("/"), "alt": str(node.get("/Alt") or "")})
            stack.append(node.get("/K"))
    return root, elements


def assert_tagged(data: bytes, title: str) -> list[dict]:
    root, elements = structure(data)
    assert root["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert root["/Lang"] == "cs"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)
    assert PdfReader(io.BytesIO(data)).metadata.title == title
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "pdfuaid:part" in xmp and ("<pdfuaid:part>1</pdfuaid:part>" in xmp or 'pdfuaid:part="1"' in xmp)
    types = {e["type"] for e in elements}
    assert {"H1", "Table", "TH", "TD"} <= types, types
    return elements


def test_the_prezencni_listina_is_tagged_pdf_ua(app):
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2")
    sign_up(term, 1, name="Jana Nováková")
    term = fresh(Term, term.id)
    elements = assert_tagged(pdf.attendance_sheet_pdf(term), f"Prezenční listina – {term.offer.title}")
    assert [e["alt"] for e in elements if e["type"] == "Figure"] == ["Vlajka Evropské unie"]


def test_the_osvedceni_is_tagged_pdf_ua_with_alt_text_for_the_emblem_and_the_qr_code(app):
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2")
    person = sign_up(term, 1, name="Hana Přítomná")
    move_to_past(term, days=7)
    attend(person.id)
    elements = assert_tagged(pdf.certificate_pdf(fresh(Registration, person.id)), "Osvědčení – Hana Přítomná")
    assert "H2" in {e["type"] for e in elements}  # the workshop's title
    emblem, qr = sorted((e["alt"] for e in elements if e["type"] == "Figure"), key=lambda alt: alt.startswith("QR"))
    assert emblem == "Vlajka Evropské unie"
    assert qr.startswith("QR kód adresy http://spod4.test/overeni-osvedceni/")


def test_a_terms_osvedceni_laid_out_in_chunks_are_one_tagged_file_with_every_page_in_the_tree(app, monkeypatch):
    monkeypatch.setattr(pdf, "CHUNK", 2)  # three people: two chunks joined into one file
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2")
    people = [sign_up(term, i, name=name) for i, name in enumerate(["Hana Přítomná", "Eva Bílá", "Ida Malá"])]
    move_to_past(term, days=7)
    for person in people:
        attend(person.id)
    term = fresh(Term, term.id)
    data = pdf.term_certificates_pdf(term)
    elements = assert_tagged(data, f"Osvědčení – {term.offer.title}, {pdf.term_span(term.starts_at, term.ends_at)}")
    assert len(PdfReader(io.BytesIO(data)).pages) == 3
    assert [e["type"] for e in elements].count("H1") == 3
    assert sum(e["alt"].startswith("QR kód adresy") for e in elements) == 3


def figure_parts(page) -> tuple[str, set[tuple[int, int]]]:
    """A page's content before its last figure (the QR code), and the dark modules that figure draws
    (one square subpath per run of modules, in module units)."""
    content = page.get_contents().get_data().decode("latin-1")
    start = content.rindex("/Figure")
    squares = re.findall(r"(\d+) (\d+) m\n(\d+) \2 l\n\3 (\d+) l\n\1 \4 l\nh", content[start:])
    return content[:start], {(int(top), col) for left, top, right, _ in squares for col in range(int(left), int(right))}


def test_a_terms_stamped_pages_print_and_tag_what_laying_out_each_page_does(app, monkeypatch):
    """A term's file lays out one page and stamps the others with each person's values. Every page says,
    draws and tags what WeasyPrint's own layout of that page does, with a QR code of the page's own
    address (a run of spaces printed as one, as HTML does); a name that wraps is laid out in full."""
    term = make_term(form=TermForm.IN_PERSON, region=region("CZ053"), venue="Pardubice, sál 2",
                     lecturer="Mgr. Petra Lektorová")
    long_name = "Marie Terezie Nováková Dlouhá " * 2 + "Konečná"  # two lines
    people = [sign_up(term, i, name=name) for i, name in enumerate(
        ["Jana Nováková", "Ola Ek", "Řehoř Šťastný-Žlutoučký", long_name, "Ελένη Παπαδοπούλου", "Ida  Malá"])]
    assert people[-1].name == "Ida  Malá"  # stored as typed
    move_to_past(term, days=7)
    for person in people:
        attend(person.id)
    term = fresh(Term, term.id)
    laid_out = []
    layout = pdf._layout

    def counted(template, **context):
        laid_out.extend(c["name"] for c in context["certificates"])
        return layout(template, **context)
    monkeypatch.setattr(pdf, "_layout", counted)
    data = pdf.term_certificates_pdf(term, issued=date(2026, 1, 5))
    monkeypatch.setattr(pdf, "_layout", layout)
    who = pdf.term_certificates(term)
    # The name that wraps, and the first page whose values each sit on one line: the others are stamped from it.
    assert len(laid_out) == 2 and long_name in laid_out

    # The same pages as WeasyPrint lays them out one by one.
    expected = pdf._layout("exports/certificate.html", title="Osvědčení", ministry=pdf.project.MINISTRY,
                           issued="5. 1. 2026", certificates=[pdf._certificate(r) for r in who]
                           ).write_pdf(**pdf.PDF_OPTIONS)
    ours, theirs = PdfReader(io.BytesIO(data)).pages, PdfReader(io.BytesIO(expected)).pages
    assert len(ours) == len(theirs) == 6
    for person, page, reference in zip(who, ours, theirs):
        assert page.extract_text() == reference.extract_text()
        assert " ".join(person.name.split()) in " ".join(page.extract_text().split())
        links = [[(a.get_object()["/A"]["/URI"], [round(float(v), 3) for v in a.get_object()["/Rect"]])
                  for a in p["/Annots"]] for p in (page, reference)]
        assert links[0] == links[1] and len(links[0]) == 1
        url = links[0][0][0]
        assert url.endswith(person.certificate_code) and url in page.extract_text()
        before, modules = figure_parts(page)
        assert before == figure_parts(reference)[0]  # text, emblem and marks drawn the same, in the same order
        symbol = segno.make_qr(url, error="m")
        assert modules == {(r + 4, c + 4) for r, line in enumerate(symbol.matrix) for c, bit in enumerate(line) if bit}
    tree = lambda data: [(e["type"], e["alt"]) for e in structure(data)[1]]  # noqa: E731
    assert tree(data) == tree(expected)
    assert sum(alt.startswith("QR kód adresy") for _, alt in tree(data)) == 6


def test_the_page_references_tagging_reads_are_those_pydyf_builds():
    """pdf.py keeps pydyf's list of page references instead of building it for every tagged element."""
    document = pydyf.PDF()
    seen = []
    for _ in range(3):
        document.add_page(pydyf.Dictionary({"Type": "/Page"}))
        seen.append(document.page_references)
    assert seen[-1] == tuple(f"{page.number} 0 R".encode() for page in document.objects[3:])
    assert [len(refs) for refs in seen] == [1, 2, 3]


def test_weasyprint_reads_only_the_static_files_and_the_fonts(app):
    """Whatever a template or a value typed by staff points at, the renderer never leaves the application."""
    static = Path(app.static_folder)
    fetcher = pdf._LocalFiles(static, pdf.FONT_DIR)
    assert fetcher.fetch((static / "img" / "eu-emblem.svg").as_uri()).read().startswith(b"<svg")
    assert fetcher.fetch((pdf.FONT_DIR / "DejaVuSans.ttf").as_uri()).read()
    for refused in ["http://127.0.0.1:9/x.png", "https://example.com/logo.svg", "file:///etc/passwd",
                    f"{static.as_uri()}/../../config/__init__.py", "data:image/svg+xml,<svg/>",
                    f"file://evil.example{static}/img/eu-emblem.svg"]:
        with pytest.raises(ValueError):
            fetcher.fetch(refused)
