"""What the buyer reads of an order: each answer in words (Check your answers, the confirmation) and
how far an unfinished order got (Subs)."""

from __future__ import annotations

from . import flow
from .context import StepContext
from .models import Draft
from .steps import STEPS


def rows(ctx: StepContext) -> list[tuple]:
    """(step, answer in words) for every answered step on the route; each form describes its own."""
    return [
        (step, step.form.describe(ctx, ctx.answers[step.key]))
        for step in flow.path(STEPS, ctx.answers)
        if step.form is not None and step.key in ctx.answers
    ]


def progress(draft: Draft) -> dict | None:
    """How far an order got, counted as the wizard's "Step N of M": the resume step, its position on
    the route (every applicable step, the first and Check your answers included) and the route's
    length; and the steps still without an answer."""
    if draft.kind == "batch":
        return None  # a batch has no steps to count: Subs says how many lines it has
    route = flow.path(STEPS, draft.answers)
    resume = flow.first_incomplete(STEPS, draft.answers)
    return {
        "resume": resume,
        "position": [s.key for s in route].index(resume.key) + 1,
        "total": len(route),
        "missing": [s.title for s in route if not s.final and not flow.is_complete(s, draft.answers)],
    }
