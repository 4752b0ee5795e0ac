"""Security headers, set in one place for every response: pages, fragments, redirects, errors."""

from flask import current_app, request


def content_security_policy() -> str:
    """A strict CSP: our own files only, no inline code, framing only by allow-listed origins."""
    ancestors = " ".join(current_app.config["EMBED_ALLOWED_ORIGINS"]) or "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


def set_security_headers(response):
    """after_request hook; Flask also runs it for error-handler responses."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not current_app.config["EMBED_ALLOWED_ORIGINS"]:
        headers["X-Frame-Options"] = "DENY"
    if request.endpoint not in ("static", "wizard.static"):
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Cookie")
        headers.add("Vary", "HX-Request")
    return response


def init_app(app) -> None:
    """On the app (standalone) or on the wizard's blueprint (mounted: the host's pages are its own)."""
    app.after_request(set_security_headers)
