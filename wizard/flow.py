"""The route through the steps, computed from the answers alone (no Flask, no database).

A step is a row of `steps.STEPS`; `answers` maps a step key to that step's saved values.
Nothing here remembers a "current step": every function recomputes from the answers,
so tabs, back buttons and resuming on another device all agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Answers = Mapping[str, Mapping[str, Any]]
Predicate = Callable[[Answers], bool]


def always(_answers: Answers) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """One question page: its key, title, form, when it applies and what it reveals."""

    key: str
    title: Any
    form: type[Any] | None = None
    applies: Predicate = always
    # field name -> predicate on the answers (with this step's own values in place)
    reveals: Mapping[str, Predicate] = field(default_factory=dict)
    # keys of earlier steps whose change makes this step's answers meaningless
    depends_on: tuple[str, ...] = ()
    final: bool = False  # the check-your-answers page: never "complete" until Save


def path(steps: Sequence[Step], answers: Answers) -> list[Step]:
    """The steps that apply to these answers, in order."""
    return [s for s in steps if s.applies(answers)]


def is_complete(step: Step, answers: Answers) -> bool:
    return not step.final and step.key in answers


def first_incomplete(steps: Sequence[Step], answers: Answers) -> Step:
    """The resume point: the first applicable step without an answer."""
    route = path(steps, answers)
    return next((s for s in route if not is_complete(s, answers)), route[-1])


def can_visit(steps: Sequence[Step], answers: Answers, key: str) -> bool:
    """A step may be shown when it applies and every step before it is answered."""
    for step in path(steps, answers):
        if step.key == key:
            return True
        if not is_complete(step, answers):
            return False
    return False


def next_step(steps: Sequence[Step], answers: Answers, key: str) -> Step:
    """The step after `key` on the route (the last step when `key` is the last)."""
    route = path(steps, answers)
    keys = [s.key for s in route]
    index = keys.index(key) if key in keys else -1
    return route[min(index + 1, len(route) - 1)]


def previous_step(steps: Sequence[Step], answers: Answers, key: str) -> Step | None:
    """The step before `key` on the route (None for the first step)."""
    keys = [s.key for s in path(steps, answers)]
    index = keys.index(key) if key in keys else 0
    return path(steps, answers)[index - 1] if index > 0 else None


def visible_fields(step: Step, answers: Answers) -> set[str]:
    """The revealed fields of `step` whose condition holds."""
    return {name for name, shows in step.reveals.items() if shows(answers)}


def prune(steps: Sequence[Step], answers: Answers) -> tuple[dict, list[Step]]:
    """Drop answers of steps off the route and revealed fields no longer shown.

    Returns the new answers and the steps whose answers were dropped entirely.
    """
    result = {k: dict(v) for k, v in answers.items()}
    dropped = []
    changed = True
    while changed:  # dropping one answer can take further steps off the route
        changed = False
        on_route = {s.key for s in path(steps, result)}
        for step in steps:
            if step.key in result and step.key not in on_route:
                del result[step.key]
                dropped.append(step)
                changed = True
        for step in steps:
            values = result.get(step.key)
            if values is None:
                continue
            hidden = set(step.reveals) - visible_fields(step, result)
            for name in hidden & set(values):
                del values[name]
                changed = True
    return result, dropped


def answer(steps: Sequence[Step], answers: Answers, key: str, values: Mapping[str, Any]) -> tuple[dict, list[Step]]:
    """Record a step's values, drop steps that depend on a changed value, then prune."""
    result = {k: dict(v) for k, v in answers.items()}
    changed = result.get(key) is not None and result.get(key) != dict(values)
    result[key] = dict(values)
    dropped = []
    if changed:
        for step in steps:
            if key in step.depends_on and step.key in result:
                del result[step.key]
                dropped.append(step)
    result, pruned = prune(steps, result)
    return result, dropped + pruned
