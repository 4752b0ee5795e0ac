"""The way into the wizard framed in another site: /embed?parent=<that site's origin>.

The parent is remembered in the session (a cookie; a GET writes no row), so the pages that follow
use the layout without the portal's chrome and may be framed by that parent alone (embedding.py).
"""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from . import embedding
from .visitor import current_user

bp = Blueprint("embed", __name__)


@bp.route("/embed")
def start():
    """Start framed: remember the parent when it may frame the wizard, then go to Subs (through the
    login when nobody is logged in); otherwise say why not, in a page nobody may frame."""
    origin = embedding.parse_origin(request.args.get("parent", ""))
    refusal = _refusal(origin)
    if refusal is not None:
        embedding.forbid_framing()
        return render_template("wizard/embed_refused.html", reason=refusal), 403
    session[embedding.EMBED_KEY] = origin
    return redirect(url_for("wizard.subs.subs"))


def _refusal(origin: str | None) -> str | None:
    """Why this parent may not frame the wizard, or None when it may."""
    if not current_app.config["EMBEDDING"]:
        return _("Showing the wizard inside another site is switched off on this server.")
    if origin is None:
        return _("The address does not name the site to show the wizard in (parent=https://…).")
    if request.headers.get("Sec-Fetch-Dest", "iframe") not in ("iframe", "frame"):
        # Opened as a page of its own (a link, the address bar): entering the framed mode there would
        # only hide the portal's navigation. Browsers too old to say are let through.
        return _("This address only works inside the page of your intranet that shows the wizard.")
    if embedding.may_frame(origin):
        return None
    if current_user.is_authenticated:
        return _("%(origin)s may not show the wizard for your organisation.", origin=origin)
    return _("%(origin)s may not show the wizard.", origin=origin)
