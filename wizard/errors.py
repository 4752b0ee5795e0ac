"""Clear error pages (403 naming the missing permission, 404, 429, 400 for CSRF, 500)."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .permissions import PermissionDenied


def forbidden(exc: PermissionDenied):
    """403 page: says which permission is missing and who the owner is to ask."""
    owner = current_user.organisation.owner if current_user.is_authenticated else None
    return render_template("errors/403.html", permission=exc.permission, owner=owner), 403


def not_found(_exc):
    return render_template("errors/404.html"), 404


def too_many(exc):
    return render_template("errors/429.html", limit=exc.description), 429


def bad_request(exc):
    return render_template("errors/400.html", reason=_("The request was not understood. Go back and try again.")), 400


def csrf_failed(exc: CSRFError):
    return render_template(
        "errors/400.html",
        reason=_("The form was too old or was not sent from this site. Reload the page and try again."),
    ), 400


def server_error(_exc):
    return render_template("errors/500.html"), 500


def init_app(app) -> None:
    app.register_error_handler(PermissionDenied, forbidden)
    app.register_error_handler(404, not_found)
    app.register_error_handler(429, too_many)
    app.register_error_handler(400, bad_request)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(500, server_error)
