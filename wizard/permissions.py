"""Who may do what: a decorator that every tenant page uses, and the 403 it raises."""

from functools import wraps

from flask import abort, current_app, request

from .visitor import current_user


class SwitchedOff(Exception):
    """Mounted: the host let this person in, but the wizard's owner switched them off."""


class PermissionDenied(Exception):
    """Raised when the user lacks a permission; rendered as a 403 naming it and the owner."""

    def __init__(self, permission: str):
        super().__init__(permission)
        self.permission = permission


def requires(permission: str | None):
    """Require a logged-in user, and the given permission (owners have all) when one is named.

    The permission is recorded on the view, so a test can check every route has one.
    """

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                if getattr(current_user, "switched_off", False):
                    raise SwitchedOff()  # logged in at the host: its login page would only loop
                return unauthorized()
            if permission and not current_user.has_permission(permission):
                raise PermissionDenied(permission)
            return view(*args, **kwargs)

        guarded.required_permission = permission or "login"  # type: ignore[attr-defined]
        return guarded

    return decorator


def scoped_get(sess, model, ident):
    """Fetch a row of the current user's organisation, or 404 (never 403) for anyone else's."""
    obj = sess.get(model, ident) if ident is not None else None
    if obj is None or obj.organisation_id != current_user.organisation_id:
        abort(404)
    return obj


def unauthorized():
    """Nobody logged in: to the login page, the wizard's own or (mounted) the host's Flask-Login
    one, which comes back here afterwards; a host without Flask-Login gets a plain 401."""
    manager = getattr(current_app, "login_manager", None)
    if manager is None:
        abort(401)
    response = manager.unauthorized()
    if request.headers.get("HX-Request") == "true" and response.status_code in (301, 302, 303, 307, 308):
        # htmx would follow the redirect and swap the whole login page into the step: have it load the
        # login page as a page instead (htmx reads HX-Redirect only on a 2xx response).
        return current_app.response_class(status=200, headers={"HX-Redirect": response.location})
    return response
