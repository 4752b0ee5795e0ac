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


def progress(draft: Draft) -> dict:
    """How far an order got: steps done of the route, the resume step, what is still missing."""
    route = [s for s in flow.path(STEPS, draft.answers) if not s.final]
    done = [s for s in route if flow.is_complete(s, draft.answers)]
    return {
        "done": len(done),
        "total": len(route),
        "resume": flow.first_incomplete(STEPS, draft.answers),
        "missing": [s.title for s in route if not flow.is_complete(s, draft.answers)],
    }
