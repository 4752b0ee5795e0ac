"""One generic view for every step of every order: GET shows it, POST saves it (Post/Redirect/Get).

htmx requests get only the step block (jinja2-fragments) and the step's URL to push,
so back and forward move between steps; without JavaScript the same forms post normally.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from . import db, drafts, flow, numbers, orders, pricing, review
from .clock import now
from .db import as_int
from .fragments import is_fragment_request
from .forms import KIND, StepContext
from .i18n import clock
from .models import Organisation, Sim
from .orders import as_formdata, bind_form
from .permissions import requires
from .steps import BY_KEY, STEPS
from .templating import unbroken

bp = Blueprint("orders", __name__)


ORDERS = "/settings/account/subs/orders"


def context(draft) -> StepContext:
    moment = now()
    sess = db.session()
    return StepContext(sess=sess, org=sess.get(Organisation, draft.organisation_id), draft=draft,
                       answers=dict(draft.answers), today=moment.date(), now=moment,
                       hold_minutes=current_app.config["NUMBER_HOLD_MINUTES"])


def step_url(draft, key, **params):
    return url_for("orders.step", draft_id=draft.id, step_key=key, **params)


def render(step, ctx, status=200, push=False, **extra):
    """The step page, or only its block for htmx (then with the URL to push on success)."""
    route = [s for s in flow.path(STEPS, ctx.answers)]
    form = extra.get("form")
    shown = orders.shown_fields(step, form) if form is not None else set()
    failed = status in (409, 422)
    page_title = (_("Error:") + " " if failed else "") + f"{step.title} – {_('New subscription')}"
    values = dict(step=step, ctx=ctx, draft=ctx.draft, route=route, shown=shown, page_title=page_title, position=[s.key for s in route].index(step.key) + 1,
                  return_to=request.values.get("return", ""), **extra)
    if is_fragment_request():
        response = current_app.response_class(render_block("step.html", "step", fragment=True, **values), status=status)
        if push:
            response.headers["HX-Push-Url"] = request.full_path.rstrip("?")
        return response
    return render_template("step.html", fragment=False, **values), status


def keep_number(ctx) -> None:
    """A draft's number hold may have run out while it waited: hold the number again if it is
    still free, else drop the number answer so the buyer picks another (and say which)."""
    chosen = ctx.answers.get("number", {})
    if chosen.get("choice") not in ("new", "specific"):
        return
    number_id = int(chosen["number_id"])
    held = numbers.held_for(ctx.sess, ctx.draft.id, ctx.now)
    if held is not None and held.id == number_id:
        return
    shown = unbroken(numbers.national(chosen["e164"]))
    if numbers.hold(ctx.sess, number_id, ctx.draft.id, ctx.now, ctx.hold_minutes):
        ctx.sess.commit()
        flash(_("Your hold on %(number)s had run out. It is held for you again until %(time)s.",
                number=shown, time=clock(ctx.now + timedelta(minutes=ctx.hold_minutes))), "warning")
        return
    answers = {k: v for k, v in ctx.answers.items() if k != "number"}
    try:
        drafts.save_answers(ctx.sess, ctx.draft, answers, ctx.draft.version, ctx.now)
    except drafts.StaleDraft:
        ctx.sess.rollback()
        return
    ctx.sess.commit()
    ctx.answers = dict(answers)
    flash(_("%(number)s was taken while your order waited. Choose another number.", number=shown), "warning")


@bp.route(f"{ORDERS}", methods=["POST"])
@requires("account")
def start_order():
    """Add Subs mobile / Add Subs fixed: a new draft with the type answered."""
    kind = request.form.get("kind")
    if kind not in ("mobile", "fixed"):
        abort(400)
    sess = db.session()
    mine = [d for d in drafts.list_open(sess, current_user) if d.created_by_id == current_user.id]
    if len(mine) >= current_app.config["MAX_OPEN_DRAFTS_PER_USER"]:
        flash(_("You have %(n)s unfinished orders. Finish or discard one before you start another.", n=len(mine)), "warning")
        return redirect(url_for("subs.subs"), 303)
    draft = drafts.create(sess, current_user, {"type": {"kind": kind}}, now())
    sess.commit()
    return redirect(step_url(draft, flow.first_incomplete(STEPS, draft.answers).key), 303)


@bp.route(f"{ORDERS}/<draft_id>")
@requires("account")
def resume(draft_id):
    """Resume: the first step that still needs an answer."""
    draft = drafts.get_open(db.session(), current_user, draft_id)
    if draft.status == "submitted":
        return redirect(url_for("orders.done", draft_id=draft.id))
    keep_number(context(draft))
    return redirect(step_url(draft, flow.first_incomplete(STEPS, draft.answers).key))


@bp.route(f"{ORDERS}/<draft_id>/<step_key>", methods=["GET", "POST"])
@requires("account")
def step(draft_id, step_key):
    """Show or save one step of one order."""
    sess = db.session()
    draft = drafts.get_open(sess, current_user, draft_id)
    if draft.status == "submitted":
        return redirect(url_for("orders.done", draft_id=draft.id), 303)
    step = BY_KEY.get(step_key) or abort(404)
    ctx = context(draft)
    if request.method == "GET":
        keep_number(ctx)
    if not flow.can_visit(STEPS, ctx.answers, step.key):
        return redirect(step_url(draft, flow.first_incomplete(STEPS, ctx.answers).key), 303)
    if step.final:
        return render_review(step, ctx)
    if request.method == "GET":
        return show(step, ctx)
    return save(step, ctx)


def show(step, ctx):
    """The step with its saved answers; after a failed Save (?recheck=1) with what no longer holds."""
    stored = ctx.answers.get(step.key)
    form = bind_form(step, ctx, as_formdata(stored) if stored else None)
    status = 200
    if request.args.get("recheck"):
        problem = orders.recheck(ctx)
        if problem is not None and problem.step == step.key:
            for name, errors in problem.errors.items():
                if name in form:
                    form[name].errors = list(errors)
            status = 422
    return render(step, ctx, status, form=form, push=True)


def save(step, ctx):
    form = bind_form(step, ctx, request.form)
    if as_int(request.form.get("version")) != ctx.draft.version:
        return conflict(step, ctx)
    newly_revealed = orders.shown_fields(step, form) - set(request.form.getlist("_shown"))
    if newly_revealed or any(name in request.form for name in form.redisplay_fields):
        return render(step, ctx, form=form, revealing=True)
    if not form.validate():
        return render(step, ctx, 422, form=form)
    values = form.values(ctx)
    if values is None:
        db.session().rollback()
        return render(step, ctx, 422, form=form)
    answers, dropped = flow.answer(STEPS, ctx.answers, step.key, values)
    if any(s.key == "number" for s in dropped):
        numbers.release_holds(ctx.sess, ctx.draft.id)
    try:
        drafts.save_answers(ctx.sess, ctx.draft, answers, ctx.draft.version, ctx.now)
    except drafts.StaleDraft:
        ctx.sess.rollback()
        return conflict(step, ctx)
    ctx.sess.commit()
    if dropped:
        flash(_("Your change removed answers that no longer apply: %(steps)s.",
                steps=", ".join(str(s.title) for s in dropped)), "warning")
    following = flow.next_step(STEPS, answers, step.key)
    resume_at = flow.first_incomplete(STEPS, answers)
    if request.form.get("return") == "review" and resume_at.final:
        following = resume_at
    return redirect(step_url(ctx.draft, following.key), 303)


def conflict(step, ctx):
    """409: someone saved this order meanwhile; show a clear message and a reload link."""
    db.session().rollback()
    return render(step, ctx, 409, form=None, stale=True)


def render_review(step, ctx):
    rows = review.rows(ctx)
    quote = pricing.quote(ctx.sess, ctx.org, ctx.answers, ctx.today)
    return render(step, ctx, rows=rows, quote=quote, form=None, push=True)


@bp.route(f"{ORDERS}/<draft_id>/save", methods=["POST"])
@requires("account")
def save_order(draft_id):
    """Save: buy exactly once, or send the buyer to the step whose answer no longer holds."""
    sess = db.session()
    draft = drafts.get_open(sess, current_user, draft_id)
    if draft.status != "submitted":
        if not flow.first_incomplete(STEPS, draft.answers).final:
            return redirect(url_for("orders.resume", draft_id=draft.id), 303)
        ctx = context(draft)
        result = orders.place(ctx, current_user, as_int(request.form.get("version")))
        if isinstance(result, orders.Problem) and result.step == orders.STALE:
            ctx = context(drafts.get_open(db.session(), current_user, draft_id))
            return render(BY_KEY["review"], ctx, 409, form=None, stale=True)
        if isinstance(result, orders.Problem):
            flash(_("Something changed since you answered. Check this answer and continue."), "warning")
            return redirect(step_url(draft, result.step, recheck=1), 303)
    return redirect(url_for("orders.done", draft_id=draft.id), 303)


@bp.route(f"{ORDERS}/<draft_id>/done")
@requires("account")
def done(draft_id):
    """The order confirmation (reopenable)."""
    sess = db.session()
    draft = drafts.get_open(sess, current_user, draft_id)
    subscription = orders.existing(sess, draft.id) or abort(404)
    ctx = context(draft)
    rows = review.rows(ctx)
    card = sess.scalar(select(Sim).where(Sim.subscription_id == subscription.id))
    return render_template("done.html", draft=draft, subscription=subscription, rows=rows, sim=card)


@bp.route(f"{ORDERS}/<draft_id>/discard", methods=["GET", "POST"])
@requires("account")
def discard(draft_id):
    """Ask, then discard an unfinished order and release its number."""
    sess = db.session()
    draft = drafts.get_open(sess, current_user, draft_id)
    if draft.status == "submitted":
        abort(404)
    if request.method == "POST":
        try:
            drafts.discard(sess, draft, as_int(request.form.get("version")), now())
        except drafts.StaleDraft:
            sess.rollback()
            flash(_("This order was changed in another tab. Check it before you discard it."), "warning")
            return redirect(url_for("orders.discard", draft_id=draft.id), 303)
        sess.commit()
        flash(_("The unfinished order was discarded."), "success")
        return redirect(url_for("subs.subs"), 303)
    progress = drafts.progress(draft)
    return render_template("discard.html", draft=draft, progress=progress,
                           kind=KIND.get(draft.answers.get("type", {}).get("kind"), ""))
