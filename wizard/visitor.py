"""Who is using the wizard: always one of its own User rows, however they logged in.

Standalone, the wizard logs people in itself (auth.py, Flask-Login, server-side login sessions).
Mounted in a host app (wizard.mount), the host's login decides and an identity adapter hands
the wizard a `HostPerson`; the wizard provisions its own organisation and user rows from it just
in time, like a single sign-on, and reads them with the same one statement as a login (identity.py).
Views and templates use `current_user` from here, so they do not care which way it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request
from flask_login import AnonymousUserMixin
from flask_login import current_user as login_current_user
from werkzeug.local import LocalProxy

from . import clock, db, identity
from .identity import HostPerson
from .models import User, utcnow


class Anonymous(AnonymousUserMixin):
    """Nobody is logged in."""

    switched_off = False

    def has_permission(self, name: str) -> bool:
        return False


class SwitchedOff(Anonymous):
    """Mounted: the host vouches for this person, but the wizard's owner switched them off. Sending them
    to the host's login would loop (they are logged in there); permissions.requires says so instead."""

    switched_off = True


@dataclass(frozen=True)
class Mode:
    """How this app's wizard finds its people (kept in app.extensions["wizard"])."""

    hosted: bool  # mounted in a host app: the host logs people in
    identify: Callable[[], HostPerson | None] | None = None  # the host's identity adapter
    base_template: str | None = None  # the host's layout, when the wizard renders inside it
    site_name: str | None = None  # what page titles end with when not the portal's name (the host's)


def mode() -> Mode:
    return current_app.extensions["wizard"]


def _draft_id() -> str | None:
    draft_id = (request.view_args or {}).get("draft_id")
    return draft_id if isinstance(draft_id, str) else None


def _visitor() -> User | Anonymous:
    if "wizard_visitor" not in g:
        # Nobody until found: if finding them fails, the error page (which asks again) sees nobody
        # instead of failing the same way again.
        g.wizard_visitor = Anonymous()
        g.wizard_visitor = _hosted_visitor() if mode().hosted else _logged_in_visitor()
    return g.wizard_visitor


def known_visitor() -> User | Anonymous | None:
    """The visitor if this request has looked them up already, else None (without looking)."""
    return g.get("wizard_visitor")


def _logged_in_visitor() -> User | Anonymous:
    """Standalone: the person of the login session (auth.load_user read them with their visit)."""
    user = login_current_user._get_current_object()
    return user if user.is_authenticated else Anonymous()


def _hosted_visitor() -> User | Anonymous:
    """Mounted: the host's person, provisioned into the wizard's own rows when new or changed."""
    adapter = mode().identify
    person = adapter() if adapter is not None else None
    if person is None:
        return Anonymous()
    if not isinstance(person, HostPerson):
        raise TypeError(f"the identity adapter must return a wizard.HostPerson or None, not {type(person).__name__}")
    sess, today, draft_id = db.session(), clock.today(), _draft_id()
    visit = identity.load_hosted(sess, person.key, today, draft_id)
    if visit is None or not identity.up_to_date(visit, person):
        # The first visit of a person, or one whose name, e-mail or permissions changed in the
        # host: written in its own short transaction, so even a GET writes only then (an SSO login).
        identity.provision(db.engine(), person, utcnow())
        sess.expire_all()
        visit = identity.load_hosted(sess, person.key, today, draft_id)
    if visit is None:
        return Anonymous()
    if not visit.user.active:  # the wizard's owner switched this person off
        return SwitchedOff()
    g.visit = visit
    visit.user.login_token = identity.HOSTED_LOGIN
    return visit.user


current_user: User = LocalProxy(_visitor)  # type: ignore[assignment]
