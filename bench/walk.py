"""A buyer walking the wizard with plain form posts (CSRF on), over any transport.

The walker reads every step's form from the HTML (as tests/wizard_client.py does) and answers
whatever step it is redirected to from a table of answers keyed by field name (with per-step
overrides for names two steps share, such as ``code``). A field it has no answer for keeps the
value the page shows, or takes the first option that is not disabled. It stops at the step
whose page holds the Save form (Check your answers), saves, and opens the done page.

A transport has ``request(method, path, data=None) -> Reply``; ``Reply`` carries the status,
the redirect target (a path), the body and, in-process, the SQL the request sent.
"""

from __future__ import annotations

import html as htmllib
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SUBS = "/settings/account/subs"
ORDERS = SUBS + "/orders"

# What the benchmark buyer answers, by field name; step keys override for shared names.
# A mobile subscription on the contract's bound prices, fixed call rate, 20 GB, a new number
# from the pool, eSIM, no PBX, Erik Lund as the user, no top-up (cf. tests/test_wizard_journeys.py).
FIELD_ANSWERS = {
    "kind": "mobile",
    "basis": "bound",
    "choice": "new",
    "sim_kind": "esim",
    "mode": "independent",
    "top_up": "no",
    # user_id is filled in from the database (Erik Lund) by the caller
}
STEP_ANSWERS = {
    "call_rate": {"code": "rate-fixed"},
    "data_package": {"code": "data-20"},
}

_ATTR = re.compile(r'([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+)))?')
_TAG = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.I)
_OPTION = re.compile(r"<option\b([^>]*)>", re.I)
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)


class WalkError(AssertionError):
    """The wizard answered something a successful purchase never gets."""


def attrs(text: str) -> dict:
    out = {}
    for m in _ATTR.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        out[m.group(1).lower()] = htmllib.unescape(value) if value is not None else ""
    return out


@dataclass
class Field:
    name: str
    kind: str  # hidden, text, radio, checkbox, select, textarea, ...
    options: list = field(default_factory=list)  # (value, checked/selected, disabled)
    value: str = ""


@dataclass
class Form:
    action: str
    fields: dict  # name -> Field (hidden fields may repeat: values in Field.options)


def forms(page: str) -> list[Form]:
    """Every POST form of a page with its fields."""
    found = []
    for m in _FORM.finditer(page):
        fa = attrs(m.group(1))
        if fa.get("method", "get").lower() != "post":
            continue
        body = m.group(2)
        fields: dict[str, Field] = {}
        for tm in _TAG.finditer(body):
            tag, ta = tm.group(1).lower(), attrs(tm.group(2))
            name = ta.get("name")
            if not name or tag == "button":
                continue
            disabled = "disabled" in ta
            if tag == "select":
                end = body.find("</select>", tm.end())
                opts = [attrs(o.group(1)) for o in _OPTION.finditer(body[tm.end() : end if end >= 0 else None])]
                fields[name] = Field(
                    name, "select", [(o.get("value", ""), "selected" in o, "disabled" in o) for o in opts]
                )
                continue
            if tag == "textarea":
                end = body.find("</textarea>", tm.end())
                fields[name] = Field(name, "textarea", value=htmllib.unescape(body[tm.end() : end]))
                continue
            kind = ta.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                continue
            f = fields.setdefault(name, Field(name, kind))
            if kind in ("radio", "checkbox", "hidden"):
                f.options.append((ta.get("value", "on"), "checked" in ta, disabled))
            else:
                f.value = ta.get("value", "")
        found.append(Form(fa.get("action", ""), fields))
    return found


def fill(form: Form, answers: dict, warn=None) -> dict:
    """The POST body for a form: hidden inputs as they are, visible fields from `answers`."""
    data: dict[str, list[str] | str] = {}
    for name, f in form.fields.items():
        wanted = answers.get(name)
        if f.kind == "hidden":
            data[name] = [v for v, _c, _d in f.options]
        elif f.kind in ("radio", "select"):
            enabled = [v for v, _c, d in f.options if not d and v != ""]
            checked = [v for v, c, d in f.options if c and not d]
            if wanted is not None and str(wanted) in enabled:
                data[name] = str(wanted)
            elif checked:
                data[name] = checked[0]
            elif enabled:
                if wanted is not None and warn:
                    warn(f"{name}={wanted!r} is not offered; took {enabled[0]!r}")
                data[name] = enabled[0]
        elif f.kind == "checkbox":
            on = [v for v, c, d in f.options if not d]
            if wanted in (True, "y", "yes", "on") and on:
                data[name] = on[0]
            elif wanted is None:
                data[name] = [v for v, c, d in f.options if c]
        else:
            value = wanted if wanted is not None else f.value
            if value not in (None, ""):
                data[name] = str(value)
    return {k: v for k, v in data.items() if v != []}


@dataclass
class Reply:
    status: int
    location: str | None
    text: str
    ms: float = 0.0
    sql: object = None  # RequestStats in-process
    size: int = 0


@dataclass
class StepRecord:
    """One step as the acceptance criteria count it: its POST(s) and the GET of the redirect."""

    step: str
    posts: list[Reply] = field(default_factory=list)
    get: Reply | None = None

    @property
    def ms(self) -> float:
        return sum(r.ms for r in self.posts) + (self.get.ms if self.get else 0.0)


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Walker:
    """One buyer on one transport; ``purchase()`` makes one whole purchase and returns its steps."""

    def __init__(self, transport, answers: dict | None = None, step_answers: dict | None = None, warn=None):
        self.t = transport
        self.answers = {**FIELD_ANSWERS, **(answers or {})}
        self.step_answers = {**STEP_ANSWERS, **(step_answers or {})}
        self.warn = warn
        self.page: str | None = None  # the last page, for its CSRF token

    def _expect(self, reply: Reply, statuses, what: str) -> Reply:
        if reply.status not in statuses:
            messages = [
                re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
                for m in re.findall(r'class="error-message"[^>]*>(.*?)</p>', reply.text, re.S)
            ]
            snippet = "; ".join(messages) or re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.text))[:300]
            raise WalkError(f"{what}: HTTP {reply.status} (wanted {statuses}) {snippet}")
        return reply

    def csrf(self) -> str:
        if self.page is None:
            self.page = self._expect(self.t.request("GET", SUBS), (200,), "subs page").text
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', self.page)
        if not m:
            raise WalkError("no CSRF token on the page")
        return m.group(1) or m.group(2)

    def login(self, email: str, password: str, retries: int = 10) -> None:
        for _attempt in range(retries):
            page = self._expect(self.t.request("GET", "/login"), (200,), "login page").text
            self.page = page
            reply = self.t.request("POST", "/login", {"csrf_token": self.csrf(), "email": email, "password": password})
            if reply.status == 429:  # the login rate limit per address: wait and try again
                time.sleep(5)
                continue
            self._expect(reply, (302, 303), f"login {email}")
            self.page = self._expect(self.t.request("GET", SUBS), (200,), "subs page").text
            return
        raise WalkError(f"login {email}: still rate-limited")

    def _answers_for(self, step: str) -> dict:
        return {**self.answers, **self.step_answers.get(step, {})}

    def _follow(self, record: StepRecord, location: str) -> str:
        record.get = self._expect(self.t.request("GET", location), (200,), f"GET {location}")
        self.page = record.get.text
        return location

    def purchase(self, kind: str = "mobile", max_steps: int = 30) -> list[StepRecord]:
        """Start an order from the Subs page's form, answer every step, Save, open the done page."""
        records = []
        start = StepRecord("start")
        reply = self._expect(
            self.t.request("POST", ORDERS, {"csrf_token": self.csrf(), "kind": kind}), (303,), "start order"
        )
        start.posts.append(reply)
        if not path_of(reply.location).startswith(ORDERS + "/"):
            raise WalkError(f"start order went to {reply.location} (too many open drafts?)")
        url = self._follow(start, path_of(reply.location))
        records.append(start)
        draft_url = url.rsplit("/", 1)[0]
        for _ in range(max_steps):
            page_forms = forms(self.page)
            save_form = next((f for f in page_forms if f.action.endswith("/save")), None)
            if save_form is not None:
                break
            key = urlsplit(url).path.rsplit("/", 1)[1]
            form = next(
                (
                    f
                    for f in page_forms
                    if path_of(f.action).startswith(draft_url) and not f.action.endswith(("/discard", "/save"))
                ),
                None,
            )
            if form is None:
                raise WalkError(f"step {key}: no step form on the page")
            record = StepRecord(key)
            answers = self._answers_for(key)
            warn = (lambda msg, key=key: self.warn(f"step {key}: {msg}")) if self.warn else None
            # Every follow-up question is in the page: one post saves the step (a 200 is a refusal).
            reply = self._expect(
                self.t.request("POST", path_of(form.action) or url, fill(form, answers, warn)),
                (303,),
                f"POST step {key}",
            )
            record.posts.append(reply)
            url = self._follow(record, path_of(reply.location))
            records.append(record)
        else:
            raise WalkError("no Check your answers page after many steps")
        save = StepRecord("save")
        reply = self._expect(
            self.t.request("POST", path_of(save_form.action), fill(save_form, {"accept_binding": True})), (303,), "save"
        )  # a bound order is bought only with its binding period accepted
        save.posts.append(reply)
        if not path_of(reply.location).endswith("/done"):
            raise WalkError(f"save went to {reply.location}")
        self._follow(save, path_of(reply.location))
        if "Subscription ordered" not in self.page:
            raise WalkError("done page does not say 'Subscription ordered'")
        records.append(save)
        return records
