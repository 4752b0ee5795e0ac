"""Deep links: answers a link may fill in (`.../orders/new?type=mobile&user=<e-mail>&number=new`).

Each value is checked by its step's form exactly as if the buyer had chosen it. The type becomes
the first step's answer; any other accepted value is only its step's starting value (pre-selected,
so the buyer still sees and confirms every step); a value that fails is dropped and its step says
why. Nothing here writes: the view creates the draft with what `check` found, on a POST.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from . import flow
from .context import StepContext
from .models import Draft, User
from .orders import bind_form
from .steps import BY_KEY, STEPS
from .text import has_control, printable


@dataclass(frozen=True)
class Param:
    """A query parameter a link may carry: the step and form field it fills, and what to say when
    its value is not one of that field's options."""

    name: str
    step: str
    field: str
    not_offered: Any  # a lazy message with %(value)s


PARAMS = (
    Param(
        "type",
        "type",
        "kind",
        _l(
            "The link you followed asked for the subscription type “%(value)s”, which is not offered. Choose mobile or fixed."
        ),
    ),
    Param(
        "user",
        "user",
        "user_id",
        _l(
            "The link you followed named the user “%(value)s”, but nobody who can be chosen in your organisation "
            "has that e-mail address. Choose a user."
        ),
    ),
    Param(
        "number",
        "number",
        "choice",
        _l(
            "The link you followed asked for the number choice “%(value)s”, which is not offered. Choose how to get a number."
        ),
    ),
)
BY_NAME = {param.name: param for param in PARAMS}
SHOWN_CHARS = 60  # of a link's value, when a page repeats it
SHOWN_IGNORED = 10  # unknown parameter names listed at most


@dataclass
class Prefill:
    """What a link fills in: the answers (the type), the other steps' starting values, what was
    dropped (per step) and which parameters were not recognised."""

    answers: dict = field(default_factory=dict)
    values: dict[str, dict] = field(default_factory=dict)
    filled: list[tuple[Any, str]] = field(default_factory=list)  # (step title, the value in words)
    dropped: dict[str, list[dict]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    given: dict[str, str] = field(default_factory=dict)  # the recognised parameters, as the link gave them

    def stored(self) -> dict | None:
        """For Draft.prefill: per step, its starting values and the values dropped from it."""
        keys = [s.key for s in STEPS if s.key in self.values or s.key in self.dropped]
        return {k: {"values": self.values.get(k, {}), "dropped": self.dropped.get(k, [])} for k in keys} or None

    def not_used(self) -> list[str]:
        """Every dropped value's message, in step order."""
        return [message(entry) for s in STEPS for entry in self.dropped.get(s.key, [])]


def check(ctx: StepContext, query: Mapping[str, str]) -> Prefill:
    """Check a link's values against their steps' forms, the type first (the other steps' options
    may depend on it). `ctx` is the context of the order about to be created; its answers grow."""
    found = Prefill(ignored=sorted(shorten(name, 40) for name in query if name not in BY_NAME)[:SHOWN_IGNORED])
    for param in PARAMS:
        value = (query.get(param.name) or "").strip()
        if value:
            found.given[param.name] = value
            _check_one(ctx, found, param, value)
    return found


def _check_one(ctx: StepContext, found: Prefill, param: Param, value: str) -> None:
    step = BY_KEY[param.step]
    chosen = value
    if has_control(value):  # no option, address or e-mail holds one (and PostgreSQL refuses NUL)
        return _drop(found, param, printable(value))
    if param.name == "user":  # by e-mail address, within the buyer's organisation only
        user = ctx.sess.scalar(select(User).where(User.organisation_id == ctx.org.id, User.email == value.lower()))
        if user is None:
            return _drop(found, param, value)
        chosen = str(user.id)
    form = bind_form(step, ctx, MultiDict({param.field: chosen}), csrf=False)
    option = next((c for c in form[param.field].iter_choices() if c.value == chosen), None)
    if option is None or (option.render_kw or {}).get("disabled"):
        return _drop(found, param, value)
    form.validate()
    errors = form.errors.get(param.field)  # the buyer has not answered the step's other fields yet
    if errors:
        return _drop(found, param, value, str(errors[0]))
    found.filled.append((step.title, str(option.label)))
    if step.key == STEPS[0].key:
        found.answers, _dropped = flow.answer(STEPS, found.answers, step.key, form.values(ctx))
        ctx.answers = found.answers
    else:
        found.values.setdefault(step.key, {})[param.field] = chosen


def _drop(found: Prefill, param: Param, value: str, error: str | None = None) -> None:
    entry = {"param": param.name, "value": shorten(value)}
    if error:
        entry["error"] = error
    found.dropped.setdefault(param.step, []).append(entry)


def shorten(text: str, chars: int = SHOWN_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def message(entry: dict) -> str:
    """A dropped value in words: why the link's value was not used, and what to do instead."""
    param = BY_NAME[entry["param"]]
    if "error" in entry:
        return gettext(
            "%(step)s from the link you followed (“%(value)s”) could not be used: %(reason)s",
            step=BY_KEY[param.step].title,
            value=entry["value"],
            reason=entry["error"],
        )
    return str(param.not_offered % {"value": entry["value"]})


def starting_values(draft: Draft, step_key: str) -> dict | None:
    """The values a link pre-selected on this step, if any."""
    return ((draft.prefill or {}).get(step_key) or {}).get("values") or None


# What the buyer typed on a step and left with Back or "Save and finish later" before it was a valid
# answer: kept beside the link's values (Draft.prefill[step]["typed"]) and shown when they return.
TYPED_CHARS = 100  # the longest field (an organisation number, a search) is far shorter


def typed(draft: Draft, step_key: str) -> MultiDict | None:
    """What the buyer typed here and has not saved as an answer yet, as the post it came from."""
    kept = ((draft.prefill or {}).get(step_key) or {}).get("typed")
    return MultiDict([(name, value) for name, values in kept.items() for value in values]) if kept else None


def with_typed(draft: Draft, step_key: str, form, posted: MultiDict) -> dict | None:
    """Draft.prefill with this step's typed input replaced: the posted values of the form's own
    fields that are not empty (control characters out, each cut to TYPED_CHARS). Empty input clears it."""
    kept = {
        name: [printable(v)[:TYPED_CHARS] for v in posted.getlist(name) if v.strip()]
        for name in form._fields
        if name != "csrf_token"
    }
    return replace_typed(draft, step_key, {name: values for name, values in kept.items() if values})


def replace_typed(draft: Draft, step_key: str, kept: dict | None) -> dict | None:
    """Draft.prefill with this step's typed input set to `kept` (None or empty: removed)."""
    result = {key: dict(entry) for key, entry in (draft.prefill or {}).items()}
    entry = result.setdefault(step_key, {})
    entry.pop("typed", None)
    if kept:
        entry["typed"] = kept
    if not entry:
        del result[step_key]
    return result or None


def dropped_messages(draft: Draft, step_key: str) -> list[str]:
    """Why values a link gave for this step were not used."""
    return [message(entry) for entry in ((draft.prefill or {}).get(step_key) or {}).get("dropped", [])]
