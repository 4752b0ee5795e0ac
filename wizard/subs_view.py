"""The wizard blueprint: Organization Settings pages (Account → Subs, Users & Teams → Users)."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from . import db, drafts
from .models import Sim, Subscription
from .permissions import requires
from .forms import KIND

bp = Blueprint("subs", __name__)


@bp.route("/")
@requires(None)
def index():
    """The settings home sends buyers to Subs."""
    return redirect(url_for("subs.subs"))


@bp.route("/settings/account/subs")
@requires("account")
def subs():
    """Account → Subs: start a purchase, or resume an unfinished one."""
    sess = db.session()
    open_drafts = [(d, drafts.progress(d)) for d in drafts.list_open(sess, current_user)]
    subscriptions = sess.scalars(
        select(Subscription).where(Subscription.organisation_id == current_user.organisation_id)
        .order_by(Subscription.created_at.desc())
    ).all()
    esim_ids = set(sess.scalars(select(Sim.subscription_id).where(
        Sim.kind == "esim", Sim.subscription_id.in_([s.id for s in subscriptions]))))
    return render_template("subs.html", drafts=open_drafts, subscriptions=subscriptions, kinds=KIND, esim_ids=esim_ids)
