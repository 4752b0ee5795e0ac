"""E-mail after the purchase: the buyer hears when a port is scheduled, completed, rejected or
cancelled. The letter is written to the outbox in the transaction that moves the port (so it exists
exactly when the change does) and delivered by the queue, as the order confirmation is."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import mail, outbox
from .models import Order, User
from .porting import PortingChange

TOLD = ("scheduled", "completed", "rejected", "cancelled")  # "submitted" is the order confirmation's news


def link_context():
    """Links in a letter written outside a request (the operator's command line) are made against
    PUBLIC_URL, the address people reach the wizard at."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"])


def porting_changed(sess: Session, change: PortingChange, now: datetime) -> list[int]:
    """Write the buyer's letter about this porting change to the outbox (ids to enqueue after commit)."""
    if change.new not in TOLD:
        return []
    subscription = change.subscription
    buyer = sess.scalars(select(User).where(User.id == subscription.created_by_id)).one()
    order = sess.get(Order, subscription.order_id) if subscription.order_id else None
    speaking = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    with link_context():
        page = url_for("wizard.subscriptions.show", subscription_id=subscription.id, _external=True)
    letter = mail.letter(
        "porting_update",
        buyer,
        speaking,
        key=f"porting_{change.new}",
        status=change.new,
        number=subscription.number.e164,
        porting_date=subscription.porting_date,
        reason=change.reason,
        order=order,
        buyer=buyer,
        page=page,
    )
    return outbox.add(sess, subscription.organisation_id, subscription.order_id, [letter], now)


def batch_bought(ctx, buyer: User, order: Order, bought: list[tuple[Any, dict]]) -> list[int]:
    """The e-mails of a batch, into the outbox with it: one confirmation to the buyer listing every
    line, and to each person who gets an eSIM, the link to its page (a message per eSIM)."""
    speaking = str(get_locale())
    subscriptions = [subscription for subscription, _answers in bought]
    users = {u.id: u for u in ctx.sess.scalars(select(User).where(User.id.in_({s.user_id for s in subscriptions})))}
    esims = [s for s, answers in bought if answers.get("sim", {}).get("sim_kind") == "esim"]
    letters = [
        mail.letter(
            "batch_confirmation",
            buyer,
            speaking,
            order=order,
            buyer=buyer,
            organisation=ctx.org,
            lines=[(s, users[s.user_id]) for s in subscriptions],
            monthly_ore=sum(s.monthly_ore for s in subscriptions),
            one_off_ore=sum(s.one_off_ore for s in subscriptions),
            esim_urls={s.id: url_for("wizard.subscriptions.esim", subscription_id=s.id, _external=True) for s in esims},
        )
    ]
    for subscription in esims:
        user = users[subscription.user_id]
        if user.id == buyer.id:
            continue  # the buyer's own eSIM links are in their confirmation
        letters.append(
            mail.letter(
                "esim_ready",
                user,
                speaking,
                key=f"esim_ready_{subscription.id}",
                order=order,
                buyer=buyer,
                user=user,
                number=subscription.number.e164,
                esim_url=url_for("wizard.subscriptions.esim", subscription_id=subscription.id, _external=True),
            )
        )
    return outbox.add(ctx.sess, ctx.org.id, order.id, letters, ctx.now)
