"""The `wizard` logger: one line per order placed, per conflict and per refused Save, each with
the request id (taken from an X-Request-ID header set by a proxy, else made here, and sent back)."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Blueprint, Flask, g, request

log = logging.getLogger("wizard")
HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id() -> str:
    if "request_id" not in g:
        offered = request.headers.get(HEADER, "")
        g.request_id = offered if _SAFE_ID.fullmatch(offered) else secrets.token_hex(8)
    return g.request_id


def event(what: str, **fields) -> None:
    """Log one line: `what key=value ... request_id=...`."""
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    log.info("%s %s request_id=%s", what, details, request_id())


def echo_request_id(response):
    response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask | Blueprint) -> None:
    """On the app (standalone) or on the wizard's blueprint (mounted: the host's pages are its own)."""
    app.after_request(echo_request_id)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
