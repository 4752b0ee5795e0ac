"""Problem details (RFC 9457): how the JSON API answers an error, from its own views (api.py) and from
the app's error pages for an API address no view matched (errors.api_aware)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

PROBLEM = "application/problem+json"


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
