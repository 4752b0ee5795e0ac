"""After the purchase: a subscription's page (what was bought, for whom, at what price, and what has
happened to it since, from the audit log), cancelling a port request, and the eSIM page."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from . import clock, db, mex, notify, porting, queue, sim
from .models import AuditEvent, MexPair, PriceItem, Sim, Subscription, User
from .numbers import national
from .permissions import requires
from .visitor import current_user

bp = Blueprint("subscriptions", __name__)

SUBSCRIPTION = "/settings/account/subs/subscriptions/<int(max=2147483647):subscription_id>"


def of_organisation(subscription_id: int) -> Subscription:
    """The subscription with its number, user and order (one statement), or 404 when it is not this
    organisation's (another tenant's ids are never confirmed)."""
    subscription = db.session().scalar(
        select(Subscription)
        .options(joinedload(Subscription.number), joinedload(Subscription.user), joinedload(Subscription.order))
        .where(Subscription.id == subscription_id, Subscription.organisation_id == current_user.organisation_id)
    )
    return subscription or abort(404)


def timeline(subscription: Subscription) -> list[tuple[AuditEvent, User | None]]:
    """What happened to this subscription, oldest first, each with who did it (None: the operator):
    its purchase, porting changes and a MEX pair removed with a failed port (one statement)."""
    sess = db.session()
    rows = sess.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.organisation_id == subscription.organisation_id,
            AuditEvent.subject == f"subscription:{subscription.id}",
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    return [(row.AuditEvent, row.User) for row in rows]


def price_lines(subscription: Subscription) -> list[tuple[PriceItem, int, int]]:
    """The price lines as bought, with their items for the names."""
    lines = subscription.price_lines or []
    if not lines:
        return []
    items = {
        item.id: item
        for item in db.session().scalars(select(PriceItem).where(PriceItem.id.in_([line["item_id"] for line in lines])))
    }
    return [
        (items[line["item_id"]], line["monthly_ore"], line["one_off_ore"]) for line in lines if line["item_id"] in items
    ]


@bp.route(SUBSCRIPTION)
@requires("account")
def show(subscription_id):
    """A subscription's page: number, person, price, SIM, MEX, its history, and what can be done."""
    subscription = of_organisation(subscription_id)
    sess = db.session()
    card = sess.scalar(select(Sim).where(Sim.subscription_id == subscription.id))
    pair = sess.scalar(
        select(MexPair)
        .options(joinedload(MexPair.fixed_number), joinedload(MexPair.mobile_number))
        .where(
            or_(MexPair.fixed_number_id == subscription.number_id, MexPair.mobile_number_id == subscription.number_id)
        )
    )
    partner = None
    if pair is not None and subscription.status != "cancelled":
        partner = pair.mobile_number if pair.fixed_number_id == subscription.number_id else pair.fixed_number
    return render_template(
        "wizard/subscription.html",
        subscription=subscription,
        sim=card,
        partner=partner,
        lines=price_lines(subscription),
        events=timeline(subscription),
        cancel_refusal=cancel_refusal(subscription),
        esim_allowed=card is not None
        and card.kind == "esim"
        and subscription.status != "cancelled"
        and current_user.id in (subscription.created_by_id, subscription.user_id),
    )


def cancel_refusal(subscription: Subscription) -> str | None:
    """Why this port cannot be cancelled now (None when it can; '' when it is not a port at all)."""
    if subscription.porting_status is None:
        return ""
    return porting.cancel_refusal(subscription, clock.today(), current_app.config["SUPPORT_PHONE"])


@bp.route(f"{SUBSCRIPTION}/cancel-port", methods=["GET", "POST"])
@requires("account")
def cancel_port(subscription_id):
    """Ask, then cancel a port request: the subscription is cancelled, the number stays with its
    operator and leaves the person and any MEX pair; audited as done by this person, and the buyer
    is told by e-mail."""
    subscription = of_organisation(subscription_id)
    refusal = cancel_refusal(subscription)
    if refusal is None and request.method == "POST":
        sess = db.session()
        now = clock.now()
        try:
            change = porting.change_porting(sess, subscription, "cancelled", now, current_user.id)
            letters = notify.porting_changed(sess, change, now)
            sess.commit()
        except porting.PortingError:  # moved meanwhile (the operator's callback came first)
            sess.rollback()
            flash(_("The port request changed meanwhile. Check its status below."), "warning")
            return redirect(url_for("wizard.subscriptions.show", subscription_id=subscription_id), 303)
        queue.of().enqueue(letters)
        flash(_("The port request for %(number)s is cancelled.", number=national(subscription.number.e164)), "success")
        return redirect(url_for("wizard.subscriptions.show", subscription_id=subscription.id), 303)
    if refusal is not None and request.method == "POST":
        flash(refusal or _("Only a port that is submitted or scheduled can be cancelled."), "warning")
        return redirect(url_for("wizard.subscriptions.show", subscription_id=subscription.id), 303)
    if refusal is not None:
        return redirect(url_for("wizard.subscriptions.show", subscription_id=subscription.id))
    pair = mex.pair_for(db.session(), subscription.number_id)
    return render_template("wizard/cancel_port.html", subscription=subscription, paired=pair is not None)


@bp.route(f"{SUBSCRIPTION}/esim")
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
    if subscription.status == "cancelled":
        abort(410)  # no line to connect: its activation code must not be installed any more
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
