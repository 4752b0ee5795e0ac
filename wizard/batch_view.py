"""Subs for several people: the batch page (shared choices and a line per person, typed or from a
CSV file), its check, Check your answers and Save, and the confirmation. Every page works without
JavaScript (plain posts that come back with the problems in place); with htmx, adding and removing
lines swaps the form in place."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from . import batch, clock, db, drafts, orders, porting, pricing
from .context import StepContext
from .db import as_int
from .forms import KIND
from .fragments import current_url, page_or_fragment, whole_page
from .models import Draft
from .permissions import requires
from .visitor import current_user

bp = Blueprint("batches", __name__)

BATCHES = "/settings/account/subs/batches"
BATCH = f"{BATCHES}/<draft:draft_id>"


def open_batch(draft_id: str) -> Draft:
    """The batch the URL names when this person may see it, else 404 (other tenants' ids too)."""
    draft = drafts.get_open(db.session(), current_user, draft_id)
    if draft is None or draft.kind != "batch":
        abort(404)
    return draft


def context(draft: Draft) -> StepContext:
    """What the batch's checks know: the organisation and contract read with the login (g.visit)."""
    return StepContext.now_for(draft, g.visit.organisation, g.visit.contract)


@bp.route(BATCHES, methods=["POST"])
@requires("account")
def start():
    """Add Subs for several people: a new batch draft of the chosen kind, with one empty line."""
    kind = request.form.get("kind")
    if kind not in ("mobile", "fixed"):
        abort(400)
    sess = db.session()
    db.lock_for_write(sess)
    if orders.at_limit(sess, current_user):
        return redirect(url_for("wizard.subs.subs"), 303)
    draft = drafts.create(sess, current_user, {"type": {"kind": kind}, "lines": [batch.blank_line()]}, clock.now())
    draft.kind = "batch"
    sess.commit()
    return redirect(url_for("wizard.batches.edit", draft_id=draft.id), 303)


@bp.route(f"{BATCHES}/template.csv")
@requires("account")
def template():
    """The CSV template: the header row and two example lines."""
    return current_app.response_class(
        "\ufeff" + batch.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=subs-for-several-people.csv"},
    )


@bp.route(BATCH, methods=["GET", "POST"])
@requires("account")
def edit(draft_id):
    """The shared choices and the lines. A POST keeps what was typed (a conditional UPDATE on the
    draft's version), then adds or removes a line, reads a CSV file, leaves for Subs, or checks
    everything and goes on to Check your answers."""
    draft = open_batch(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.batches.done", draft_id=draft.id), 303)
    ctx = context(draft)
    if request.method == "GET":
        state = draft.answers.get("form") or {}
        return render(ctx, MultiDict(state), batch.stored_lines(draft))
    if "_upload" in request.form:  # the file's own form: the choices and lines typed so far are the stored ones
        posted, lines = MultiDict(draft.answers.get("form") or {}), batch.stored_lines(draft)
    else:
        posted, lines = request.form, batch.lines_from_form(request.form)
    if as_int(request.form.get("version")) != draft.version:
        return render(ctx, posted, lines, status=409, stale=True)
    shared_raw = {name: value for name, value in posted.items() if name.partition("-")[0] in batch.SHARED}
    message = None
    if "_add" in request.form:
        lines.append(batch.blank_line())
    elif "_remove" in request.form:
        index = as_int(request.form.get("_remove"))
        typed = batch.lines_from_form(request.form, keep_blank=True)
        if index is not None and 0 <= index < len(typed):
            del typed[index]
        lines = [line for line in typed if any(line.values())] or [batch.blank_line()]
    elif "_upload" in request.form:
        upload = request.files.get("csv")
        try:
            lines = batch.read_csv(upload.read(64 * 1024 + 1) if upload else b"") or lines
        except batch.CsvError as exc:
            message = str(exc)
    # What was typed, kept; the answers of an earlier check are dropped with it (the batch is checked again).
    kept = {"type": draft.answers["type"], "form": shared_raw, "lines": lines or [batch.blank_line()]}
    try:
        drafts.save_answers(ctx.sess, draft, kept, draft.version, ctx.now)
    except drafts.StaleDraft:
        db.session().rollback()
        return render(ctx, posted, lines, status=409, stale=True)
    ctx.sess.commit()
    if message:
        return render(ctx, posted, lines, status=422, csv_error=message)
    if request.form.get("_go") == "later":
        flash(_("Your order is saved. Finish it any time from Unfinished orders."), "success")
        return whole_page(url_for("wizard.subs.subs"))
    if any(name in request.form for name in ("_add", "_remove", "_upload")):
        return redirect(url_for("wizard.batches.edit", draft_id=draft.id), 303)
    forms = batch.shared_forms(ctx, request.form)
    shared, problems = batch.check_shared(ctx, forms)
    checked = batch.check(ctx, shared, lines)
    checked.problems = problems + checked.problems
    if not checked.ok:
        return render(ctx, request.form, lines, status=422, checked=checked, forms=forms)
    # Each line's answers as checked, so Check your answers reads them (Save checks them all again).
    done = {**kept, **shared, "checked": checked.lines}
    try:
        drafts.save_answers(ctx.sess, draft, done, draft.version, ctx.now)
    except drafts.StaleDraft:
        db.session().rollback()
        return render(ctx, request.form, lines, status=409, stale=True)
    ctx.sess.commit()
    return redirect(url_for("wizard.batches.review", draft_id=draft.id), 303)


def render(ctx: StepContext, formdata, lines, status=200, checked=None, forms=None, stale=False, csv_error=None):
    forms = forms or batch.shared_forms(ctx, formdata)
    problems = checked.problems if checked else []
    return page_or_fragment(
        "wizard/batch.html",
        "batch",
        status,
        push_url=current_url() if request.method == "GET" else None,
        draft=ctx.draft,
        kind=ctx.kind,
        kind_name=KIND.get(ctx.kind or "", ""),
        forms=forms,
        lines=lines,
        problems=problems,
        by_line=batch.problems_by_line(problems),
        columns=batch.COLUMNS if ctx.kind == "mobile" else batch.COLUMNS[:-2],
        column_names=batch.COLUMN_NAMES,
        users=list(ctx.cached(("users",), lambda: batch.organisation_users(ctx)).values()),
        operators=porting.OPERATORS,
        earliest=porting.earliest_porting_date(ctx.kind or "mobile", ctx.today),
        max_lines=batch.MAX_LINES,
        stale=stale,
        csv_error=csv_error,
    )


def checked_lines(ctx: StepContext) -> batch.Checked:
    """The batch as it was at its last check: its shared answers and each line's. Only Save checks it
    again, against today's data (a number or a SIM may have gone since), so this page reads only."""
    shared = {key: value for key, value in ctx.answers.items() if key in ("type", *batch.SHARED)}
    return batch.Checked(shared, lines=list(ctx.answers["checked"]))


@bp.route(f"{BATCH}/review")
@requires("account")
def review(draft_id):
    """Check your answers for the batch: each line with its price, the totals, the binding period."""
    draft = open_batch(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.batches.done", draft_id=draft.id))
    if not draft.answers.get("checked"):
        return redirect(url_for("wizard.batches.edit", draft_id=draft.id))
    ctx = context(draft)
    return render_review(ctx, checked_lines(ctx))


def render_review(ctx, checked, status=200, binding_error=None):
    # One quote per line, None for a line that no longer holds (the table shows each beside its line).
    quotes = [
        pricing.quote(ctx.prices(), ctx.contract, answers, ctx.today) if answers is not None else None
        for answers in checked.lines
    ]
    priced = [quote for quote in quotes if quote is not None]
    return page_or_fragment(
        "wizard/batch_review.html",
        "batch",
        status,
        push_url=current_url() if status == 200 else None,
        draft=ctx.draft,
        kind_name=KIND.get(ctx.kind or "", ""),
        checked=checked,
        lines=batch.stored_lines(ctx.draft),
        quotes=quotes,
        monthly_ore=sum(q.monthly_ore for q in priced),
        one_off_ore=sum(q.one_off_ore for q in priced),
        binding_ends_on=priced[0].binding_ends_on if priced else None,
        binding_error=binding_error,
        by_line=batch.problems_by_line(checked.problems),
        people={u.email: u for u in ctx.cached(("users",), lambda: batch.organisation_users(ctx)).values()},
    )


@bp.route(f"{BATCH}/save", methods=["POST"])
@requires("account")
def save(draft_id):
    """Buy every line in one transaction, exactly once; or say what no longer holds."""
    draft = open_batch(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.batches.done", draft_id=draft.id), 303)
    if not draft.answers.get("checked"):  # typed since the last check (or never checked): check it first
        flash(_("Check the lines before you buy."), "warning")
        return redirect(url_for("wizard.batches.edit", draft_id=draft.id), 303)
    ctx = context(draft)
    lines = batch.stored_lines(draft)
    if ctx.answers.get("price_basis", {}).get("basis") == "bound" and not request.form.get("accept_binding"):
        return render_review(ctx, checked_lines(ctx), 422, _("Accept the binding period to save this order"))
    result = batch.buy(ctx, current_user, as_int(request.form.get("version")), lines)
    if result == batch.STALE:
        flash(_("This order was changed in another tab or window. Check it again before you save."), "warning")
        return redirect(url_for("wizard.batches.edit", draft_id=draft_id), 303)
    if isinstance(result, batch.Checked):
        return render_review(context(drafts.get_open(db.session(), current_user, draft_id) or abort(404)), result, 422)
    return redirect(url_for("wizard.batches.done", draft_id=draft_id), 303)


@bp.route(f"{BATCH}/done")
@requires("account")
def done(draft_id):
    """The confirmation: every line with its number, person and price, and its eSIM page."""
    draft = open_batch(draft_id)
    ctx = context(draft)
    order = batch.existing_order(ctx) or abort(404)
    subscriptions = batch.subscriptions_of(ctx, order)
    return render_template(
        "wizard/batch_done.html",
        order=order,
        subscriptions=subscriptions,
        esims=batch.esim_ids(ctx, subscriptions),
        monthly_ore=sum(s.monthly_ore for s in subscriptions),
        one_off_ore=sum(s.one_off_ore for s in subscriptions),
    )
