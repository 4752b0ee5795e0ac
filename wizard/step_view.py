"""One generic view for every step of every order: GET shows it, POST saves it (Post/Redirect/Get).

htmx requests get only the step block (jinja2-fragments) and the step's URL to push,
so back and forward move between steps; without JavaScript the same forms post normally.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import db, drafts, effects, flow, numbers, orders, prefill, pricing, requestlog, review
from .clock import now
from .context import StepContext
from .db import as_int
from .effects import HOLDING_CHOICES
from .forms import KIND, SaveForm
from .fragments import current_url, is_fragment_request, page_or_fragment, whole_page
from .i18n import day
from .inputs import register_converters
from .models import Draft, Sim, Subscription
from .orders import as_formdata, bind_form
from .permissions import requires
from .steps import BY_KEY, STEPS
from .templating import unbroken
from .visitor import current_user

bp = Blueprint("orders", __name__)
bp.record_once(register_converters)  # <draft:...> below: before the routes are added


ORDERS = "/settings/account/subs/orders"


def open_draft(draft_id: str, batch_ok: bool = False):
    """The order the URL names when this person may see it (else 404), and the number it holds.
    Both were read with the login (identity.py); off that path they are read here. A batch (an order
    for several people) has no steps: only resume and discard take one (`batch_ok`)."""
    visit = g.get("visit")
    if visit is not None and visit.draft_id == draft_id:
        found = drafts.check_open(current_user, visit.draft) or abort(404), visit.held
    else:
        found = read_draft(draft_id)
    if found[0].kind == "batch" and not batch_ok:
        abort(404)
    return found


def read_draft(draft_id: str):
    """The order and the number it holds, read now (after a rollback, or off the login's path)."""
    draft = drafts.get_open(db.session(), current_user, draft_id) or abort(404)
    return draft, numbers.held_by(db.session(), draft.id)


def context(draft, held, notify: bool = False) -> StepContext:
    """The order's context for this request, its number answer checked against its hold."""
    ctx = StepContext.now_for(draft, g.visit.organisation, g.visit.contract, held)
    if draft.status == "open":
        reconcile_hold(ctx, notify)
    return ctx


def reconcile_hold(ctx: StepContext, notify: bool) -> None:
    """A number hold may run out while an order waits. Nothing is written here (a GET never
    writes): a number still free is held again by the next save (effects.settle); one that was
    taken meanwhile is left out of the answers, so the route asks for a number again."""
    chosen = ctx.answers.get("number", {})
    if chosen.get("choice") not in HOLDING_CHOICES or ctx.holding(as_int(chosen.get("number_id"))):
        return
    shown = unbroken(numbers.national(chosen["e164"]))
    if numbers.is_available(ctx.sess, int(chosen["number_id"]), ctx.draft.id, ctx.now):
        if notify:
            flash(
                _(
                    "Your hold on %(number)s had run out. It is still free, and it is held for you again when you continue.",
                    number=shown,
                ),
                "warning",
            )
        return
    ctx.answers = {k: v for k, v in ctx.answers.items() if k != "number"}
    if notify:
        flash(_("%(number)s was taken while your order waited. Choose another number.", number=shown), "warning")


def step_url(draft, key, **params):
    return url_for("wizard.orders.step", draft_id=draft.id, step_key=key, **params)


def render(step, ctx, status=200, push=False, **extra):
    """The step page, or only its block for htmx (then with the URL to push on success)."""
    route = flow.path(STEPS, ctx.answers)
    form = extra.get("form")
    if form is not None:
        form.decorate(ctx)
        if status == 200 and form.errors:  # decorate checked a field (the Number step's search text)
            status = 422
    if not step.final and not extra.get("stale"):
        extra.update(summary=order_summary(step, ctx, request.form), priced=pricing.PRICED_FIELDS)
    failed = status in (409, 422)
    page_title = _("%(step)s – New subscription", step=step.title)
    if failed:
        page_title = _("Error: %(title)s", title=page_title)
    return_to = request.values.get("return", "")
    return page_or_fragment(
        "wizard/step.html",
        "step",
        status,
        push_url=current_url() if push else None,
        step=step,
        ctx=ctx,
        draft=ctx.draft,
        route=route,
        page_title=page_title,
        position=[s.key for s in route].index(step.key) + 1,
        return_to=return_to,
        back_url=back_url(ctx, step, return_to),
        held_note=held_note(step, ctx, route),
        link_dropped=prefill.dropped_messages(ctx.draft, step.key) if step.key not in ctx.answers else [],
        **extra,
    )


def back_url(ctx, step, return_to: str) -> str:
    """Where Back goes: Check your answers when the buyer came from there, else the previous step on
    the route (never the browser's history), else Subs."""
    if return_to == "review" and flow.first_incomplete(STEPS, ctx.answers).final and not step.final:
        return step_url(ctx.draft, "review")
    before = flow.previous_step(STEPS, ctx.answers, step.key)
    return step_url(ctx.draft, before.key) if before else url_for("wizard.subs.subs")


def held_note(step, ctx, route):
    """The number the order holds, to name with its expiry on the step right after the Number step
    (where the buyer first learns which new number they got) and on Check your answers."""
    keys = [s.key for s in route]
    chosen = ctx.answers.get("number", {})
    after_number = "number" in keys and keys.index(step.key) == keys.index("number") + 1
    if chosen.get("choice") not in HOLDING_CHOICES or not (after_number or step.final):
        return None
    return ctx.held if ctx.held is not None and ctx.held.id == as_int(chosen.get("number_id")) else None


@bp.route(f"{ORDERS}", methods=["POST"])
@requires("account")
def start_order():
    """Add Subs mobile / Add Subs fixed: a new draft with the type answered."""
    kind = request.form.get("kind")
    if kind not in ("mobile", "fixed"):
        abort(400)
    return start({"type": {"kind": kind}})


def start(answers: dict, starting_values: dict | None = None):
    """A new draft within the open-order limit, then its first step that needs an answer."""
    sess = db.session()
    db.lock_for_write(sess)  # the count and the new draft in one locked transaction: no way past the limit
    if orders.at_limit(sess, current_user):
        return redirect(url_for("wizard.subs.subs"), 303)
    draft = drafts.create(sess, current_user, answers, now(), prefill=starting_values)
    sess.commit()
    return redirect(step_url(draft, flow.first_incomplete(STEPS, draft.answers).key), 303)


@bp.route(f"{ORDERS}/new", methods=["GET", "POST"])
@requires("account")
def new_order():
    """A deep link (README, "Deep links"): GET shows what the link fills in and what it cannot (and
    writes nothing); its Start button POSTs the same values, which start the order."""
    if request.method == "GET":
        found = prefill.check(new_context(), request.args)
        return render_template("wizard/new_order.html", prefill=found)
    found = prefill.check(new_context(), request.form)  # only reads: checked before the lock is taken
    return start(found.answers, found.stored())


def new_context() -> StepContext:
    """The context of an order about to be started: a link's values are checked against it."""
    return context(Draft(organisation_id=current_user.organisation_id, created_by_id=current_user.id, answers={}), None)


@bp.route(f"{ORDERS}/<draft:draft_id>")
@requires("account")
def resume(draft_id):
    """Resume: the first step that still needs an answer."""
    draft, held = open_draft(draft_id, batch_ok=True)
    if draft.kind == "batch":
        return redirect(url_for("wizard.batches.edit", draft_id=draft.id))
    if draft.status == "submitted":
        return redirect(url_for("wizard.orders.done", draft_id=draft.id))
    ctx = context(draft, held)
    return redirect(step_url(draft, flow.first_incomplete(STEPS, ctx.answers).key))


@bp.route(f"{ORDERS}/<draft:draft_id>/<step_key>", methods=["GET", "POST"])
@requires("account")
def step(draft_id, step_key):
    """Show or save one step of one order."""
    if step_key == "save":  # a GET to the Save address (only save_order takes its POST)
        abort(405, valid_methods=["POST"])
    draft, held = open_draft(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.orders.done", draft_id=draft.id), 303)
    step = BY_KEY.get(step_key) or abort(404)
    if request.method == "POST" and as_int(request.form.get("version")) != draft.version:
        return conflict(step, context(draft, held))  # checked before anything costly
    ctx = context(draft, held, notify=request.method == "GET")
    if not flow.can_visit(STEPS, ctx.answers, step.key):
        return redirect(step_url(draft, flow.first_incomplete(STEPS, ctx.answers).key), 303)
    if step.final:
        return renew_hold(step, ctx) if request.method == "POST" else render_review(step, ctx)
    if request.method == "GET":
        return show(step, ctx)
    return save(step, ctx)


def show(step, ctx):
    """The step with its saved answers (or what the buyer typed and left unsaved); after a failed Save
    (?recheck=1) with what no longer holds."""
    typed = prefill.typed(ctx.draft, step.key)
    stored = ctx.answers.get(step.key) or prefill.starting_values(ctx.draft, step.key)
    form = bind_form(step, ctx, typed or (as_formdata(stored) if stored else None))
    status = 200
    if request.args.get("recheck"):
        problem = orders.recheck(ctx)
        if problem is not None and problem.step == step.key:
            for name, errors in problem.errors.items():
                if name in form:
                    form[name].errors = list(errors)
            status = 422
    return render(step, ctx, status, form=form, push=True, typed_kept=typed is not None)


LEAVING = ("back", "later")  # the step's Back and "Save and finish later" buttons (name="_go")


def save(step, ctx):
    """Validate, then in one transaction settle the answers' side effects and write the draft once.
    Back and "Save and finish later" save the same way; when the answer is not valid yet they keep
    what was typed instead (so nothing typed is lost) and leave without an error."""
    form = bind_form(step, ctx, request.form)
    going = request.form.get("_go") if request.form.get("_go") in LEAVING else None
    if form.only_shows_again(request.form):
        return render(step, ctx, form=form, revealing=True)
    if not form.validate():
        if going:
            return keep_typed(step, ctx, form, going)
        return render(step, ctx, 422, form=form)
    answers, dropped = flow.answer(STEPS, ctx.answers, step.key, form.values(ctx))
    kept = prefill.replace_typed(ctx.draft, step.key, None)
    try:
        answers = effects.settle(ctx, answers)
        drafts.save_answers(
            ctx.sess,
            ctx.draft,
            answers,
            ctx.draft.version,
            ctx.now,
            **({"prefill": kept} if kept != ctx.draft.prefill else {}),
        )
    except effects.NumberTaken as taken:
        ctx.sess.rollback()
        if taken.field not in form:  # the order's number went while this step was open: ask again
            return redirect(step_url(ctx.draft, step.key), 303)
        form[taken.field].errors.append(taken.message)
        return render(step, ctx, 422, form=form)
    except drafts.StaleDraft:
        return conflict(step, ctx)
    ctx.sess.commit()
    if dropped:
        flash(
            _(
                "Your change removed answers that no longer apply: %(steps)s.",
                steps=", ".join(str(s.title) for s in dropped),
            ),
            "warning",
        )
    ctx.answers = answers
    if going:
        return leave(step, ctx, going)
    following = flow.next_step(STEPS, answers, step.key)
    resume_at = flow.first_incomplete(STEPS, answers)
    if request.form.get("return") == "review" and resume_at.final:
        following = resume_at
    return redirect(step_url(ctx.draft, following.key), 303)


def keep_typed(step, ctx, form, going):
    """Back or "Save and finish later" on a step not yet answered validly: keep what was typed (one
    conditional UPDATE, none when nothing changed), then leave as asked."""
    kept = prefill.with_typed(ctx.draft, step.key, form, request.form)
    if kept != ctx.draft.prefill:
        try:
            drafts.save_answers(ctx.sess, ctx.draft, ctx.draft.answers, ctx.draft.version, ctx.now, prefill=kept)
        except drafts.StaleDraft:
            return conflict(step, ctx)
        ctx.sess.commit()
    return leave(step, ctx, going)


def leave(step, ctx, going):
    """Back: the previous step (or Check your answers, when the buyer came from there). Later: Subs,
    as a whole page (htmx is told to load it, not to swap it into the step)."""
    if going == "back":
        return redirect(back_url(ctx, step, request.form.get("return", "")), 303)
    flash(_("Your order is saved. Finish it any time from Unfinished orders."), "success")
    return whole_page(url_for("wizard.subs.subs"))


def conflict(step, ctx):
    """409: someone saved this order meanwhile; show a clear message and a reload link."""
    db.session().rollback()
    requestlog.event("draft.conflict", draft=ctx.draft.id, step=step.key, sent=request.form.get("version"))
    return render(step, ctx, 409, form=None, stale=True)


def order_summary(step, ctx, values) -> pricing.Quote:
    """The order summary beside a step: the saved answers with the price-relevant option the buyer has
    chosen on this step now (posted, or sent by htmx when it changed), priced from the price list."""
    shown = replace(ctx, answers=pricing.unsaved(ctx.answers, step.key, values, ctx.prices(), ctx.contract))
    return pricing.quote(shown.prices(), ctx.contract, shown.answers, ctx.today)


@bp.route(f"{ORDERS}/<draft:draft_id>/<step_key>/summary")
@requires("account")
def summary(draft_id, step_key):
    """The order summary of a step with the options it shows now, for htmx to swap in when one changes
    (the query holds the step's own fields only). It only reads; without htmx it is the step itself."""
    draft, held = open_draft(draft_id)
    step = BY_KEY.get(step_key)
    if step is None or step.final:
        abort(404)
    if not is_fragment_request():
        return redirect(step_url(draft, step.key), 303)
    quote = order_summary(step, context(draft, held), request.args)
    return render_template(
        "wizard/order_summary.html", summary=quote, draft=draft, step=step, priced=pricing.PRICED_FIELDS
    )


def renew_hold(step, ctx):
    """Check your answers' "Hold it for me again": the hold that ran out is made again while the number
    is free (effects.settle, the same as any save), then the page is shown anew."""
    try:
        answers = effects.settle(ctx, ctx.answers)
        drafts.save_answers(ctx.sess, ctx.draft, answers, ctx.draft.version, ctx.now)
    except effects.NumberTaken:
        ctx.sess.rollback()
        flash(_("That number was just taken. Choose another."), "warning")
        return redirect(step_url(ctx.draft, "number"), 303)
    except drafts.StaleDraft:
        return conflict(step, ctx)
    ctx.sess.commit()
    return redirect(step_url(ctx.draft, step.key), 303)


def render_review(step, ctx, status=200, save_form=None):
    """Check your answers: every answer, the itemised price and, for a bound order, the binding period
    to accept before Save."""
    rows = review.rows(ctx)
    quote = pricing.quote(ctx.prices(), ctx.contract, ctx.answers, ctx.today)
    if save_form is None:
        save_form = SaveForm(formdata=None, meta={"csrf": False})
    if quote.binding_ends_on:
        save_form.accept_binding.label.text = _(
            "I accept the binding period until %(date)s", date=day(quote.binding_ends_on)
        )
    return render(step, ctx, status, rows=rows, quote=quote, save_form=save_form, form=None, push=status == 200)


def unaccepted_binding(ctx) -> SaveForm | None:
    """Save's form with its error when the order binds the buyer to the contract and the binding
    period was not accepted; None when the order may be bought."""
    form = SaveForm(meta={"csrf": False})
    bound = pricing.quote(ctx.prices(), ctx.contract, ctx.answers, ctx.today).binding_ends_on is not None
    return form if bound and not form.validate() else None


@bp.route(f"{ORDERS}/<draft:draft_id>/save", methods=["POST"])
@requires("account")
def save_order(draft_id):
    """Save: buy exactly once, or send the buyer to the step whose answer no longer holds."""
    draft, held = open_draft(draft_id)
    if draft.status != "submitted":
        ctx = context(draft, held)
        if not flow.first_incomplete(STEPS, ctx.answers).final:
            return redirect(url_for("wizard.orders.resume", draft_id=draft.id), 303)
        refused = unaccepted_binding(ctx)
        if refused is not None:  # the answers stay as they are: the same page again, with the error
            return render_review(BY_KEY["review"], ctx, 422, save_form=refused)
        result = orders.place(ctx, current_user, as_int(request.form.get("version")))
        if isinstance(result, orders.Problem) and result.step == orders.STALE:
            requestlog.event("order.conflict", draft=draft.id, sent=request.form.get("version"))
            return render(BY_KEY["review"], context(*read_draft(draft_id)), 409, form=None, stale=True)
        if isinstance(result, orders.Problem):
            requestlog.event("order.refused", draft=draft.id, step=result.step, fields=",".join(result.errors))
            flash(_("Something changed since you answered. Check this answer and continue."), "warning")
            return redirect(step_url(draft, result.step, recheck=1), 303)
        requestlog.event(
            "order.placed",
            draft=draft.id,
            subscription=result.id,
            order=result.order.reference if result.order else None,
            organisation=draft.organisation_id,
            buyer=current_user.id,
        )
    return redirect(url_for("wizard.orders.done", draft_id=draft.id), 303)


@bp.route(f"{ORDERS}/<draft:draft_id>/done")
@requires("account")
def done(draft_id):
    """The order confirmation (reopenable)."""
    draft, held = open_draft(draft_id)
    found = db.session().execute(
        select(Subscription, Sim)
        .outerjoin(Sim, Sim.subscription_id == Subscription.id)
        .options(joinedload(Subscription.number), joinedload(Subscription.user), joinedload(Subscription.order))
        .where(Subscription.draft_id == draft.id)
    ).first() or abort(404)
    rows = review.rows(context(draft, held))
    return render_template("wizard/done.html", draft=draft, subscription=found.Subscription, rows=rows, sim=found.Sim)


@bp.route(f"{ORDERS}/<draft:draft_id>/discard", methods=["GET", "POST"])
@requires("account")
def discard(draft_id):
    """Ask, then discard an unfinished order and release its number."""
    sess = db.session()
    draft, _held = open_draft(draft_id, batch_ok=True)
    if draft.status == "submitted":
        abort(404)
    if request.method == "POST":
        try:
            drafts.discard(sess, draft, as_int(request.form.get("version")), now(), current_user.id)
        except drafts.StaleDraft:
            sess.rollback()
            flash(_("This order was changed in another tab. Check it before you discard it."), "warning")
            return redirect(url_for("wizard.orders.discard", draft_id=draft.id), 303)
        sess.commit()
        flash(_("The unfinished order was discarded."), "success")
        return redirect(url_for("wizard.subs.subs"), 303)
    progress = review.progress(draft)
    return render_template(
        "wizard/discard.html",
        draft=draft,
        progress=progress,
        kind=KIND.get(draft.answers.get("type", {}).get("kind"), ""),
    )
