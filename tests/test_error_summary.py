"""The error summary at the top of a form that failed: its lines follow the fields down the page,
and each reads "Label: message" without doubled punctuation when the label is a sentence."""
import re

import pytest

from .helpers import form_url, offer, post_form

pytestmark = pytest.mark.usefixtures("server_errors_as_pages")

SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def summary(html: str) -> tuple[list[str], list[str]]:
    """(the ids its links point to, its lines as read) of the page's error summary."""
    block = SUMMARY.search(html).group(0)
    links = re.findall(r'<a href="#([^"]+)">(.*?)</a>', block, re.S)
    return [target for target, _ in links], [" ".join(text.split()) for _, text in links]


def page_order(html: str, ids: list[str]) -> list[str]:
    """The same ids in the order their elements stand on the page (after the summary)."""
    body = html[SUMMARY.search(html).end():]
    positions = {}
    for target in ids:
        found = re.search(rf'\bid="{re.escape(target)}"', body)
        assert found, f"the summary links #{target}, which is not on the page"
        positions[target] = found.start()
    return sorted(ids, key=positions.get)


def test_the_na_klic_request_lists_its_errors_in_the_order_of_its_fields(client):
    # Marie sends the form without filling anything in and without the consent.
    response = post_form(client, "/zadost/workshop-na-klic", {"form": "prezencni"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    ids, lines = summary(html)
    assert ids[0] == "name" and ids[-1] == "consent", ids
    assert ids == page_order(html, ids)
    assert lines[-1] == ("Souhlasím se zpracováním osobních údajů pro vyřízení žádosti a vykazování projektu: "
                         "Bez souhlasu se zpracováním údajů nelze žádost přijmout.")
    assert not any(".:" in line for line in lines), lines


def test_the_support_and_package_requests_list_their_errors_down_the_page(client):
    html = post_form(client, "/zadost/metodicka-podpora", {}).get_data(as_text=True)
    ids, _ = summary(html)
    assert {"orp", "items", "situation", "consent"} <= set(ids)
    assert ids == page_order(html, ids)

    # A package with a note too long on one item: that note stands inside the list of items,
    # before the package's own note and the consent.
    item = offer("posileni-metodicke-role-krajskych-ospod")
    html = post_form(client, "/zadost/balicek-pro-kraj", {f"note_{item.id}": "x" * 2001}).get_data(as_text=True)
    ids, _ = summary(html)
    assert ids[-3:] == ["items", f"note_{item.id}", "consent"], ids
    assert ids == page_order(html, ids)


def test_the_sign_up_form_lists_its_errors_down_the_page_and_links_the_employer_choice(client, term):
    html = post_form(client, form_url(term), {}).get_data(as_text=True)
    ids, lines = summary(html)
    assert ids == ["name", "email", "employer_type", "region", "job_title", "consent"]
    assert ids == page_order(html, ids)
    assert lines[-1] == ("Souhlasím se zpracováním osobních údajů pro účely registrace a vykazování projektu: "
                         "Bez souhlasu se zpracováním údajů se nelze přihlásit.")
    assert lines[0] == "Jméno a příjmení: Vyplňte prosím toto pole."
