"""The wizard blueprint: Organization Settings pages (Account → Subs, Users & Teams → Users)."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from . import db
from .models import Draft
from .permissions import requires

bp = Blueprint("wizard", __name__)


@bp.route("/")
@requires(None)
def index():
    """The settings home sends buyers to Subs."""
    return redirect(url_for("wizard.subs"))


@bp.route("/settings/account/subs")
@requires("account")
def subs():
    """Account → Subs: start a purchase, or resume an unfinished one."""
    query = select(Draft).where(Draft.organisation_id == current_user.organisation_id, Draft.status == "open")
    if not current_user.is_owner:
        query = query.where(Draft.created_by_id == current_user.id)
    drafts = db.session().scalars(query.order_by(Draft.updated_at.desc())).all()
    return render_template("subs.html", drafts=drafts)


@bp.route("/settings/users")
@requires("users")
def users():
    """Users & Teams → Users."""
    return render_template("users.html")
