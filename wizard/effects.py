"""The one place where a step's answers have side effects: the number an order holds follows its
Number answer. It runs inside the transaction of the draft's conditional UPDATE, so a refused or
stale save leaves no hold behind (the caller rolls back), and forms never write."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from . import numbers
from .context import StepContext
from .db import as_int

HOLDING_CHOICES = ("new", "specific")  # pool numbers; reserved ones are the organisation's, ported ones arrive later


class NumberTaken(Exception):
    """The wanted number cannot be held: the field to mark and the message for the buyer."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message


def settle(ctx: StepContext, answers: dict) -> dict:
    """Make the draft's hold match its Number answer and return the answers with the held number
    filled in. At most a lock and one or two conditional UPDATEs, none when nothing changed."""
    chosen = answers.get("number") or {}
    if chosen.get("choice") not in HOLDING_CHOICES:
        if ctx.held is not None:
            numbers.release_holds(ctx.sess, ctx.draft.id)
        return answers
    number_id = as_int(chosen.get("number_id"))
    if ctx.holding(number_id):
        return {**answers, "number": {**chosen, "e164": ctx.held.e164}} if ctx.held else answers
    room = room_for_one_more(ctx)
    picked = (
        numbers.hold(ctx.sess, number_id, ctx.kind, ctx.draft.id, ctx.now, ctx.hold_minutes, room)
        if number_id
        else None
    )
    if picked is None and chosen["choice"] == "specific":
        refuse_when_full(ctx, room)
        raise NumberTaken("specific_number", _l("That number was just taken. Pick another."))
    if picked is None:
        picked = numbers.hold_next_free(ctx.sess, ctx.kind or "", ctx.draft.id, ctx.now, ctx.hold_minutes, room)
    if picked is None:
        refuse_when_full(ctx, room)
        raise NumberTaken("choice", _l("There are no free numbers right now. Choose another option."))
    if ctx.held is not None and ctx.held.id != picked.id:
        numbers.release_holds(ctx.sess, ctx.draft.id, keep=picked.id)
    return {**answers, "number": {**chosen, "number_id": str(picked.id), "e164": picked.e164}}


def room_for_one_more(ctx: StepContext):
    """A few buyers of one organisation must not hold the whole pool: a new hold is made only while
    the organisation's other open drafts hold fewer than MAX_HELD_NUMBERS_PER_ORGANISATION, counted in
    the hold's own UPDATE under a lock per organisation, so two buyers saving at once cannot pass it."""
    numbers.lock_organisation_holds(ctx.sess, ctx.draft.organisation_id)
    cap = current_app.config["MAX_HELD_NUMBERS_PER_ORGANISATION"]
    return numbers.room_for_hold(ctx.draft.organisation_id, ctx.draft.id, ctx.now, cap)


def refuse_when_full(ctx: StepContext, room) -> None:
    """After a hold failed: when it was for want of room, say so (one more statement, only then)."""
    if not ctx.sess.scalar(select(room)):
        cap = current_app.config["MAX_HELD_NUMBERS_PER_ORGANISATION"]
        raise NumberTaken(
            "choice",
            ngettext(
                "Your organisation's unfinished orders already hold %(num)s number, the most they may. "
                "Finish or discard one of them, or use one of your reserved numbers or move an existing number.",
                "Your organisation's unfinished orders already hold %(num)s numbers, the most they may. "
                "Finish or discard one of them, or use one of your reserved numbers or move an existing number.",
                cap,
            ),
        )
