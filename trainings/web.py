"""What every view shares, below all of them and above the plumbing: a term or 404, a file handed
out, an error answered in the format of whoever asked.

A view of one capability takes these from here, never from another capability's views."""
import json
from urllib.parse import quote

from flask import Response, abort, current_app, render_template, request

from .access import loaded
from .models import Term, term_with_facts

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def term_or_404(term_id: int) -> Term:
    """The term of the URL: the row the access check loaded, else read once; 404 when there is none."""
    term = loaded(Term, term_id) or term_with_facts(term_id)
    if term is None:
        abort(404)
    return term


def download(data: bytes, content_type: str, filename: str) -> Response:
    """An attachment that is not cached anywhere: the files hold personal data.

    `content_type`, not `mimetype`: Werkzeug adds a charset to a text/* mimetype
    even when it names one, and the CSV said "charset=utf-8" twice."""
    return Response(data, content_type=content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
    })


def error_response(status, title, message, headers=(), **members):
    """The error in the format of whoever asked; `members` go into an API problem."""
    audience = audience_of_request()
    if audience == "api":
        response = problem(status, title, message, **members)
    elif audience == "feed":
        response = Response(f"{title}. {message}\n", status=status, content_type="text/plain; charset=utf-8")
        response.cache_control.no_store = True
    else:
        # The layout needs no database (templates/base.html), so this renders during an outage too.
        response = Response(render_template("pages/error.html", title=title, message=message), status=status)
    for key, value in headers:
        response.headers[key] = value
    return response


def problem(status, title, detail, **members):
    """An RFC 9457 problem: no specific `type` beyond the HTTP status (about:blank), Czech title and detail."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **members}
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        content_type="application/problem+json; charset=utf-8")
    response.cache_control.no_store = True
    response.headers["Access-Control-Allow-Origin"] = "*"  # as every API answer
    return response


def audience_of_request() -> str:
    """Who asked: the JSON API, a calendar client (a feed), or a browser (a page)."""
    api = current_app.blueprints.get("api")
    if request.blueprint == "api" or (api is not None and request.path.startswith(api.url_prefix + "/")):
        return "api"
    if request.blueprint == "calendar" or request.path.endswith(".ics"):
        return "feed"
    return "page"
