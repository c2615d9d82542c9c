"""The privacy page a worker reads before she gives her consent: who the controller is, how to reach
the data-protection officer, the legal basis of each processing, how long, her rights and how to use them."""
import re


from .conftest import build_app
from .helpers import form_url


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_privacy_page_names_each_processing_with_its_legal_basis_the_retention_and_her_rights(client, app):
    page = text(client.get("/ochrana-osobnich-udaju").get_data(as_text=True))
    assert "Správcem osobních údajů je Ministerstvo práce a sociálních věcí, Na Poříčním právu 1/376" in page
    assert "Pověřenec pro ochranu osobních údajů" in page
    # No officer configured here: the page points to the ministry's published contact, names no one.
    assert "www.mpsv.cz" in page
    for purpose, basis in (("Přihláška na workshop", "souhlas"), ("Docházka", "právní povinnosti"),
                           ("Osvědčení", "veřejném zájmu"), ("Vykazování projektu", "2021/1060"),
                           ("Dotazník zpětné vazby", "veřejném zájmu"), ("Žádost o workshop", "souhlas")):
        row = re.search(rf"{purpose}.*?písm\. [ace]\)", page)
        assert row and basis in row.group(0), purpose
    assert "anonymizujeme 1 003 dní po skončení termínu" in page  # RETENTION_DAYS by default
    for right in ("přístup", "opravu", "výmaz", "omezení", "námitku", "odvolat souhlas", "Úřadu pro ochranu osobních údajů"):
        assert right in page, right
    assert "Moje vzdělávání" in page


def test_a_configured_officer_is_named(tmp_path, database_url):
    configured = build_app(database_url, tmp_path, DPO_CONTACT="Ing. Eva Příkladová, poverenec@mpsv.example")
    with configured.app_context():
        page = text(configured.test_client().get("/ochrana-osobnich-udaju").get_data(as_text=True))
    assert "Pověřenec pro ochranu osobních údajů ministerstva: Ing. Eva Příkladová, poverenec@mpsv.example." in page


def test_the_footer_and_the_sign_up_consent_link_the_privacy_page(client, term):
    html = client.get(form_url(term)).get_data(as_text=True)
    footer = html[html.index('<footer'):]
    assert 'href="/ochrana-osobnich-udaju"' in footer
    consent = html[html.index('id="consent"'):html.index('</form>')]
    assert 'href="/ochrana-osobnich-udaju"' in consent
