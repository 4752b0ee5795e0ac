"""A bought subscription's eSIM page: the QR code, re-openable by the buyer and the user only."""

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from . import db, sim
from .models import Sim, Subscription
from .permissions import requires
from .visitor import current_user

bp = Blueprint("subscriptions", __name__)


@bp.route("/settings/account/subs/subscriptions/<int(max=2147483647):subscription_id>/esim")
@requires(None)
def esim(subscription_id):
    """The activation code as QR code and text, with instructions; printable."""
    sess = db.session()
    subscription = sess.get(Subscription, subscription_id)
    if (
        subscription is None
        or subscription.organisation_id != current_user.organisation_id
        or current_user.id not in (subscription.created_by_id, subscription.user_id)
    ):
        abort(404)
    card = sess.scalar(select(Sim).where(Sim.subscription_id == subscription.id, Sim.kind == "esim")) or abort(404)
    code = card.activation_code
    assert code is not None  # every eSIM gets its activation code when it is bought
    address, matching_id = sim.parts(code)
    qr = Markup(sim.qr_svg(code, _("QR code for the eSIM of %(number)s", number=subscription.number.e164)))
    return render_template(
        "wizard/esim.html",
        subscription=subscription,
        code=card.activation_code,
        qr=qr,
        address=address,
        matching_id=matching_id,
    )
