"""Anyone holding an osvědčení can check it: its QR code and its code lead to a public page that says
whether it is valid, for which workshop and date, and whose it is in a minimal form ("J. Nováková")."""
import io
import re
from datetime import timedelta

import pytest
import segno
from pypdf import PdfReader
from sqlalchemy.orm.attributes import set_committed_value

from trainings.certificates import service as certificates
from trainings.exports import pdf
from trainings.extensions import db
from trainings.models import Registration, Term, TermForm
from trainings.privacy.service import erase_person
from trainings.registration import service, staff_actions

from .helpers import make_term
from .staff_helpers import attend, fresh, move_to_past, organiser, organiser_client, sign_up

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

URL = re.compile(r"http://spod4\.test(/overeni-osvedceni/([A-Z0-9]+))")
EMAIL = "jana.novakova@litomysl.cz"


def main_of(response) -> str:
    """The page's own content, without the site's header and footer."""
    return re.search(r"<main.*</main>", response.get_data(as_text=True), re.S).group(0)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def attended(app):
    """Jana Nováková was present on a workshop that ended three days ago."""
    term = make_term(hours=3.5, form=TermForm.IN_PERSON, venue="Litomyšl, zámek", lecturer="Mgr. Petra Lektorová")
    person = sign_up(term, 1, name="Mgr. Jana Nováková, DiS.", email=EMAIL)
    move_to_past(term, 3)
    attend(person.id)
    return fresh(Registration, person.id)


def her_certificate(client, registration) -> bytes:
    """The osvědčení as she downloads it from her private link."""
    token = service.issue_link(registration)
    db.session.commit()
    response = client.get(f"/prihlaska/{token}/osvedceni/{registration.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def verification_path(data: bytes) -> str:
    found = URL.findall(pdf_text(data))
    assert len(found) == 1, found
    return found[0][0]


def test_the_qr_code_leads_to_a_page_that_says_valid_with_the_minimal_facts(app, client, attended):
    data = her_certificate(client, attended)
    text = pdf_text(data)
    path = verification_path(data)
    code = path.rsplit("/", 1)[1]
    registration = fresh(Registration, attended.id)
    assert registration.certificate_code == code and len(code) == 12
    # The paper carries the readable number and the code to type, grouped by four.
    assert f"Číslo osvědčení: SPOD4-{registration.term_id}-{registration.id}" in text
    assert f"Ověřovací kód: {code[:4]}-{code[4:8]}-{code[8:]}" in text

    response = client.get(path)
    page = main_of(response)
    assert response.status_code == 200
    assert "Osvědčení je platné" in page
    term = registration.term
    for expected in ["J. Nováková", term.offer.title, "3,5 hodiny", f"SPOD4-{term.id}-{registration.id}",
                     certificates.term_span(term.starts_at, term.ends_at)]:
        assert expected in page, expected
    # Nothing else about her: no e-mail, full name, titles, workplace, ORP or employer type.
    for private in [EMAIL, "jana.novakova", "Jana Nováková", "Mgr.", "DiS.", "Litomyšl", "OSPOD",
                    "sociální pracovnice"]:
        assert private not in page, private
    assert response.headers["X-Robots-Tag"] == "noindex"

    # The code does not change: the staff's copy and the term's file print the same one.
    staff = organiser_client(app)
    assert verification_path(staff.get(f"/sprava/prihlasky/{attended.id}/osvedceni.pdf").data) == path
    assert verification_path(staff.get(f"/sprava/terminy/{term.id}/osvedceni.pdf").data) == path


def test_a_typed_code_is_found_whatever_its_case_spaces_and_dashes(app, client, attended):
    code = verification_path(her_certificate(client, attended)).rsplit("/", 1)[1]
    typed = f"{code[:4].lower()}-{code[4:8]} {code[8:].lower()}"
    form = client.get("/overeni-osvedceni")
    assert form.status_code == 200 and 'name="kod"' in form.get_data(as_text=True)
    response = client.get("/overeni-osvedceni", query_string={"kod": typed}, follow_redirects=True)
    assert response.status_code == 200 and "Osvědčení je platné" in response.get_data(as_text=True)
    assert response.request.path == f"/overeni-osvedceni/{code}"
    # The same through the address itself.
    assert client.get(f"/overeni-osvedceni/{code.lower()}", follow_redirects=True).status_code == 200


def test_an_unknown_code_is_a_404_on_the_same_page_and_a_malformed_one_a_czech_message(app, client):
    response = client.get("/overeni-osvedceni/ABCDEFGHJKMN")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Osvědčení s tímto kódem neevidujeme" in page
    assert 'name="kod"' in page  # another code can be typed right there
    assert client.get("/overeni-osvedceni/SPOD4-1-1").status_code == 404  # the number alone verifies nothing

    response = client.get("/overeni-osvedceni", query_string={"kod": "12O"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Kód má 12 znaků" in page and 'value="12O"' in page
    response = client.get("/overeni-osvedceni", query_string={"kod": ""})
    assert response.status_code == 422 and "Zadejte ověřovací kód z osvědčení." in response.get_data(as_text=True)


def test_a_cancelled_registration_makes_the_certificate_not_valid(app, client, attended):
    path = verification_path(her_certificate(client, attended))
    term = attended.term
    # An organiser's correction of a mistaken record, dated before the start (the only time a
    # registration can be cancelled): the attendance it vouched for is gone.
    staff_actions.cancel_on_behalf(attended.id, organiser(), now=term.starts_at - timedelta(hours=1))
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Osvědčení není platné" in text
    assert "Nováková" not in text and term.offer.title not in text


def test_attendance_taken_back_or_a_cancelled_term_make_it_not_valid_too(app, client, attended):
    path = verification_path(her_certificate(client, attended))
    attend(attended.id, False)
    assert "Osvědčení není platné" in client.get(path).get_data(as_text=True)
    attend(attended.id, True)
    assert "Osvědčení je platné" in client.get(path).get_data(as_text=True)
    term = fresh(Term, attended.term_id)
    term.state = term.state.CANCELLED
    db.session.commit()
    assert "Osvědčení není platné" in client.get(path).get_data(as_text=True)


def test_an_erased_person_has_no_valid_certificate_and_no_name_on_the_page(app, client, attended):
    path = verification_path(her_certificate(client, attended))
    erase_person(EMAIL, organiser())
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Osvědčení není platné" in page
    assert "Nováková" not in page and "anonymizováno" not in page and "J. " not in page


def test_the_qr_code_drawn_on_the_paper_is_the_verification_address(app, client, attended):
    """The squares drawn in the QR figure, read back as modules, are the QR symbol of the address
    printed beside it (no QR decoder is installed here, so the symbol is compared), at QR_SIZE in
    the bottom right corner inside the margin."""
    data = her_certificate(client, attended)
    url = "http://spod4.test" + verification_path(data)
    page = PdfReader(io.BytesIO(data)).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    # Each figure is clipped to its box: "x y w h re W n /Figure …"; the emblem comes first, the QR
    # code last, drawn as squares in module units.
    figures = re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re\nW\nn\n/Figure\n(.*?)EMC", content, re.S)
    assert len(figures) == 2, "the emblem and the QR code"
    *box, drawing = figures[-1]
    x, y, width, height = (float(v) for v in box)
    squares = re.findall(r"(\d+) (\d+) m\n(\d+) \2 l\n\3 (\d+) l\n\1 \4 l\nh", drawing)
    dark = {(int(top), col) for left, top, right, _ in squares for col in range(int(left), int(right))}
    expected = segno.make_qr(url, error="m")
    wanted = {(r + 4, c + 4) for r, line in enumerate(expected.matrix) for c, bit in enumerate(line) if bit}
    assert dark == wanted  # quiet zone of 4 modules on each side
    # Its box is QR_SIZE square, its right edge on the right margin, its bottom on the bottom margin.
    unit = 210 / (float(page.mediabox.width) / 0.75)  # mm per CSS pixel, the unit the page is drawn in
    assert abs(width * unit - pdf.QR_SIZE) < 0.1 and abs(height * unit - pdf.QR_SIZE) < 0.1
    assert abs((x + width) * unit - (210 - pdf.CERTIFICATE_MARGIN)) < 0.1
    assert abs((y + height) * unit - (297 - pdf.CERTIFICATE_MARGIN)) < 0.1


def test_two_downloads_at_once_keep_the_first_code(app, attended):
    """The code is set only where none is: a download that read the row before another one
    issued a code does not overwrite it (the paper already printed would stop verifying)."""
    certificates.issue_codes([fresh(Registration, attended.id)])
    first = fresh(Registration, attended.id).certificate_code
    stale = db.session.get(Registration, attended.id)
    set_committed_value(stale, "certificate_code", None)  # as a request that read it a moment earlier
    certificates.issue_codes([stale])
    assert fresh(Registration, attended.id).certificate_code == first


def test_the_holder_is_an_initial_and_the_surname():
    assert certificates.holder_name("Mgr. Jana Nováková, DiS.") == "J. Nováková"
    assert certificates.holder_name("Ing. Bc. Marie Terezie Dvořáková") == "M. Dvořáková"
    assert certificates.holder_name("Nováková") == "Nováková"
    assert certificates.holder_name("Šárka Černá") == "Š. Černá"
