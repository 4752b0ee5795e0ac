"""Whether a request wants a fragment (htmx swapping part of a page) or the whole page."""
from flask import request


def is_fragment_request() -> bool:
    """htmx swapping part of the page (not a history restore, which wants the whole page)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Request-Type", "partial") != "full"
            and not request.headers.get("HX-History-Restore-Request"))
