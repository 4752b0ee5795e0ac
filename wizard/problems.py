"""Problem details (RFC 9457): how the JSON API answers an error, from its own views (api.py) and from
the app's error pages for an API address no view matched (errors.api_aware)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

PROBLEM = "application/problem+json"

# Title and detail of an error that is not the API's own Problem (a path no view matches, a method it
# does not take, a body too large, the rate limit, a crash), in the reader's language: Werkzeug's
# names and descriptions are English.
TITLES = {
    400: (_l("The request could not be read"), _l("Check its syntax, headers and body, then send it again.")),
    401: (_l("Authentication needed"), _l("Send a valid personal API token: Authorization: Bearer <token>.")),
    403: (_l("Not allowed"), _l("Your token's creator lacks the permission this needs.")),
    404: (_l("Not found"), _l("There is nothing at this address. The API's description (openapi.json) lists them.")),
    405: (
        _l("Method not allowed"),
        _l("This address does not take that method: the Allow header names those it does."),
    ),
    413: (_l("The request is too large"), _l("Send a smaller body.")),
    415: (_l("The body is not JSON"), _l("Send it as Content-Type: application/json.")),
    422: (_l("The request has values that are not valid"), None),
    429: (_l("Too many requests"), _l("Wait for the seconds in Retry-After, then send it again.")),
    500: (_l("Something went wrong on our side"), _l("Nothing was changed. Try again in a moment.")),
}
OTHER = (_l("The request could not be completed"), None)


def explained(status: int) -> tuple[str, str | None]:
    """The title and detail of an error with this status, in the reader's language."""
    title, detail = TITLES.get(status, OTHER)
    return str(title), str(detail) if detail is not None else None


def problem_response(status: int, title: str, detail: str | None = None, errors: list | None = None, headers=None):
    """A problem+json response; `errors` holds one {"pointer", "detail"} per field that failed."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for name, value in dict(headers or {}).items():
        response.headers[name] = value
    return response
