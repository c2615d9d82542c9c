"""Names that lie: every text field of every form, public and staff, takes text as it is seen.

A right-to-left override, a zero-width space or a byte order mark is invisible, yet it made
"Jana Nováková" on the osvědčení and on its public verification page a different string
from the one shown, or showed one name while another was stored. A form sent in another
encoding than UTF-8 was stored as Werkzeug reads it: "Nov%E1kov%E1" from a urlencoded body,
"Nov\ufffdkov\ufffd" from a multipart one. Now such text is refused next to its field with
a Czech message, keeping what was typed; a name typed decomposed (NFD) is stored composed
(NFC), so it equals the same name typed on another keyboard; surrounding spaces are dropped.
"""
import html as htmllib
import re
import unicodedata
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select

from trainings.extensions import db
from trainings.forms import text_refusal
from trainings.models import Registration, SupportRequest
from trainings.registration import service as registration_service

from .helpers import (
    csrf,
    field_error,
    form_data,
    form_url,
    make_term,
    offer,
    outbox,
    post_form,
    region,
    register_via_form,
)
from .staff_helpers import attend, fresh, move_to_past, organiser_client, sign_up

INVISIBLE = "Text obsahuje neviditelné nebo řídicí znaky; napište jej prosím znovu."
DAMAGED = ("Text obsahuje poškozené znaky (například „�“, „%E1“ nebo prázdný rámeček místo písmene); "
           "napište jej prosím znovu.")
LINE_BREAK = "Text musí být na jednom řádku."

NOVAKOVA = "Jana Nováková"
NOVAKOVA_NFD = unicodedata.normalize("NFD", NOVAKOVA)


def typed_value(html: str, field: str) -> str | None:
    """What the re-shown form holds in a field, as the browser reads it."""
    match = re.search(rf'<input[^>]*\bname="{field}"[^>]*>', html)
    if match:
        value = re.search(r'\bvalue="([^"]*)"', match.group(0))
        return htmllib.unescape(value.group(1)) if value else None
    match = re.search(rf'<textarea[^>]*\bname="{field}"[^>]*>(.*?)</textarea>', html, re.S)
    return htmllib.unescape(match.group(1)).removeprefix("\r\n").removeprefix("\n") if match else None


def stored(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def shows_nothing_hidden(text: str) -> bool:
    """No format, control (but line breaks and tabs), private-use or replacement character."""
    return not any(unicodedata.category(c) in ("Cf", "Co", "Cs") or c == "\ufffd"
                   or (unicodedata.category(c) == "Cc" and c not in "\t\r\n") for c in text)


# --- the sign-up ---------------------------------------------------------------------------

SPOOFED_NAMES = [
    pytest.param("\u202eávokáN anaJ", INVISIBLE, id="right-to-left override, reads 'Jana Nováková'"),
    pytest.param("Jana \u2067Nováková\u2069", INVISIBLE, id="right-to-left isolate"),
    pytest.param("Jana \u202bNováková\u202c", INVISIBLE, id="right-to-left embedding"),
    pytest.param("Jana Nová\u200bková", INVISIBLE, id="zero-width space"),
    pytest.param("Jana Nová\u200dková", INVISIBLE, id="zero-width joiner between letters"),
    pytest.param("Jana Nová\u2060ková", INVISIBLE, id="word joiner"),
    pytest.param("\ufeffJana Nováková", INVISIBLE, id="byte order mark"),
    pytest.param("Jana Nová\u00adková", INVISIBLE, id="soft hyphen"),
    pytest.param("Jana\u3164Nováková", INVISIBLE, id="Hangul filler, a blank letter"),
    pytest.param("Jana\ufe0f Nováková", INVISIBLE, id="variation selector after a letter"),
    pytest.param("Jana\tNováková", INVISIBLE, id="tab in a one-line field"),
    pytest.param("Jana\x7fNováková", INVISIBLE, id="DEL"),
    pytest.param("Jana\x9bNováková", INVISIBLE, id="C1 control"),
    pytest.param("Jana Nov\ufffdkov\ufffd", DAMAGED, id="replacement character"),
    pytest.param("Jana \ue000Nováková", DAMAGED, id="private use"),
    pytest.param("Jana Nováková\ufdd0", DAMAGED, id="noncharacter"),
]


@pytest.mark.parametrize(("name", "message"), SPOOFED_NAMES)
def test_a_name_with_hidden_characters_is_refused_next_to_the_field_and_kept(client, name, message):
    term = make_term()
    response = register_via_form(client, term, name=name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") == message
    assert typed_value(html, "name") == name.strip()
    assert stored(Registration) == 0


def test_every_text_field_follows_the_rule_not_only_the_name(client):
    term = make_term()
    response = register_via_form(client, term, job_title="sociální \u202epracovnice")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "job_title") == INVISIBLE
    assert stored(Registration) == 0


def test_a_form_sent_in_latin1_is_refused_not_stored_as_escapes(client):
    """ "á" in Latin-1 is the byte E1, not UTF-8: Werkzeug keeps it as the text "%E1", which
    was stored and printed on the osvědčení."""
    term = make_term()
    page = client.get(form_url(term)).get_data(as_text=True)
    body = urlencode({"csrf_token": csrf(page), **form_data(name=None)}) + "&name=Jana%20Nov%E1kov%E1"
    response = client.post(form_url(term), data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") == DAMAGED
    assert typed_value(html, "name") == "Jana Nov%E1kov%E1"
    assert stored(Registration) == 0


def test_a_multipart_form_sent_in_latin1_is_refused_not_stored_as_replacement_characters(client):
    term = make_term()
    page = client.get(form_url(term)).get_data(as_text=True)
    parts = [(key, str(value).encode()) for key, value in {"csrf_token": csrf(page), **form_data(name=None)}.items()]
    parts.append(("name", "Jana Nováková".encode("latin-1")))
    body = b"".join(b'--hranice\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (key.encode(), value)
                    for key, value in parts) + b"--hranice--\r\n"
    response = client.post(form_url(term), data=body, content_type="multipart/form-data; boundary=hranice")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") == DAMAGED
    assert typed_value(html, "name") == "Jana Nov\ufffdkov\ufffd"
    assert stored(Registration) == 0


def test_a_name_typed_decomposed_is_stored_composed_without_surrounding_spaces(client):
    """Some keyboards and macOS file names send "á" as "a" and a combining acute: the same
    name, which must equal (and sort, and search as) the one typed on another keyboard."""
    term = make_term()
    job_title = unicodedata.normalize("NFD", "sociální pracovnice")
    response = register_via_form(client, term, name=f"  {NOVAKOVA_NFD}\u00a0", job_title=job_title)
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "name")
    registration = db.session.scalars(select(Registration)).one()
    assert (registration.name, registration.job_title) == (NOVAKOVA, "sociální pracovnice")
    assert len(registration.name) == 13


@pytest.mark.parametrize("name", [
    "Anna-Marie O'Brien",
    "Ing. Ludmila Řeháčková Ďurišová, Ph.D.",
    "Zoë Ångström",
    "Jana\u00a0Nováková",  # a no-break space, as Czech typography puts it: visible as a space
    "Nguyễn Thị Lan",
])
def test_real_names_pass(client, name):
    term = make_term()
    response = register_via_form(client, term, name=name)
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "name")
    assert db.session.scalars(select(Registration)).one().name == name


# --- the workshop na klíč -------------------------------------------------------------------


def workshop_request(**overrides):
    """What Marie from the Pardubice regional office types into the "na klíč" form."""
    data = {
        "name": "Marie Dvořáková",
        "email": "marie.dvorakova@pardubickykraj.cz",
        "organisation": "Krajský úřad Pardubického kraje",
        "region": region("CZ053").id,
        "orp": "",
        "topic_offer": offer("od-analyzy-k-tvorbe-ipod").id,
        "topic_text": "",
        "participant_needs": "Sjednotit postup při tvorbě IPOD napříč ORP kraje.",
        "expected_participants": "24",
        "preferred_dates": "březen nebo duben, ne v pátek",
        "form": "prezencni",
        "place": "",
        "consent": "y",
    }
    data.update(overrides)
    return data


def test_the_na_klic_request_refuses_hidden_characters_in_each_field_and_keeps_the_text(app):
    client = app.test_client()
    needs = "Sjednotit postup.\n\u2066Tajný text\u2069"
    response = post_form(client, "/zadost/workshop-na-klic", workshop_request(
        name="\u202eávokářvoD eiraM", organisation="Krajský\u200búřad", participant_needs=needs))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") == INVISIBLE
    assert field_error(html, "organisation") == INVISIBLE
    assert field_error(html, "participant_needs") == INVISIBLE
    assert typed_value(html, "name") == "\u202eávokářvoD eiraM"
    assert typed_value(html, "participant_needs") == needs
    assert stored(SupportRequest) == 0


def test_the_na_klic_request_refuses_invalid_utf8(app):
    client = app.test_client()
    page = client.get("/zadost/workshop-na-klic").get_data(as_text=True)
    fields = workshop_request(place=None)
    del fields["place"]
    body = urlencode({"csrf_token": csrf(page), **fields}) + "&place=N%E1m%ECst%ED%20Republiky"
    response = client.post("/zadost/workshop-na-klic", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "place") == DAMAGED
    assert stored(SupportRequest) == 0


def test_longer_text_keeps_its_lines_tabs_and_emoji(app):
    """A multi-line field takes line breaks and tabs, and emoji built with a zero-width joiner
    or a variation selector (a phone's keyboard sends them): those join pictures, never letters."""
    client = app.test_client()
    needs = ("Body:\n\t1. kazuistiky 👩\u200d💻\n\t2. spolupráce ❤\ufe0f\u200d🔥 🏳\ufe0f\u200d🌈 1\ufe0f\u20e3\n"
             "Podklady: https://example.cz/pr%C3%A1ce-s-rodinou, 100% účast")
    name = " " + unicodedata.normalize("NFD", "Marie Dvořáková")
    response = post_form(client, "/zadost/workshop-na-klic", workshop_request(participant_needs=needs, name=name))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    request = db.session.scalars(select(SupportRequest)).one()
    assert request.participant_needs == needs
    assert request.requester_name == "Marie Dvořáková"


# --- staff forms ----------------------------------------------------------------------------


def test_an_organiser_adding_someone_by_hand_gets_the_same_rule(app):
    term = make_term()
    staff = organiser_client(app)
    url = f"/sprava/terminy/{term.id}/prihlasky/nova"
    response = post_form(staff, url, {**form_data(name="Jana\u200b Nováková"), "consent": "y"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "name") == INVISIBLE
    assert typed_value(html, "name") == "Jana\u200b Nováková"
    assert stored(Registration) == 0


def test_a_message_to_participants_with_a_bidi_override_in_its_subject_is_not_sent(app):
    term = make_term()
    sign_up(term, 1)
    staff = organiser_client(app)
    response = post_form(staff, f"/sprava/terminy/{term.id}/zprava",
                         {"subject": "Zm\u202eěna místa", "body": "Dobrý den,\n\nsejdeme se jinde.\ufeff"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "subject") == INVISIBLE
    assert field_error(html, "body") == INVISIBLE
    assert outbox("term_message") == []


# --- the osvědčení and its verification page ------------------------------------------------


def test_the_verification_page_shows_the_name_as_it_was_seen_when_typed(app, client):
    """Jana first pastes a name that reads "Jana Nováková" but is stored reversed behind an
    override: refused. Typed on a keyboard that decomposes "á", it is stored composed, and
    the verification page of her osvědčení shows "J. Nováková", that very string."""
    term = make_term(hours=3.5)
    refused = register_via_form(client, term, name="\u202eávokáN anaJ")
    assert refused.status_code == 422 and stored(Registration) == 0

    accepted = register_via_form(client, term, name=NOVAKOVA_NFD)
    assert accepted.status_code == 302
    registration = db.session.scalars(select(Registration)).one()
    move_to_past(term, 3)
    attend(registration.id)
    registration = fresh(Registration, registration.id)
    token = registration_service.issue_link(registration)
    db.session.commit()
    paper = client.get(f"/prihlaska/{token}/osvedceni/{registration.id}.pdf")
    assert paper.status_code == 200
    code = fresh(Registration, registration.id).certificate_code

    page = client.get(f"/overeni-osvedceni/{quote(code)}").get_data(as_text=True)
    main = re.search(r"<main.*</main>", page, re.S).group(0)
    assert "Osvědčení je platné" in main
    assert "J. Nováková" in main
    assert shows_nothing_hidden(main)


# --- the rule's edges -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "single_line", "message"), [
    ("👩\u200d💻 🏳\ufe0f\u200d🌈 🤷\u200d♀\ufe0f 👍🏽 1\ufe0f\u20e3 #\ufe0f\u20e3", True, None),
    ("\u200d💻", True, INVISIBLE),            # a joiner with nothing before it
    ("💻\u200d", True, INVISIBLE),            # nor after
    ("a\u200d💻", True, INVISIBLE),           # a letter does not take one
    ("\ufe0fJana", True, INVISIBLE),
    ("Nová\u0301ková", True, None),            # a combining accent NFC had nothing to compose with: visible
    ("řádek\n\tdruhý\r\ntřetí", False, None),
    ("řádek\u2028druhý", True, LINE_BREAK),
    ("řádek\x0bdruhý", False, INVISIBLE),      # vertical tab
    ("řádek\x85druhý", False, INVISIBLE),      # NEL, a C1 control
    ("Jana\u00a0Nováková", True, None),
    ("%e1 a 100% a %C3%A1", True, None),       # typed escapes: lower case, or valid UTF-8
    ("Nov%C3kov%C3%A1", True, DAMAGED),
    ("\U000E0041", True, INVISIBLE),           # a tag character, used to smuggle hidden text
    ("Jana\U0010FFFF", True, DAMAGED),
])
def test_the_rule_for_typed_text(text, single_line, message):
    assert text_refusal(text, single_line) == message
