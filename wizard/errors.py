"""Clear error pages for every HTTP error: 403 naming the missing permission, 404, 429, 400 for CSRF
and 500 have their own; every other status gets the styled page of `http_error`, never Werkzeug's text."""

from datetime import timedelta
from functools import wraps

from flask import render_template, request
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from . import requestlog
from .identity import InvalidHostPerson, ProvisionConflict
from .permissions import PermissionDenied, SwitchedOff
from .problems import explained, problem_response
from .visitor import current_user


def forbidden(exc: PermissionDenied):
    """403 page: says which permission is missing and who the owner is to ask."""
    owner = current_user.organisation.owner if current_user.is_authenticated else None
    return render_template("wizard/errors/403.html", permission=exc.permission, owner=owner), 403


def not_found(_exc):
    return render_template("wizard/errors/404.html"), 404


def too_many(exc):
    return render_template("wizard/errors/429.html", limit=_limit_text(exc)), 429


def _limit_text(exc) -> str | None:
    """The limit hit, in the visitor's language ("5 attempts in 1 minute"): Flask-Limiter's own
    description is English ("5 per 1 minute"). None for a 429 that is not Flask-Limiter's."""
    item = getattr(getattr(exc, "limit", None), "limit", None)
    if item is None:
        return None
    period = format_timedelta(timedelta(seconds=item.get_expiry()), threshold=1)
    return ngettext("%(num)s attempt in %(period)s", "%(num)s attempts in %(period)s", item.amount, period=period)


def bad_request(exc):
    return render_template(
        "wizard/errors/400.html", reason=_("The request was not understood. Go back and try again.")
    ), 400


def csrf_failed(exc: CSRFError):
    return render_template(
        "wizard/errors/400.html",
        reason=_("The form was too old or was not sent from this site. Reload the page and try again."),
    ), 400


def not_provisioned(exc: ProvisionConflict):
    """Mounted: the host's person clashes with someone the wizard already has (same e-mail address or
    organisation number under another key). Nothing was changed; an administrator must sort it out,
    from the log line."""
    requestlog.event("host.conflict", reason=str(exc).replace("\n", " "))
    return render_template(
        "wizard/errors/400.html",
        reason=_(
            "Your account could not be set up here: its e-mail address or organisation number is already "
            "used by another account. Ask your administrator to contact the operator."
        ),
    ), 409


def invalid_host_person(exc: InvalidHostPerson):
    """Mounted: the host's identity adapter described someone incompletely (e.g. no e-mail address)."""
    requestlog.event("host.invalid_person", reason=str(exc))
    return render_template(
        "wizard/errors/400.html",
        title=_("Your account cannot be used here yet"),
        reason=_(
            "Your account in this intranet lacks details that ordering needs, such as an e-mail address. "
            "Ask your administrator to complete it (the wizard's log says what is missing)."
        ),
    ), 403


def switched_off(_exc: SwitchedOff):
    return render_template(
        "wizard/errors/400.html",
        title=_("Your access is switched off"),
        reason=_("The owner of your organisation switched off your access here. Ask them to switch it on again."),
    ), 403


def untrusted_host(_exc: SecurityError):
    """A Host header not in TRUSTED_HOSTS. Flask could not route it, so there is no page to render
    (every link on one needs the host): a line of plain text."""
    return _("This site is not served at this address."), 400, {"Content-Type": "text/plain; charset=utf-8"}


def server_error(_exc):
    return render_template("wizard/errors/500.html"), 500


# Status -> (title, what to do). Titles say what happened in plain words, not the status name.
EXPLAINED = {
    401: (_l("You need to log in"), _l("Log in, then open the page again.")),
    405: (
        _l("This address cannot be opened like that"),
        _l(
            "It only takes a form sent from one of our pages, so it cannot be opened from a link, a bookmark "
            "or the address bar. Go back to Subs and start again from there."
        ),
    ),
    408: (_l("That took too long"), _l("Nothing was saved. Go back and try again.")),
    409: (
        _l("That clashed with another change"),
        _l("Someone changed the same thing at the same time. Go back, reload the page and try again."),
    ),
    410: (_l("This page is gone"), _l("It was removed and will not come back. Start again from Subs.")),
    413: (
        _l("What you sent is too large"),
        _l("Nothing was saved. Go back, send less (shorter text, fewer or smaller files) and try again."),
    ),
    414: (_l("The web address is too long"), _l("Go back and follow the link again, or start again from Subs.")),
    415: (_l("What you sent is in a form we cannot read"), _l("Go back and send the form from its page again.")),
}
OTHER = (
    _l("The request could not be completed"),
    _l("Go back and try again. If it happens again, contact support and mention the error code."),
)
UNAVAILABLE = (
    _l("The service is not available right now"),
    _l("Nothing you had saved has been lost. Try again in a few minutes."),
)


def http_error(exc: HTTPException):
    """Any other HTTP error: a styled page with the status, a plain-language title and what to do,
    with the error's own headers (Allow for 405, WWW-Authenticate, Retry-After)."""
    code = exc.code or 500
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    if code >= 500:  # like the 500 page: no layout, which may need the database that failed
        title, advice = UNAVAILABLE
        return render_template("wizard/errors/500.html", title=title, advice=advice), code, headers
    title, advice = EXPLAINED.get(code, OTHER)
    return render_template("wizard/errors/http.html", code=code, title=title, advice=advice), code, headers


HANDLERS = (
    (PermissionDenied, forbidden),
    (ProvisionConflict, not_provisioned),
    (InvalidHostPerson, invalid_host_person),
    (SwitchedOff, switched_off),
    (404, not_found),
    (429, too_many),
    (400, bad_request),
    (SecurityError, untrusted_host),
    (CSRFError, csrf_failed),
    (500, server_error),
    (HTTPException, http_error),  # every other status: Flask picks a handler by code before class
)


API_PREFIX = "/api/"


def api_aware(handler):
    """A page's error handler that answers an address of the JSON API (one no API view matched: an
    unknown path, a method it does not take) with problem details (RFC 9457) instead of a page."""

    @wraps(handler)
    def handle(exc):
        if request.path.startswith(API_PREFIX) and isinstance(exc, HTTPException):
            headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
            title, detail = explained(exc.code or 500)
            return problem_response(exc.code or 500, title, detail, headers=headers)
        return handler(exc)

    return handle


def init_app(app) -> None:
    """On the app (standalone) or on the wizard's blueprint (mounted: errors on the host's own
    pages, and addresses no view matched, are the host's)."""
    for code_or_exception, handler in HANDLERS:
        app.register_error_handler(code_or_exception, api_aware(handler))
