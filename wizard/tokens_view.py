"""Settings → Account → API tokens: make a personal API token, see one's tokens, revoke them.

A new token is in the response to the POST that made it and nowhere else: it is not stored (only its
hash), nor put in the session for a redirect to show, so reloading or coming back never shows it
again; a reload that posts the form again makes no second token (see `ONCE`). Revoking asks
first, on a page of its own, then redirects as usual; the owner sees and may revoke the
organisation's tokens.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired

from . import audit, db, tokens
from .clock import now
from .db import INTEGER_MAX
from .inputs import AtMost, NoControlCharacters
from .permissions import requires
from .visitor import current_user

bp = Blueprint("tokens", __name__)

# A reload of the page that showed a new token posts its form again, and a double click may send it
# twice at once. To make both harmless, each form carries a one-time value (`once`, random, made when
# the form is rendered), stored with the token it made under a unique index: a second post of the same
# form breaks that index and makes nothing, and the page says so. The other way, POST/redirect/GET,
# would need the raw token to survive until the GET: in the session (Flask's cookie is signed, not
# encrypted: the token would sit readable in the browser's cookie jar) or on the server (which must
# never hold it). So the token stays in the POST's own response (no-store, like every page). A GET
# writes nothing, so tabs each have a form of their own.
ONCE = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)


def new_once() -> str:
    return secrets.token_urlsafe(16)


class TokenForm(FlaskForm):
    """The name of a new token: what it is for, so that its owner knows which one to revoke."""

    name = StringField(
        _l("Token name"),
        validators=[
            DataRequired(_l("Enter a name for the token")),
            NoControlCharacters(),
            AtMost(100),
        ],
    )
    once = HiddenField(default=new_once)


def render(form: TokenForm, new_token: str | None = None, status: int = 200):
    """The page: the form, a new token (once, right after it was made) and the list."""
    listed = tokens.list_for(db.session(), current_user)
    return render_template("wizard/api_tokens.html", form=form, new_token=new_token, tokens=listed), status


@bp.route("/settings/account/api-tokens", methods=["GET", "POST"])
@requires(tokens.PERMISSION)
def api_tokens():
    """List the tokens; on POST make one and show it this once."""
    form = TokenForm()
    if not form.is_submitted():
        return render(form)
    once = request.form.get("once", "")  # not form.once.data: a field missing from the post gets its default
    if not ONCE.fullmatch(once):
        abort(400)  # not a form of this page (or of a release before `once`): the page asks to try again
    if not form.validate():
        return render(form, status=422)
    sess = db.session()
    try:
        token, raw = tokens.create(sess, current_user, form.name.data.strip(), now(), form_once=once)
    except IntegrityError:  # this form made a token already (a reload, or a second click at once)
        sess.rollback()
        flash(_("This token was made already; it is shown only once."), "warning")
        return redirect(url_for("wizard.tokens.api_tokens"), 303)
    audit.record(
        sess,
        current_user.organisation_id,
        current_user.id,
        "token.created",
        f"token:{token.id}",
        now(),
        name=token.name,
    )
    sess.commit()
    return render(TokenForm(formdata=None), new_token=raw)


@bp.route(f"/settings/account/api-tokens/<int(max={INTEGER_MAX}):token_id>/revoke", methods=["GET", "POST"])
@requires(tokens.PERMISSION)
def revoke(token_id):
    """Ask, then revoke a token: the API refuses it from the next request on. 404 for anyone else's."""
    sess = db.session()
    token = tokens.find(sess, token_id, current_user)
    if token is None:
        abort(404)  # another person's or organisation's: the same answer as for no token at all
    if request.method == "GET":
        if token.revoked_at is not None:
            return redirect(url_for("wizard.tokens.api_tokens"))  # the list says since when
        return render_template("wizard/api_tokens.html", revoking=token)
    if tokens.revoke(sess, token_id, current_user, now()):
        audit.record(
            sess,
            current_user.organisation_id,
            current_user.id,
            "token.revoked",
            f"token:{token.id}",
            now(),
            name=token.name,
        )
        sess.commit()
        flash(_("Token “%(name)s” revoked. It no longer works.", name=token.name), "success")
    else:
        flash(_("Token “%(name)s” was already revoked.", name=token.name), "success")
    return redirect(url_for("wizard.tokens.api_tokens"), 303)
