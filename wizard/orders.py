"""Save: re-check every answer against today's data, then buy in one transaction, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, flash, url_for
from flask_babel import get_locale, gettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from . import drafts, flow, mail, numbers, outbox, pricing, queue, review
from .context import StepContext
from .effects import HOLDING_CHOICES
from .models import AuditEvent, MexPair, Order, PhoneNumber, Sim, Subscription, User
from .sim import activation_code, grouped
from .steps import STEPS


@dataclass
class Problem:
    """A step whose stored answer no longer holds, with the messages to show there."""

    step: str
    errors: dict


def bind_form(step, ctx: StepContext, formdata, csrf: bool = True):
    """Build a step's form on formdata, mark the follow-up fields whose option is not chosen as
    ignored (they are shown, never validated or stored), then fill the choices validation needs."""
    form = step.form(formdata=formdata, meta={"csrf": csrf})
    current = {**ctx.answers, step.key: {n: f.data for n, f in form._fields.items()}}
    form.ignored = frozenset(set(step.reveals) - flow.visible_fields(step, current))
    form.prepare(ctx)
    return form


def as_formdata(values: dict) -> MultiDict:
    """Stored answers as the form post that would have produced them."""
    data: MultiDict = MultiDict()
    for key, value in values.items():
        if value is True:
            data[key] = "y"
        elif value not in (None, False):
            data[key] = str(value)
    if values.get("icc"):
        data["icc"] = grouped(values["icc"])
    if values.get("choice") in {"new", "specific", "reserved"}:
        data["specific_number"] = data["reserved_number"] = str(values.get("number_id", ""))
    return data


def number_e164(answers: dict) -> str:
    """The order's number: the one moved here (the Porting step's), else the one the Number step chose."""
    return (answers["porting"] if answers["number"]["choice"] == "port" else answers["number"])["e164"]


def recheck(ctx: StepContext) -> Problem | None:
    """Re-validate every step on the route against current data (django-formtools' render_done)."""
    for step in flow.path(STEPS, ctx.answers):
        if step.final:
            continue
        values = ctx.answers.get(step.key)
        if values is None:
            return Problem(step.key, {})
        if step.key == "number" and values.get("choice") in HOLDING_CHOICES:
            number_id = int(values["number_id"])
            if not (ctx.holding(number_id) or numbers.is_available(ctx.sess, number_id, ctx.draft.id, ctx.now)):
                return Problem(
                    step.key, {"choice": [gettext("Your held number was released or taken. Choose the number again.")]}
                )
            continue
        form = bind_form(step, ctx, as_formdata(values), csrf=False)
        if not form.validate():
            return Problem(step.key, form.errors)
    return None


def existing(sess: Session, draft_id: str) -> Subscription | None:
    return sess.scalar(select(Subscription).where(Subscription.draft_id == draft_id))


STALE = "stale"  # Problem.step when the draft changed after the buyer checked the answers


def place(ctx: StepContext, buyer: User, checked_version: int | None) -> Subscription | Problem:
    """Create the subscription, assign the number, record the SIM and MEX pair, audit, close the draft.

    A second Save of the same draft (double click, resent POST, another tab) finds the
    first one's subscription; the unique draft_id makes a duplicate impossible.
    """
    sess, draft = ctx.sess, ctx.draft
    if not drafts.close(sess, draft, checked_version, ctx.now, "submitted"):
        # another request saved it first, or changed an answer meanwhile
        sess.rollback()
        return existing(sess, draft.id) or Problem(STALE, {})
    problem = recheck(ctx)
    if problem is not None:
        sess.rollback()
        return problem
    try:
        subscription, messages = _buy(ctx, buyer)
        sess.commit()
    except IntegrityError:
        sess.rollback()
        return existing(sess, draft.id) or Problem("review", {"save": ["conflict"]})
    except Taken as taken:
        sess.rollback()
        return Problem(taken.step, {taken.field: [taken.message]})
    queue.of().enqueue(messages)  # after the commit: a worker must find the rows
    return subscription


def at_limit(sess: Session, user: User) -> bool:
    """Whether this buyer has as many unfinished orders as they may have (then says so)."""
    started = drafts.count_started_by(sess, user)
    if started < current_app.config["MAX_OPEN_DRAFTS_PER_USER"]:
        return False
    flash(
        gettext("You have %(n)s unfinished orders. Finish or discard one before you start another.", n=started),
        "warning",
    )
    return True


def reference(year: int, order_id: int) -> str:
    """The order's reference as people read it out: NB-2026-000123 (the Stockholm year it was placed,
    the order's id). Unique because the id is; six digits sort and look alike until the millionth."""
    return f"NB-{year}-{order_id:06d}"


class Taken(Exception):
    """A number the answers name was taken by another order between the check and the purchase."""

    def __init__(self, step, field, message):
        super().__init__(message)
        self.step, self.field, self.message = step, field, message


def _buy(ctx: StepContext, buyer: User) -> tuple[Subscription, list[int]]:
    order = new_order(ctx, buyer)
    subscription, quote = add_subscription(ctx, buyer, order)
    messages = _messages(ctx, buyer, order, subscription, quote)
    ctx.sess.flush()
    return subscription, messages


def new_order(ctx: StepContext, buyer: User) -> Order:
    """The order of this Save (one per draft: a resent Save cannot make a second), with its reference."""
    order = Order(organisation_id=ctx.org.id, draft_id=ctx.draft.id, buyer_id=buyer.id, created_at=ctx.now)
    ctx.sess.add(order)
    ctx.sess.flush()  # its id makes the reference, written with the next flush
    order.reference = reference(ctx.today.year, order.id)
    return order


def add_subscription(ctx: StepContext, buyer: User, order: Order) -> tuple[Subscription, pricing.Quote]:
    """Buy what ctx.answers (one subscription's answers, checked) describe, under `order`: assign the
    number, record the subscription with its price lines, the SIM and the MEX pair, and audit it."""
    sess, draft, a, org = ctx.sess, ctx.draft, ctx.answers, ctx.org
    quote = pricing.quote(ctx.prices(), ctx.contract, a, ctx.today)
    kind = a["type"]["kind"]
    pbx = a["pbx"]["mode"] == "pbx"
    user_id = int(a["user"]["user_id"])
    number_id = _number(ctx, kind, user_id, pbx)
    e164 = number_e164(a)
    basis = a["price_basis"]["basis"]
    call_rate = pricing.find(ctx.prices(), "call_rate", a["call_rate"]["code"])
    assert call_rate is not None, "recheck() found the call rate a moment ago, in this transaction"
    data_package = (
        pricing.find(ctx.prices(), "data_package", a["data_package"]["code"]) if "data_package" in a else None
    )
    porting = a["number"]["choice"] == "port"
    subscription = Subscription(
        organisation_id=org.id,
        draft_id=draft.id,
        order_id=order.id,
        kind=kind,
        price_basis=basis,
        call_rate_id=call_rate.id,
        data_package_id=data_package.id if data_package else None,
        number_id=number_id,
        user_id=user_id,
        pbx=pbx,
        top_up=(a["top_up"]["top_up"] == "yes") if "top_up" in a else None,
        monthly_ore=quote.monthly_ore,
        one_off_ore=quote.one_off_ore,
        price_lines=[
            {"item_id": item.id, "monthly_ore": monthly, "one_off_ore": one_off}
            for item, monthly, one_off in quote.lines
        ],
        binding_ends_on=quote.binding_ends_on,
        status="pending_port" if porting else "active",
        porting_status="submitted" if porting else None,
        porting_date=date.fromisoformat(a["porting"]["port_date"]) if porting else None,
        created_by_id=buyer.id,
        created_at=ctx.now,
    )
    subscription.order = order
    sess.add(subscription)
    sess.flush()
    if kind == "mobile":
        sim = a["sim"]
        sess.add(
            Sim(
                subscription_id=subscription.id,
                kind=sim["sim_kind"],
                icc=sim.get("icc"),
                activation_code=activation_code(current_app.config["ESIM_SMDP_ADDRESS"])
                if sim["sim_kind"] == "esim"
                else None,
            )
        )
    if pbx and a["pbx"].get("mex"):
        partner_id = int(a["mex"]["mex_partner"])
        ids = {kind: number_id, "fixed" if kind == "mobile" else "mobile": partner_id}
        sess.add(
            MexPair(
                organisation_id=org.id, user_id=user_id, fixed_number_id=ids["fixed"], mobile_number_id=ids["mobile"]
            )
        )
    sess.add(
        AuditEvent(
            organisation_id=org.id,
            actor_id=buyer.id,
            action="subscription.purchased",
            subject=f"subscription:{subscription.id}",
            created_at=ctx.now,
            data={
                "draft": draft.id,
                "number": e164,
                "kind": kind,
                "basis": basis,
                "order": order.reference,
                # Save refuses a bound order until the buyer ticks "I accept the binding period until ...".
                "binding_accepted_until": quote.binding_ends_on.isoformat() if quote.binding_ends_on else None,
                **({"port_date": a["porting"]["port_date"]} if porting else {}),
            },
        )
    )
    return subscription, quote


def _messages(
    ctx: StepContext, buyer: User, order: Order, subscription: Subscription, quote: pricing.Quote
) -> list[int]:
    """The e-mails about this order, into the outbox with it: a confirmation to the buyer and, for an
    eSIM, the link to its page to the person who will use it. Each in its reader's language: the one
    they chose (users.locale), else the language the buyer is using now."""
    speaking = str(get_locale())
    # Usually no statement: checking the User step loaded the organisation's people into this session,
    # where the answers' descriptions below find the user too.
    user = ctx.sess.get_one(User, subscription.user_id)
    esim = ctx.answers.get("sim", {}).get("sim_kind") == "esim"
    esim_url = url_for("wizard.subscriptions.esim", subscription_id=subscription.id, _external=True) if esim else None
    about: dict[str, Any] = {
        "order": order,
        "subscription": subscription,
        "organisation": ctx.org,
        "buyer": buyer,
        "user": user,
        "number": number_e164(ctx.answers),
        "esim_url": esim_url,
    }
    readers = [("order_confirmation", buyer)]
    if esim and user.id != buyer.id:  # the buyer's own eSIM link is in their confirmation
        readers.append(("esim_ready", user))
    letters = [
        mail.letter(kind, reader, speaking, rows=review.rows(ctx), lines=quote.lines, **about)
        for kind, reader in readers
    ]
    return outbox.add(ctx.sess, ctx.org.id, order.id, letters, ctx.now)


def _number(ctx: StepContext, kind: str, user_id: int, pbx: bool) -> int:
    """The id of the order's number, now assigned to the user: a ported one is added to our pool."""
    sess, a = ctx.sess, ctx.answers["number"]
    if a["choice"] == "port":
        e164 = number_e164(ctx.answers)
        # A number whose earlier port failed is still a row (its cancelled subscription names it):
        # ordered again, the same row comes back to life, taken with a conditional UPDATE.
        again = sess.scalar(
            update(PhoneNumber)
            .where(PhoneNumber.e164 == e164, PhoneNumber.status == "gone")
            .values(status="assigned", kind=kind, organisation_id=ctx.org.id, user_id=user_id, pbx=pbx)
            .returning(PhoneNumber.id)
            .execution_options(synchronize_session=False)
        )
        if again is not None:
            return again
        number = PhoneNumber(
            e164=e164, kind=kind, status="assigned", organisation_id=ctx.org.id, user_id=user_id, pbx=pbx
        )
        sess.add(number)
        sess.flush()
        return number.id
    number_id = int(a["number_id"])
    if not numbers.assign(
        sess, number_id, ctx.draft.id, ctx.org.id, user_id, pbx, ctx.now, reserved=a["choice"] == "reserved"
    ):
        raise Taken("number", "choice", gettext("That number was just taken. Choose another."))
    return number_id
