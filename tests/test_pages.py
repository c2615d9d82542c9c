"""Pages a Czech public body must publish."""


def test_accessibility_statement_follows_the_eu_model_structure(client):
    page = client.get("/prohlaseni-o-pristupnosti").get_data(as_text=True)
    for heading in ("Stav souladu", "Nepřístupný obsah", "Vypracování tohoto prohlášení",
                    "Zpětná vazba a kontaktní údaje", "Postupy pro vymáhání práva"):
        assert f"<h2>{heading}</h2>" in page
    assert "99/2019 Sb." in page


def test_privacy_page_names_the_controller_and_the_consent_version(client, app):
    page = client.get("/ochrana-osobnich-udaju").get_data(as_text=True)
    assert "Ministerstvo práce a sociálních věcí" in page
    assert app.config["CONSENT_VERSION"] in page


def test_every_page_links_both_from_its_footer(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/prohlaseni-o-pristupnosti"' in page and 'href="/ochrana-osobnich-udaju"' in page
    assert 'lang="cs"' in page and 'href="#obsah"' in page
