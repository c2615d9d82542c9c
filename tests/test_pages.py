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


# --- error pages: Czech, in the site's layout, in the format of whoever asked ------------------


def assert_czech_error_page(response, status, title):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="cs">' in page and 'href="#obsah"' in page  # the layout, with its skip link
    assert "Prohlášení o přístupnosti" in page  # ... down to its footer
    assert f"<h1>{title}</h1>" in page
    assert "Zpět na nabídku workshopů" in page
    return page


def test_a_missing_page_is_czech_in_the_layout(client):
    assert_czech_error_page(client.get("/neexistuje"), 404, "Stránka nenalezena")


def test_a_staff_page_of_another_role_is_refused_in_czech(app):
    from trainings.models import StaffRole

    from .staff_helpers import log_in, remove_user, staff_user

    lecturer = staff_user("lektorka-chyby@example.cz", "Lektorka Chybová", StaffRole.LECTURER)
    try:
        client = app.test_client()
        assert log_in(client, lecturer.email, "dlouhe-heslo-pro-test").status_code == 302
        page = assert_czech_error_page(client.get("/sprava/terminy/novy"), 403, "Přístup odepřen")
        assert "Forbidden" not in page
    finally:
        remove_user(lecturer.id)


def test_a_wrong_method_is_refused_in_czech_and_names_the_allowed_ones(client):
    response = client.post("/")
    assert_czech_error_page(response, 405, "Nepovolená akce")
    assert "GET" in response.headers["Allow"]


def test_a_form_sent_without_its_token_is_explained_in_czech(client):
    response = client.post("/sprava/prihlaseni", data={"email": "a@example.cz", "password": "x"})
    assert_czech_error_page(response, 400, "Platnost formuláře vypršela")


def test_any_other_error_and_a_server_error_are_czech_too():
    """Errors without a page of their own go through one Czech page; a server error renders
    without the database (this app has none: an empty in-memory SQLite)."""
    from flask import abort

    from trainings import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "PROPAGATE_EXCEPTIONS": False})
    app.add_url_rule("/konflikt", "conflict", lambda: abort(409))

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/chyba", "broken", broken)
    client = app.test_client()
    page = assert_czech_error_page(client.get("/konflikt"), 409, "Požadavek nelze vyřídit")
    assert "chyba 409" in page and "Conflict" not in page
    assert_czech_error_page(client.get("/chyba"), 500, "Chyba na naší straně")


def test_a_calendar_feed_answers_its_errors_in_plain_text(client):
    response = client.get("/nabidka/neexistuje/kalendar.ics")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("Kalendář nenalezen.")
