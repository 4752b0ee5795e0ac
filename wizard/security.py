"""Security headers, set in one place for every response: pages, fragments, redirects, errors."""

from flask import current_app, request

from . import embedding

STATIC_ENDPOINTS = ("static", "wizard.static")
NOBODY = "'none'"


def content_security_policy(parent: str | None) -> str:
    """A strict CSP: our own files only, no inline code, framing only by the one allowed parent."""
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
            f"frame-ancestors {parent or NOBODY}",
        ]
    )


# Powerful browser features, none of which the wizard uses: denied to it and to anything it might frame.
# Only names Chromium knows everywhere: it warns in the console of every page about each unknown one
# (on Linux, Debian's Chromium knows neither "bluetooth" nor "web-share", so they are left out).
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "gamepad",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


def set_security_headers(response):
    """after_request hook; Flask also runs it for error-handler responses."""
    headers = response.headers
    static = request.endpoint in STATIC_ENDPOINTS
    # Framed in another site (embedding.py): that site's origin alone, never a list of everyone's.
    parent = None if static else embedding.parent_origin()
    headers["Content-Security-Policy"] = content_security_policy(parent)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # HSTS over HTTPS only (a browser ignores it over http); behind a TLS-terminating proxy,
    # request.is_secure needs ProxyFix (PROXY_FIX_X_PROTO). Mounted, only if the host set it.
    hsts = current_app.config.get("STRICT_TRANSPORT_SECURITY")
    if hsts and request.is_secure:
        headers["Strict-Transport-Security"] = hsts
    if parent is None:
        headers["X-Frame-Options"] = "DENY"
    if not static:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Cookie")
        headers.add("Vary", "HX-Request")
    return response


def init_app(app) -> None:
    """On the app (standalone) or on the wizard's blueprint (mounted: the host's pages are its own)."""
    app.after_request(set_security_headers)
