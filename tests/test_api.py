"""The read-only JSON API the ministry's websites embed, and its OpenAPI document."""
from urllib.parse import urlsplit

import schemathesis
from hypothesis import HealthCheck, given, settings

from .helpers import make_term, region


def test_terms_show_free_seats_and_the_sign_up_link(client):
    term = make_term(capacity=12)
    closed = make_term(public=False)
    body = client.get("/api/v1/terms").get_json()
    assert [item["id"] for item in body["items"]] == [term.id]
    [item] = body["items"]
    assert item["free_seats"] == 12 and item["capacity"] == 12
    assert item["registration_open"] is True
    assert item["url"].endswith(f"/termin/{term.id}/prihlaska")
    assert item["starts_at"].endswith(("+01:00", "+02:00"))
    assert closed.id not in [i["id"] for i in body["items"]]


def test_terms_filter_like_the_catalogue(client):
    from trainings.models import TermForm

    online = make_term()
    brno = make_term(slug="rodicovske-spory", form=TermForm.IN_PERSON, region=region("CZ064"), venue="Brno")
    ids = lambda **q: [i["id"] for i in client.get("/api/v1/terms", query_string=q).get_json()["items"]]  # noqa: E731
    assert ids(form="prezencni") == [brno.id]
    assert ids(region="CZ053") == [online.id]
    assert ids(offer="rodicovske-spory") == [brno.id]


def test_pagination_links_the_next_page(client):
    body = client.get("/api/v1/offers", query_string={"per_page": 10}).get_json()
    assert body["total"] == 36 and len(body["items"]) == 10
    assert "page=2" in body["next"]
    last = client.get("/api/v1/offers", query_string={"per_page": 10, "page": 4}).get_json()
    assert len(last["items"]) == 6 and last["next"] is None


def test_regions_carry_their_coordinators(client):
    items = client.get("/api/v1/regions").get_json()["items"]
    pardubice = next(i for i in items if i["code"] == "CZ053")
    assert pardubice["coordinator"] == {"name": "Světluše Kotrčová", "email": "svetluse.kotrcova@mpsv.gov.cz"}


def test_bad_parameters_get_a_czech_400_not_a_500(client):
    for query in ({"page": "0"}, {"per_page": "x"}, {"form": "telepatie"}, {"month": "2026-13"}, {"region": "XX"}):
        response = client.get("/api/v1/terms", query_string=query)
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert (problem["title"], problem["status"], problem["parameter"]) == ("Neplatný parametr", 400, *query)
        assert problem["detail"]  # the Czech sentence the caller can show, e.g. "Neznámý kód kraje (…)"


def test_responses_are_cacheable_and_answer_conditional_requests(client):
    first = client.get("/api/v1/offers")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/api/v1/offers", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_response_matches_the_openapi_document(app):
    """Schemathesis generates requests from the served document (valid and edge
    values) and checks every answer against it: status, content type, schema,
    and never a server error."""
    make_term()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /offers", "GET /offers/{slug}", "GET /terms", "GET /regions"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate()

        check()


def test_errors_are_czech_problem_details(client):
    """RFC 9457: application/problem+json with type, title, status and detail."""
    for url, status in (("/api/v1/offers/neexistuje", 404), ("/api/v1/nic-takoveho", 404)):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.mimetype == "application/problem+json"
        assert response.get_json() == {"type": "about:blank", "title": "Nenalezeno", "status": 404,
                                       "detail": "Požadovaný záznam neexistuje."}
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    response = client.post("/api/v1/offers")
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Nepovolená akce"
    assert "GET" in response.headers["Allow"]


def test_the_api_root_is_an_index_of_the_document_and_the_endpoints(client):
    """Someone who opens /api/v1/ (or is given only that address) finds the way on."""
    response = client.get("/api/v1/")
    assert response.status_code == 200 and response.mimetype == "application/json"
    index = response.get_json()
    paths = lambda urls: {k: urlsplit(v).path for k, v in urls.items()}  # noqa: E731
    assert paths({"openapi": index["openapi"]}) == {"openapi": "/api/v1/openapi.json"}
    assert paths(index["endpoints"]) == {"offers": "/api/v1/offers", "terms": "/api/v1/terms",
                                         "regions": "/api/v1/regions"}
    for url in [index["openapi"], *index["endpoints"].values()]:
        assert client.get(url).status_code == 200, url
    assert client.get("/api/v1").status_code in (301, 308)
