"""One person's osvědčení as a file, wherever it is asked for (her registration's page, Moje vzdělávání,
the staff's pages): 404 unless she gets one (`certificates.rule.can_issue`)."""
from flask import Response, abort

from ..certificates.rule import can_issue
from ..certificates.service import certificate_number
from ..web import PDF, download
from . import pdf


def certificate_download(registration) -> Response:
    if not can_issue(registration):
        abort(404)
    return download(pdf.certificate_pdf(registration), PDF, f"osvedceni-{certificate_number(registration)}.pdf")
