"""What the buyer reads on Check your answers and the confirmation: each answer in words."""
from __future__ import annotations

from . import flow
from .context import StepContext
from .steps import STEPS


def rows(ctx: StepContext) -> list[tuple]:
    """(step, answer in words) for every answered step on the route; each form describes its own."""
    return [(step, step.form.describe(ctx, ctx.answers[step.key]))
            for step in flow.path(STEPS, ctx.answers) if not step.final and step.key in ctx.answers]
