"""Subs for several people: the batch page (shared choices and a line per person, typed or from a
CSV file), its check, Check your answers and Save, and the confirmation. Every page works without
JavaScript (plain posts that come back with the problems in place); with htmx, adding and removing
lines and reading a file swap the form in place, with focus on the line and the change announced."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from . import batch, clock, db, drafts, orders, porting, pricing
from .context import StepContext
from .db import as_int
from .fragments import current_url, is_fragment_request, page_or_fragment, whole_page
from .models import Draft
from .permissions import requires
from .review import rows as in_words
from .steps import BY_KEY
from .visitor import current_user

bp = Blueprint("batches", __name__)

BATCHES = "/settings/account/subs/batches"
BATCH = f"{BATCHES}/<draft:draft_id>"

# Whole titles per kind: "%(kind)s subscriptions" pieced together from the adjective alone cannot agree
# in every language (Swedish "Mobilt" is the singular, the plural is "Mobila abonnemang").
TITLES = {
    "mobile": _l("Mobile subscriptions for several people"),
    "fixed": _l("Fixed subscriptions for several people"),
}

# The batch page is one form, multipart, so the CSV file travels with the shared choices and the lines
# on screen and reading it keeps them, with JavaScript or without (a form of its own for the file could
# only send the file). A table of MAX_LINES lines is some 800 fields: past the app's MAX_FORM_PARTS (200)
# and, as multipart, its MAX_CONTENT_LENGTH (64 KiB). And Werkzeug's multipart decoder holds
# MAX_FORM_MEMORY_SIZE (16 KiB) against each 64 KiB chunk it reads as well as against a field, so a
# multipart body past 16 KiB is refused whatever its fields. This page alone gets room for its lines
# (values up to 100 characters: a few hundred bytes a field with the part's headers), one file and
# two chunks. The limits are set before anything reads the form (CSRFProtect reads it in
# before_request; url value preprocessors run before any before_request function), and never lowered.
FORM_PARTS = (batch.MAX_LINES + 1) * len(batch.COLUMNS) + 50
FORM_BYTES = batch.MAX_FILE_BYTES + FORM_PARTS * 512
FORM_CHUNKS = 2 * 64 * 1024  # werkzeug.formparser.MultiPartParser reads 64 KiB at a time


@bp.url_value_preprocessor
def room_for_the_lines(endpoint: str | None, values: dict | None) -> None:
    # Only for someone logged in (that reads the login, not the body): nobody else gets a server to
    # read more than the app's usual limits.
    if endpoint is not None and endpoint.rsplit(".", 1)[-1] == "edit" and current_user.is_authenticated:
        request.max_form_parts = at_least(request.max_form_parts, FORM_PARTS)
        request.max_content_length = at_least(request.max_content_length, FORM_BYTES)
        request.max_form_memory_size = at_least(request.max_form_memory_size, FORM_CHUNKS)


def at_least(limit: int | None, needed: int) -> int | None:
    """A limit raised to `needed` (None: there is none to raise)."""
    return None if limit is None else max(limit, needed)


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
    """The CSV template of a kind (?kind=fixed: no SIM columns): the header row and two example lines."""
    kind = "fixed" if request.args.get("kind") == "fixed" else "mobile"
    return current_app.response_class(
        "\ufeff" + batch.template_csv(kind, porting.earliest_porting_date(kind, clock.today())),
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
    lines = batch.lines_from_form(request.form)
    if as_int(request.form.get("version")) != draft.version:
        return render(ctx, request.form, lines, status=409, stale=True)
    shared_raw = {name: value for name, value in request.form.items() if name.partition("-")[0] in batch.SHARED}
    changed = Changed()
    if "_add" in request.form:
        lines.append(batch.blank_line())
        changed = Changed(f"lines-{len(lines) - 1}-email", _("Line %(n)s added", n=len(lines)))
    elif "_remove" in request.form:
        lines, changed = remove_line(as_int(request.form.get("_remove")))
    elif "_upload" in request.form:
        try:
            lines, notice = batch.read_upload(request.files.get("csv"))
            changed = Changed("batch-notice", notice=notice)
        except batch.CsvError as exc:  # the lines on screen stay, as typed
            changed = Changed(csv_error=str(exc))
    # What was typed, kept; the answers of an earlier check are dropped with it (the batch is checked again).
    kept = {"type": draft.answers["type"], "form": shared_raw, "lines": lines or [batch.blank_line()]}
    checking = request.form.get("_go") != "later" and not any(
        name in request.form for name in ("_add", "_remove", "_upload")
    )
    checked, forms = None, None
    if checking:  # Check and continue
        forms = batch.shared_forms(ctx, request.form)
        shared, problems = batch.check_shared(ctx, forms)
        checked = batch.check(ctx, shared, lines)
        checked.problems = problems + checked.problems
        if checked.ok:  # each line's answers as checked, for Check your answers (Save checks them again)
            kept = {**kept, **shared, "checked": checked.lines}
    try:
        drafts.save_answers(ctx.sess, draft, kept, draft.version, ctx.now)
    except drafts.StaleDraft:
        db.session().rollback()
        return render(ctx, request.form, lines, status=409, stale=True)
    ctx.sess.commit()
    if changed.csv_error:
        return render(ctx, request.form, lines, status=422, csv_error=changed.csv_error)
    if request.form.get("_go") == "later":
        flash(_("Your order is saved. Finish it any time from Unfinished orders."), "success")
        return whole_page(url_for("wizard.subs.subs"))
    if checked is None:
        return show_change(ctx, lines, changed)
    if not checked.ok:
        return render(ctx, request.form, lines, status=422, checked=checked, forms=forms)
    return redirect(url_for("wizard.batches.review", draft_id=draft.id), 303)


@dataclass(frozen=True)
class Changed:
    """What a post did to the lines, for the page to show: where focus goes next (an element's id),
    what to announce (htmx only), a notice, or why the file could not be read."""

    focus: str | None = None
    said: str | None = None
    notice: str | None = None
    csv_error: str | None = None


def remove_line(index: int | None) -> tuple[list[dict[str, str]], Changed]:
    """The lines as typed without line `index` (and without blank ones), and focus on the first field
    of the line before it, or on the lines' heading when it was the first."""
    typed = batch.lines_from_form(request.form, keep_blank=True)
    if index is None or not 0 <= index < len(typed):
        return [line for line in typed if any(line.values())] or [batch.blank_line()], Changed()
    before = [line for line in typed[:index] if any(line.values())]
    del typed[index]
    lines = [line for line in typed if any(line.values())] or [batch.blank_line()]
    focus = f"lines-{len(before) - 1}-email" if before else "lines-title"
    return lines, Changed(focus, _("Line %(n)s removed", n=index + 1))


def show_change(ctx: StepContext, lines, changed: Changed):
    """After Add a line, Remove or Read the file: htmx gets the form again with focus and the
    announcement in it; a browser without JavaScript gets the page again (Post/Redirect/Get), at the
    line added or the one before the line removed, and the file's notice at the top."""
    if is_fragment_request():
        return render(ctx, request.form, lines, changed=changed)
    if changed.notice:
        flash(changed.notice, "success")
        return redirect(url_for("wizard.batches.edit", draft_id=ctx.draft.id), 303)
    return redirect(url_for("wizard.batches.edit", draft_id=ctx.draft.id, _anchor=changed.focus), 303)


def render(
    ctx: StepContext, formdata, lines, status=200, checked=None, forms=None, stale=False, csv_error=None, changed=None
):
    forms = forms or batch.shared_forms(ctx, formdata)
    problems = checked.problems if checked else []
    title = str(TITLES.get(ctx.kind or "", TITLES["mobile"]))
    return page_or_fragment(
        "wizard/batch.html",
        "batch",
        status,
        push_url=current_url() if request.method == "GET" else None,
        page_title=_("Error: %(title)s", title=title) if status in (409, 422) else title,
        title=title,
        draft=ctx.draft,
        kind=ctx.kind,
        forms=forms,
        lines=lines or [batch.blank_line()],  # a line to type in, however many were posted
        problems=problems,
        by_line=batch.problems_by_line(problems),
        columns=batch.columns_for(ctx.kind),
        column_names=batch.COLUMN_NAMES,
        users=list(ctx.cached(("users",), lambda: batch.organisation_users(ctx)).values()),
        operators=porting.OPERATORS,
        earliest=porting.earliest_porting_date(ctx.kind or "mobile", ctx.today),
        max_lines=batch.MAX_LINES,
        stale=stale,
        csv_error=csv_error,
        changed=changed or Changed(),
    )


def is_checked(draft: Draft) -> bool:
    """Whether the batch was checked since it was last typed in (the check keeps each line's answers)."""
    return isinstance(draft.answers.get("checked"), list) and bool(draft.answers["checked"])


def checked_lines(ctx: StepContext) -> batch.Checked:
    """The batch as it was at its last check, its shared choices checked again with their forms (a
    price withdrawn or a contract ended since is named here, not first at Save). The lines are checked
    again only at Save, against today's data (a number or a SIM may have gone since)."""
    forms = batch.shared_forms(ctx, MultiDict(ctx.answers.get("form") or {}))
    shared, problems = batch.check_shared(ctx, forms)
    return batch.Checked(shared, lines=list(ctx.answers["checked"]), problems=problems)


def binding_ends_on(ctx: StepContext, checked: batch.Checked):
    """The end of the binding period the lines are bought with (None: no binding)."""
    answers = next((a for a in checked.lines if a is not None), None)
    return pricing.quote(ctx.prices(), ctx.contract, answers, ctx.today).binding_ends_on if answers else None


@bp.route(f"{BATCH}/review")
@requires("account")
def review(draft_id):
    """Check your answers for the batch: each line with its price, the totals, the binding period."""
    draft = open_batch(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.batches.done", draft_id=draft.id))
    if not is_checked(draft):
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
    people = {u.email: u for u in ctx.cached(("users",), lambda: batch.organisation_users(ctx)).values()}
    title = _("Check your answers")
    return page_or_fragment(
        "wizard/batch_review.html",
        "batch",
        status,
        push_url=current_url() if status == 200 else None,
        page_title=_("Error: %(title)s", title=title) if status in (409, 422) else title,
        draft=ctx.draft,
        kind=ctx.kind,
        checked=checked,
        lines=batch.stored_lines(ctx.draft),
        shared=shared_rows(ctx),
        described=[described(ctx, answers) for answers in checked.lines],
        quotes=quotes,
        monthly_ore=sum(q.monthly_ore for q in priced),
        one_off_ore=sum(q.one_off_ore for q in priced),
        binding_ends_on=priced[0].binding_ends_on if priced else None,
        binding_error=binding_error,
        questions={key: BY_KEY[key].title for key in batch.SHARED},
        by_line=batch.problems_by_line(checked.problems),
        people=people,
    )


def shared_rows(ctx: StepContext) -> list[tuple]:
    """The shared choices as the single order's Check your answers words them (review.rows), each with
    the id of its question on the batch page, where its Change link goes."""
    return [
        (step, text, question_id(step.key, step.form))
        for step, text in in_words(ctx)
        if step.key in batch.SHARED and step.form is not None
    ]


def question_id(key: str, form_class) -> str:
    """The id of a shared step's question on the batch page (its radio group, under the step's prefix)."""
    form = form_class(formdata=None, prefix=f"{key}-", meta={"csrf": False})
    return next(f.id for f in form if f.type == "RadioField")


def described(ctx: StepContext, answers: dict | None) -> dict[str, str] | None:
    """A checked line's own answers in words (number, porting, SIM: the ICC, the porting date and
    operator), as each step's form says them on the single order's Check your answers; None for a line
    that no longer holds."""
    if answers is None:
        return None
    forms = ((key, BY_KEY[key].form) for key in LINE_STEPS if key in answers)
    return {key: form.describe(ctx, answers[key]) for key, form in forms if form is not None}


LINE_STEPS = ("number", "porting", "sim")  # the steps a line answers that Check your answers words


@bp.route(f"{BATCH}/save", methods=["POST"])
@requires("account")
def save(draft_id):
    """Buy every line in one transaction, exactly once; or say what no longer holds."""
    draft = open_batch(draft_id)
    if draft.status == "submitted":
        return redirect(url_for("wizard.batches.done", draft_id=draft.id), 303)
    if not is_checked(draft):  # typed since the last check (or never checked): check it first
        flash(_("Check the lines before you buy."), "warning")
        return redirect(url_for("wizard.batches.edit", draft_id=draft.id), 303)
    ctx = context(draft)
    lines = batch.stored_lines(draft)
    checked = checked_lines(ctx)
    if checked.problems:
        return render_review(ctx, checked, 422)
    if binding_ends_on(ctx, checked) and not request.form.get("accept_binding"):
        return render_review(ctx, checked, 422, _("Accept the binding period to save this order"))
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
