"""Clear error pages (403 naming the missing permission, 404, 429, 400 for CSRF, 500)."""

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .identity import ProvisionConflict
from .permissions import PermissionDenied
from .visitor import current_user


def forbidden(exc: PermissionDenied):
    """403 page: says which permission is missing and who the owner is to ask."""
    owner = current_user.organisation.owner if current_user.is_authenticated else None
    return render_template("wizard/errors/403.html", permission=exc.permission, owner=owner), 403


def not_found(_exc):
    return render_template("wizard/errors/404.html"), 404


def too_many(exc):
    return render_template("wizard/errors/429.html", limit=exc.description), 429


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
    organisation number under another key). Nothing was changed; an administrator must sort it out."""
    return render_template(
        "wizard/errors/400.html",
        reason=_(
            "Your account could not be set up here: its e-mail address or organisation number is already "
            "used by another account. Ask your administrator to contact the operator."
        ),
    ), 409


def server_error(_exc):
    return render_template("wizard/errors/500.html"), 500


HANDLERS = (
    (PermissionDenied, forbidden),
    (ProvisionConflict, not_provisioned),
    (404, not_found),
    (429, too_many),
    (400, bad_request),
    (CSRFError, csrf_failed),
    (500, server_error),
)


def init_app(app) -> None:
    """On the app (standalone) or on the wizard's blueprint (mounted: errors on the host's own
    pages, and addresses no view matched, are the host's)."""
    for code_or_exception, handler in HANDLERS:
        app.register_error_handler(code_or_exception, handler)
