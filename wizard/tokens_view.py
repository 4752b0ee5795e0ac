"""Settings → Account → API tokens: make a personal API token, see one's tokens, revoke them.

A new token is in the response to the POST that made it and nowhere else: it is not stored (only its
hash), nor put in the session for a redirect to show, so reloading or coming back never shows it
again. Revoking redirects as usual; the owner sees and may revoke the organisation's tokens.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from . import audit, db, tokens
from .clock import now
from .db import INTEGER_MAX
from .inputs import AtMost, NoControlCharacters
from .permissions import requires
from .visitor import current_user

bp = Blueprint("tokens", __name__)


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
    if not form.validate():
        return render(form, status=422)
    sess = db.session()
    token, raw = tokens.create(sess, current_user, form.name.data.strip(), now())
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


@bp.route(f"/settings/account/api-tokens/<int(max={INTEGER_MAX}):token_id>/revoke", methods=["POST"])
@requires(tokens.PERMISSION)
def revoke(token_id):
    """Revoke a token at once: the API refuses it from the next request on. 404 for anyone else's."""
    sess = db.session()
    token = tokens.find(sess, token_id, current_user)
    if token is None:
        abort(404)  # another person's or organisation's: the same answer as for no token at all
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
