"""fpdf2 against WeasyPrint (HTML + print CSS, tagged PDF/UA-1) for the two PDFs people download.

Renders the osvědčení of one person and the prezenční listina of a term with
2 000 confirmed people with both engines, from the same database rows, and
prints render time (median), size, pages and whether the file is a tagged PDF
a screen reader can follow: /MarkInfo /Marked, a structure tree with headings,
paragraphs and tables, /Lang, the title shown instead of the file name
(DisplayDocTitle) and the PDF/UA identifier in the XMP metadata. When the
`pdfua` package is importable its PDF/UA-1 checks (a subset of the rules,
without a JVM) are counted too; it is not veraPDF.

The WeasyPrint side is a prototype: its Jinja templates and print CSS are in
bench/pdf_engines/, not in templates/. WeasyPrint is not a dependency of the
application, so run it from a scratch environment:

    python3 -m venv /tmp/wp && /tmp/wp/bin/pip install -r requirements-dev.txt weasyprint==70.0 pdfua==0.1.3
    /tmp/wp/bin/python bench/pdf_engines.py [--people 2000] [--out /tmp/pdf-engines]

WeasyPrint needs Debian's libpango-1.0-0, libpangoft2-1.0-0 and libharfbuzz-subset0.
"""
from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATES = HERE / "pdf_engines"
INSTALL = """WeasyPrint is not importable here, so nothing was measured. To run this comparison:

    apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
    python3 -m venv /tmp/wp && /tmp/wp/bin/pip install -r requirements-dev.txt weasyprint==70.0 pdfua==0.1.3
    /tmp/wp/bin/python bench/pdf_engines.py
"""

try:
    import weasyprint
except (ImportError, OSError):  # OSError: the Python package is there but Pango is not
    weasyprint = None


# --- the WeasyPrint prototype --------------------------------------------------------------


def _jinja():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def _qr_svg(url: str):
    """The QR code as inline SVG, one rectangle per run of dark modules (as pdf.py draws it)."""
    from markupsafe import Markup, escape

    from trainings.registration.check_in import qr_rows

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
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {len(rows)} {len(rows)}">'
        f"<title>QR kód adresy {escape(url)}</title><path d=\"{''.join(path)}\"/></svg>"
    )


def _write(html: str) -> bytes:
    return weasyprint.HTML(string=html, base_url=f"{ROOT}/").write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def weasy_certificate(registration, issued: date) -> bytes:
    """The osvědčení of one person from bench/pdf_engines/certificate.html, the same facts as pdf.certificate_pdf."""
    from trainings.catalogue.seed import catalogue_document
    from trainings.certificates.service import certificate_number, display_code, issue_codes, verification_url
    from trainings.exports.pdf import MINISTRY
    from trainings.exports.rows import place_label
    from trainings.registration.hours import format_hours
    from trainings.registration.roster import organisation
    from trainings.timefmt import term_span

    issue_codes([registration])
    term = registration.term
    url = verification_url(registration.certificate_code)
    certificate = {
        "name": registration.name, "organisation": organisation(registration), "title": term.offer.title,
        "span": term_span(term.starts_at, term.ends_at), "place": place_label(term),
        "hours": format_hours(term.length_hours), "lecturer": term.lecturer or "",
        "number": certificate_number(registration), "code": display_code(registration.certificate_code),
        "url": url, "qr_svg": _qr_svg(url),
    }
    html = _jinja().get_template("certificate.html").render(
        title=f"Osvědčení – {registration.name}", project=catalogue_document()["project"], ministry=MINISTRY,
        issued=f"{issued.day}. {issued.month}. {issued.year}", certificates=[certificate])
    return _write(html)


def weasy_attendance_sheet(term) -> bytes:
    """The prezenční listina from bench/pdf_engines/attendance_sheet.html, the rows pdf.attendance_sheet_pdf prints."""
    from trainings.catalogue.seed import catalogue_document
    from trainings.exports.pdf import BLANK_ROWS
    from trainings.exports.rows import place_label
    from trainings.models import RegistrationState
    from trainings.registration.roster import organisation, term_registrations
    from trainings.timefmt import term_span

    people = [{"name": r.name, "organisation": organisation(r)}
              for r in term_registrations(term.id, states=[RegistrationState.CONFIRMED])]
    html = _jinja().get_template("attendance_sheet.html").render(
        title=f"Prezenční listina – {term.offer.title}", project=catalogue_document()["project"],
        term={"title": term.offer.title, "span": term_span(term.starts_at, term.ends_at),
              "place": place_label(term), "lecturer": term.lecturer or ""},
        people=people, blank_rows=range(len(people) + 1, len(people) + 1 + BLANK_ROWS))
    return _write(html)


# --- what the file says about itself ---------------------------------------------------------


def inspect(data: bytes) -> dict:
    """Pages and the markers of a tagged, PDF/UA document, read with pypdf."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    types: dict[str, int] = {}
    tree = root.get("/StructTreeRoot")
    if tree is not None:
        stack = [tree.get_object().get("/K")]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            node = node.get_object() if hasattr(node, "get_object") else node
            if isinstance(node, list):
                stack.extend(node)
            elif hasattr(node, "get") and node.get("/S") is not None:
                types[str(node["/S"])[1:]] = types.get(str(node["/S"])[1:], 0) + 1
                stack.append(node.get("/K"))
    xmp = root.get("/Metadata")
    xmp_text = xmp.get_object().get_data().decode("utf-8", "replace") if xmp is not None else ""
    prefs = root.get("/ViewerPreferences")
    return {
        "pages": len(reader.pages),
        "marked": str((root.get("/MarkInfo") or {}).get("/Marked", "")).lower() == "true",
        "struct": types,
        "lang": str(root.get("/Lang") or ""),
        "title": (reader.metadata or {}).get("/Title", ""),
        "display_title": prefs is not None and str(prefs.get_object().get("/DisplayDocTitle", "")).lower() == "true",
        "pdfua_id": "pdfuaid:part" in xmp_text,
        "text": "\n".join(page.extract_text() or "" for page in reader.pages[:1]),
    }


def tagged(facts: dict) -> bool:
    """A screen reader gets structure: marked, headings, paragraphs or a table, a language and a shown title."""
    s = facts["struct"]
    return (facts["marked"] and facts["lang"].startswith("cs") and facts["display_title"] and bool(facts["title"])
            and any(k.startswith("H") for k in s) and ("P" in s or "Table" in s))


def pdfua_findings(path: Path) -> str:
    """The `pdfua` package's PDF/UA-1 subset (no JVM), when it is installed: failed rules, or "pass"."""
    try:
        from pdfua import validate
    except ImportError:
        return "-"
    from pdfua import Severity

    failed = sorted({f.rule_id for f in validate(str(path)).findings if f.severity == Severity.ERROR})
    return "pass" if not failed else "fail " + ",".join(failed)


# --- the run -----------------------------------------------------------------------------------


def peak_rss_mb() -> int:
    """The process's peak resident memory so far (the jobs run from the smallest to the largest)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def timed(render, repeat: int) -> tuple[float, bytes]:
    from trainings.extensions import db

    times, data = [], b""
    for _ in range(repeat):
        db.session.expunge_all()  # each render reads its rows afresh, as a request would
        started = time.perf_counter()
        data = render()
        times.append(time.perf_counter() - started)
    return statistics.median(times), data


def main() -> int:
    if weasyprint is None:
        print(INSTALL)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--repeat-certificate", type=int, default=20)
    parser.add_argument("--repeat-sheet", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pdf-engines"), help="where the PDFs are written")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    sys.path.insert(0, str(HERE))
    from common import build, sqlite_url
    from export_bench import build_term

    from trainings.exports import pdf
    from trainings.extensions import db
    from trainings.models import Registration, Term, utcnow

    app = build(sqlite_url())
    issued = date(2026, 3, 12)
    with app.app_context():
        sheet_id = build_term(args.people)
        cert_term_id = build_term(1)
        term = db.session.get(Term, cert_term_id)
        term.starts_at, term.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=2) + timedelta(hours=3.5)
        person = db.session.scalars(db.select(Registration).where(Registration.term_id == cert_term_id)).one()
        person.name, person.attended = "Mgr. Hana Přítomná", True
        db.session.commit()
        person_id = person.id

        def registration():
            return db.session.get(Registration, person_id)

        def sheet():
            return db.session.get(Term, sheet_id)

        jobs = [
            ("osvědčení", "fpdf2", lambda: pdf.certificate_pdf(registration(), issued), args.repeat_certificate),
            ("osvědčení", "WeasyPrint", lambda: weasy_certificate(registration(), issued), args.repeat_certificate),
            (f"listina {args.people}", "fpdf2", lambda: pdf.attendance_sheet_pdf(sheet()), args.repeat_sheet),
            (f"listina {args.people}", "WeasyPrint", lambda: weasy_attendance_sheet(sheet()), args.repeat_sheet),
        ]
        print(f"WeasyPrint {weasyprint.__version__}, fpdf2 {__import__('fpdf').__version__}; "
              f"PDFs in {args.out}")
        header = (f"{'document':<16}{'engine':<12}{'median':>10}{'size':>11}{'pages':>7}  {'tagged':<7}"
                  f"{'Marked':<7}{'Lang':<5}{'title':<6}{'UA id':<6}{'RSS':>7}  structure / pdfua subset")
        print(header)
        print("-" * len(header))
        for document, engine, render, repeat in jobs:
            seconds, data = timed(render, repeat)
            path = args.out / f"{document.split()[0]}-{engine.lower()}.pdf"
            path.write_bytes(data)
            f = inspect(data)
            struct = ", ".join(f"{k} {v}" for k, v in sorted(f["struct"].items(), key=lambda kv: -kv[1])[:7]) or "none"
            took = f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
            print(f"{document:<16}{engine:<12}{took:>10}{len(data) / 1024:>8.0f} kB{f['pages']:>7}  "
                  f"{'yes' if tagged(f) else 'no':<7}{'yes' if f['marked'] else 'no':<7}{f['lang'] or '-':<5}"
                  f"{'yes' if f['display_title'] else 'no':<6}{'yes' if f['pdfua_id'] else 'no':<6}"
                  f"{peak_rss_mb():>4} MB  {struct} / {pdfua_findings(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
