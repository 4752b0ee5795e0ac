"""The JSON API, /api/v1/: drafts (create, read with their route, next step and price, answer a step,
discard), free numbers, orders (place a draft, with an Idempotency-Key) and subscriptions, for scripts
of intranet teams and resellers. Described by OpenAPI 3.1 at /api/v1/openapi.json (flask-smorest:
marshmallow schemas for every body and answer, the description generated from the same code that
validates), readable at /api/v1/docs.

Everything a request does goes through the wizard's own parts: a step is validated by its form
(orders.bind_form), recorded by flow.answer and effects.settle and written by drafts.save_answers
with the version as the ETag; an order is placed by orders.place. Authentication is a personal token
(Authorization: Bearer, tokens.py): no cookies, so no CSRF. Errors are application/problem+json
(RFC 9457) with a JSON pointer per field that failed, in the forms' own words.
"""

from __future__ import annotations

import hashlib
import json

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Api, Blueprint
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, BaseConverter

from . import clock, db, drafts, effects, flow, identity, numbers, orders, pricing, tokens
from .context import StepContext
from .extensions import csrf, limiter
from .listing import subscription_search
from .models import ApiRequest, Contract, Draft, Organisation, Subscription
from .paging import paginate
from .problems import PROBLEM, explained, problem_response
from .steps import BY_KEY, STEPS

PREFIX = "/api/v1"
DRAFT_ID = r"[A-Za-z0-9_-]{1,32}"  # models.new_draft_id: URL-safe base64, within the column's 32 characters
ANSWERABLE = [step.key for step in STEPS if step.form is not None and not step.final]


class DraftIdConverter(BaseConverter):
    """A draft id in a path: any other text is no draft (404) before a query is made."""

    regex = DRAFT_ID


class StepKeyConverter(AnyConverter):
    """A step that takes an answer; the description lists them."""

    example = ANSWERABLE[0]  # for a test that builds every route's address

    def __init__(self, url_map):
        super().__init__(url_map, *ANSWERABLE)


class QuietApi(Api):
    """flask-smorest's Api without its app-wide error handler: the wizard's pages keep their HTML
    error pages; the API's problems are this module's (`problem`). No catch-all "default" response in
    the description either: every status an operation answers is listed with its own schema."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


bp = Blueprint("api", __name__, url_prefix=PREFIX, description="Drafts, numbers, orders and subscriptions.")
docs = FlaskBlueprint("api_docs", __name__)


# --------------------------------------------------------------------------- problems (RFC 9457)


class ProblemSchema(ma.Schema):
    type = ma.fields.String()
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        metadata={"description": "One entry per field that failed: its JSON pointer and the message."},
    )


class Problem(HTTPException):
    """An HTTP error with problem details, raised anywhere in the API."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: list | None = None, headers=None):
        super().__init__(description=detail)
        self.code = status
        self.title, self.detail, self.errors, self.extra_headers = title, detail, errors or [], headers or {}


@bp.errorhandler(HTTPException)
@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(429)
@bp.errorhandler(500)
def _problem(exc: HTTPException):
    """Every error of the API's views as problem details. Flask prefers the app's handler for a status
    (errors.py registers 400, 404, 429 and 500 for the pages) to a blueprint's handler for a class, so
    those statuses are named here too: webargs' 400, the limiter's 429 and a crash stay problem+json."""
    if isinstance(exc, Problem):
        return problem_response(exc.code or 500, exc.title, exc.detail, exc.errors, exc.extra_headers)
    data = getattr(exc, "data", None) or {}
    errors = []
    for location, fields in (data.get("messages") or {}).items():  # webargs: {"json": {"field": [...]}}
        errors += list(_pointers(fields, "/" if location == "json" else f"#/{location}/"))
    status = exc.code or 500
    title, detail = explained(status)
    return problem_response(status, title, detail if not errors else None, errors, _retry_after(exc))


def _retry_after(exc) -> dict:
    limit = getattr(exc, "limit", None)
    return {"Retry-After": "60"} if limit is not None else {}


def _stale() -> Problem:
    """412: the draft's version is not the one the request names (If-Match, or an order's version)."""
    return Problem(412, _("The draft changed meanwhile"), _("Read it again, then retry."))


def _not_found(detail: str) -> Problem:
    return Problem(404, explained(404)[0], detail)


def _pointers(fields, base: str):
    """webargs' {"field": [messages]} (nested for nested fields) as one {pointer, detail} per message:
    a JSON pointer (RFC 6901, its segments escaped) into the body, or "#/query/…" for the query."""
    if isinstance(fields, dict):
        for name, inner in fields.items():
            if name == "_schema":  # marshmallow's name for the whole object (e.g. a body that is a list)
                yield from _pointers(inner, base)
                continue
            segment = str(name).replace("~", "~0").replace("/", "~1")
            yield from _pointers(inner, f"{base.rstrip('/')}/{segment}" if base != "/" else f"/{segment}")
    elif isinstance(fields, list) and fields and all(isinstance(m, str) for m in fields):
        for message in fields:
            yield {"pointer": base, "detail": str(MARSHMALLOW_MESSAGES.get(message, message))}
    elif isinstance(fields, list):
        for index, inner in enumerate(fields):
            yield from _pointers(inner, f"{base}/{index}")


def _form_errors(form, base: str) -> list[dict]:
    return [
        {"pointer": f"{base}/{name}", "detail": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]


# --------------------------------------------------------------------------- authentication


def _found():
    """The request's token and its creator, or None: looked up once per request, first by the rate
    limits (which run before the views) and then by `authenticate`. Its use is noted (a write) only
    on a request that writes anyway: a GET never writes."""
    if "api_found" not in g:
        scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        g.api_found = (
            tokens.authenticate(db.session(), raw.strip(), clock.now(), note_use=writes)
            if scheme.lower() == "bearer"
            else None
        )
    return g.api_found


def _rate_key() -> str:
    """One count per valid token; every request without one, per client address. So a new made-up
    token each time neither dodges the limit nor adds a key to the limiter's storage, and what others
    send without a valid token never uses up a valid token's allowance."""
    found = _found()
    return f"api-token:{found[0].id}" if found else f"api-unauthenticated:{request.remote_addr}"


@bp.before_request
def authenticate():
    """Bearer token, checked on every request (a revoked token, or its creator's lost permission,
    stops it at once); the organisation and its contract in force read with it."""
    found = _found()
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    if found is None:
        title, detail = explained(401)
        raise Problem(401, title, detail, headers={"WWW-Authenticate": 'Bearer realm="subs-wizard"'})
    g.api_token, g.api_user = found
    if writes:
        db.session().commit()  # tokens.authenticate noted when the token was last used
    in_force = identity.contract_in_force(clock.today())
    row = (
        db.session()
        .execute(
            select(Organisation, Contract)
            .outerjoin(Contract, in_force)
            .where(Organisation.id == g.api_user.organisation_id)
            .limit(1)
        )
        .one()
    )
    g.api_org, g.api_contract = row.Organisation, row.Contract


@bp.before_request
def json_body():
    """A body must be JSON that Python can read: anything else is a problem (415, 400), never a crash.
    webargs reads the body again afterwards, and its json.loads lets through what is not a syntax error:
    a number of more than 4,300 digits (ValueError) or deep nesting (RecursionError)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    data = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: 413
    if not data:
        return  # webargs names the missing fields
    if not request.is_json:
        raise Problem(415, *explained(415))
    try:
        json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Problem(400, _("The body is not valid JSON"), _("Send one JSON object, encoded in UTF-8.")) from None


@bp.after_request
def no_cookies(response):
    response.headers.pop("Set-Cookie", None)
    response.headers["Cache-Control"] = "no-store"
    return response


# Shared across the API's operations (one allowance, not one per address), per valid token; requests
# without a valid token have their own, smaller one per client address.
limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_rate_key, exempt_when=lambda: _found() is None
)(bp)
limiter.shared_limit(
    lambda: current_app.config["API_FAILED_AUTH_LIMIT"],
    scope="api-unauthenticated",
    key_func=_rate_key,
    exempt_when=lambda: _found() is not None,
)(bp)


# --------------------------------------------------------------------------- schemas

# The messages of a request that does not fit its schema, in the reader's language. The validators are
# given ours (marshmallow formats them during the request, so a lazy string comes out in its language);
# marshmallow's own messages are fixed English strings, translated where the problem is written
# (`_pointers`), since marshmallow needs real strings for them.
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": _l("Required"),
    "Field may not be null.": _l("May not be null"),
    "Invalid value.": _l("Not a valid value"),
    "Not a valid string.": _l("Must be text"),
    "Not a valid integer.": _l("Must be a whole number"),
    "Not a valid number.": _l("Must be a number"),
    "Number too large.": _l("Too large a number"),
    "Not a valid boolean.": _l("Must be true or false"),
    "Not a valid mapping type.": _l("Must be an object"),
    "Not a valid list.": _l("Must be a list"),
    "Not a valid date.": _l("Must be a date (YYYY-MM-DD)"),
    "Unknown field.": _l("Not a field of this request"),
    "Invalid input type.": _l("Must be a JSON object"),
}


def _one_of(choices: list[str]):
    return ma.validate.OneOf(choices, error=_l("Must be one of: {choices}"))


def _from_to(low: int, high: int):
    return ma.validate.Range(min=low, max=high, error=_l("Must be from {min} to {max}"))


def _at_most(length: int):
    return ma.validate.Length(max=length, error=_l("At most {max} characters"))


class PriceLineSchema(ma.Schema):
    item = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    monthly_ore = ma.fields.Integer(required=True)
    one_off_ore = ma.fields.Integer(required=True)


class SummarySchema(ma.Schema):
    monthly_ore = ma.fields.Integer(required=True)
    one_off_ore = ma.fields.Integer(required=True)
    binding_ends_on = ma.fields.Date(allow_none=True, required=True)
    lines = ma.fields.List(ma.fields.Nested(PriceLineSchema), required=True)


class RouteStepSchema(ma.Schema):
    key = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    answered = ma.fields.Boolean(required=True)


class DraftSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    answers = ma.fields.Dict(required=True)
    route = ma.fields.List(ma.fields.Nested(RouteStepSchema), required=True)
    next_step = ma.fields.String(required=True, metadata={"description": "review when every step is answered"})
    summary = ma.fields.Nested(SummarySchema, required=True)


class NewDraftSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=_one_of(["mobile", "fixed"]))


class AnswerSchema(ma.Schema):
    values = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(metadata={"type": ["string", "number", "boolean"]}),  # answer_step checks it
        required=True,
        metadata={"description": 'The step\'s fields as its form has them, e.g. {"sim_kind": "esim"}'},
    )


class NumberSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    e164 = ma.fields.String(required=True)
    national = ma.fields.String(required=True)


class NumberQuerySchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=_one_of(["mobile", "fixed"]))
    digits = ma.fields.String(load_default="", validate=_at_most(20))
    match = ma.fields.String(load_default="anywhere", validate=_one_of(["anywhere", "start", "end"]))
    page = ma.fields.Integer(load_default=1, validate=_from_to(1, 10_000))


class NumberPageSchema(ma.Schema):
    numbers = ma.fields.List(ma.fields.Nested(NumberSchema), required=True)
    more = ma.fields.Boolean(required=True)


class OrderRequestSchema(ma.Schema):
    draft_id = ma.fields.String(
        required=True, validate=ma.validate.Regexp(f"^{DRAFT_ID}$", error=_l("Not the id of a draft"))
    )
    version = ma.fields.Integer(required=True, strict=True, validate=_from_to(1, 2**31 - 1))
    accept_binding = ma.fields.Boolean(load_default=False)


class SubscriptionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    user_email = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    porting_status = ma.fields.String(allow_none=True, required=True)
    order_reference = ma.fields.String(allow_none=True, required=True)
    monthly_ore = ma.fields.Integer(required=True)
    one_off_ore = ma.fields.Integer(required=True)
    binding_ends_on = ma.fields.Date(allow_none=True, required=True)


class OrderSchema(ma.Schema):
    reference = ma.fields.String(allow_none=True, required=True)
    subscription = ma.fields.Nested(SubscriptionSchema, required=True)


class SubscriptionQuerySchema(ma.Schema):
    q = ma.fields.String(load_default="", validate=_at_most(100))
    page = ma.fields.Integer(load_default=1, validate=_from_to(1, 10_000))
    per_page = ma.fields.Integer(load_default=25, validate=_from_to(1, 100))


class SubscriptionPageSchema(ma.Schema):
    subscriptions = ma.fields.List(ma.fields.Nested(SubscriptionSchema), required=True)
    page = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


# --------------------------------------------------------------------------- helpers


def _context(draft: Draft, held=None) -> StepContext:
    return StepContext.now_for(draft, g.api_org, g.api_contract, held)


def _draft(draft_id: str) -> Draft:
    """A single order's draft this token's person may see, or 404 (another tenant's too)."""
    draft = drafts.get_open(db.session(), g.api_user, draft_id)
    if draft is None or draft.kind != "single":
        raise _not_found(_("There is no draft %(id)s here.", id=draft_id[:40]))
    return draft


def _draft_body(ctx: StepContext) -> dict:
    route = flow.path(STEPS, ctx.answers)
    quote = pricing.quote(ctx.prices(), ctx.contract, ctx.answers, ctx.today)
    return {
        "id": ctx.draft.id,
        "status": ctx.draft.status,
        "version": ctx.draft.version,
        "answers": ctx.answers,
        "route": [{"key": s.key, "title": str(s.title), "answered": flow.is_complete(s, ctx.answers)} for s in route],
        "next_step": flow.first_incomplete(STEPS, ctx.answers).key,
        "summary": {
            "monthly_ore": quote.monthly_ore,
            "one_off_ore": quote.one_off_ore,
            "binding_ends_on": quote.binding_ends_on,
            "lines": [
                {
                    "item": line.item.code,
                    "name": line.label,
                    "monthly_ore": line.monthly_ore,
                    "one_off_ore": line.one_off_ore,
                }
                for line in quote.lines
            ],
        },
    }


def _etag(draft: Draft) -> str:
    return f'"{draft.version}"'


def _subscription_body(subscription: Subscription) -> dict:
    return {
        "id": subscription.id,
        "number": subscription.number.e164,
        "kind": subscription.kind,
        "user_email": subscription.user.email,
        "status": subscription.status,
        "porting_status": subscription.porting_status,
        "order_reference": subscription.order.reference if subscription.order else None,
        "monthly_ore": subscription.monthly_ore,
        "one_off_ore": subscription.one_off_ore,
        "binding_ends_on": subscription.binding_ends_on,
    }


def _header(description: str, required: bool = True) -> dict:
    return {"description": description, "required": required, "schema": {"type": "string"}}


# What each problem an operation may answer means, for the description (a client, and the schema check
# of tests/test_api_schema.py, know every status an operation answers; there is no catch-all).
PROBLEMS = {
    400: ("The body is not valid JSON (or not UTF-8)", {}),
    401: (
        "No valid personal API token",
        {"WWW-Authenticate": _header("Bearer")},
    ),
    404: ("Nothing of that id here (or another organisation's)", {}),
    409: ("Not possible in the current state: see the title and detail", {}),
    412: ("The If-Match version is not the current one (or the draft changed meanwhile)", {}),
    428: ("No If-Match: a change must name the version it was made from", {}),
    413: ("The body is larger than the server takes", {}),
    415: ("The body is not sent as application/json", {}),
    422: ("A value is not valid: one entry in errors per field, with its JSON pointer", {}),
    429: ("Too many requests with this token: wait Retry-After seconds", {"Retry-After": _header("Seconds")}),
}
BODY = (400, 413, 415, 422)  # what any operation that reads a JSON body may answer
ETAG = {"ETag": _header('The draft\'s version, quoted ("3"): send it back as If-Match')}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag last read: the change is refused (412) if the draft changed since, and without it (428)",
    "schema": {"type": "string", "maxLength": 100},
}


def documented(*statuses: int):
    """alt_response entries for the problems an operation may answer (documented, so a client and a
    schema check know them)."""

    def decorate(view):
        for status in (401, 429, *statuses):
            description, headers = PROBLEMS[status]
            view = bp.alt_response(
                status, schema=ProblemSchema, content_type=PROBLEM, description=description, headers=headers or None
            )(view)
        return view

    return decorate


# --------------------------------------------------------------------------- drafts


@bp.route("/drafts", methods=["POST"])
@bp.arguments(NewDraftSchema)
@bp.response(201, DraftSchema, headers={**ETAG, "Location": _header("The draft's address")})
@documented(409, *BODY)
def create_draft(body):
    """Start an order of a kind (mobile or fixed): its first step, the type, answered."""
    sess = db.session()
    db.lock_for_write(sess)
    started = drafts.count_started_by(sess, g.api_user)
    if started >= current_app.config["MAX_OPEN_DRAFTS_PER_USER"]:
        raise Problem(409, _("Too many unfinished orders"), _("Finish or discard one before you start another."))
    draft = drafts.create(sess, g.api_user, {"type": {"kind": body["kind"]}}, clock.now())
    sess.commit()
    return (
        _draft_body(_context(draft)),
        201,
        {"ETag": _etag(draft), "Location": url_for("api.read_draft", draft_id=draft.id)},
    )


@bp.route("/drafts/<draft_id:draft_id>", methods=["GET"])
@bp.response(200, DraftSchema, headers=ETAG)
@documented(404)
def read_draft(draft_id):
    """A draft with its answers, its route of steps, the next step to answer and its price."""
    draft = _draft(draft_id)
    return _draft_body(_context(draft, numbers.held_by(db.session(), draft.id))), 200, {"ETag": _etag(draft)}


@bp.route("/drafts/<draft_id:draft_id>", methods=["DELETE"])
@bp.response(204)
@bp.doc(parameters=[IF_MATCH])
@documented(404, 409, 412, 428)
def discard_draft(draft_id):
    """Discard an unfinished draft and release its number."""
    draft = _draft(draft_id)
    if draft.status != "open":
        raise Problem(409, _("Already ordered"), _("This draft was ordered; it cannot be discarded."))
    _check_if_match(draft)
    sess = db.session()
    try:
        drafts.discard(sess, draft, draft.version, clock.now(), g.api_user.id)
    except drafts.StaleDraft:
        sess.rollback()
        raise _stale() from None
    sess.commit()
    return ""


def _check_if_match(draft: Draft) -> None:
    """A change names the version it was made from (If-Match: the ETag read), so two scripts cannot
    overwrite each other unseen: none (or "*", which names no version) gives 428, another version 412.
    Neither answer says the current version: a script must read the draft to learn it."""
    wanted = (request.headers.get("If-Match") or "").strip()
    if wanted in ("", "*"):
        raise Problem(
            428,
            _("If-Match needed"),
            _("Send the draft's ETag, as you read it, in an If-Match header (“*” names no version)."),
        )
    if wanted != _etag(draft):
        raise _stale()


@bp.route("/drafts/<draft_id:draft_id>/steps/<step_key:step_key>", methods=["PUT"])
@bp.arguments(AnswerSchema)
@bp.response(200, DraftSchema, headers=ETAG)
@bp.doc(parameters=[IF_MATCH])
@documented(404, 409, 412, 428, *BODY)
def answer_step(body, draft_id, step_key):
    """Answer one step with its form's fields, as a buyer posting the step; send the ETag you read
    as If-Match (a stale one gives 412). Answers of later steps that no longer apply are dropped."""
    draft = _draft(draft_id)
    step = BY_KEY[step_key]  # one of ANSWERABLE: the route's converter took no other
    if draft.status != "open":
        raise Problem(409, _("Already ordered"), _("This draft was ordered; its answers cannot change."))
    _check_if_match(draft)
    ctx = _context(draft, numbers.held_by(db.session(), draft.id))
    if not flow.can_visit(STEPS, ctx.answers, step.key):
        raise Problem(
            409,
            _("Not this step yet"),
            _("Answer %(step)s first.", step=flow.first_incomplete(STEPS, ctx.answers).key),
        )
    values: MultiDict = MultiDict()
    for name, value in body["values"].items():
        if isinstance(value, bool):
            if value:
                values.add(name, "y")
        elif isinstance(value, int | float | str):
            values.add(name, str(value))
        else:
            raise Problem(
                422,
                _("The request has values that are not valid"),
                errors=[{"pointer": f"/values/{name}", "detail": _("Give a text, a number or true/false")}],
            )
    form = orders.bind_form(step, ctx, values, csrf=False)
    if not form.validate():
        raise Problem(422, _("The answer is not valid"), errors=_form_errors(form, "/values"))
    answers, _dropped = flow.answer(STEPS, ctx.answers, step.key, form.values(ctx))
    try:
        answers = effects.settle(ctx, answers)
        drafts.save_answers(ctx.sess, draft, answers, draft.version, ctx.now)
    except effects.NumberTaken as taken:
        ctx.sess.rollback()
        raise Problem(
            422,
            _("The answer is not valid"),
            errors=[{"pointer": f"/values/{taken.field}", "detail": str(taken.message)}],
        ) from None
    except drafts.StaleDraft:
        ctx.sess.rollback()
        raise _stale() from None
    ctx.sess.commit()
    ctx.answers = answers
    return _draft_body(ctx), 200, {"ETag": _etag(draft)}


# --------------------------------------------------------------------------- free numbers


@bp.route("/numbers", methods=["GET"])
@bp.arguments(NumberQuerySchema, location="query")
@bp.response(200, NumberPageSchema)
@documented(422)
def free_numbers(query):
    """Free numbers of a kind whose digits match (anywhere, at the start or at the end), ten a page."""
    found, more = numbers.search_free(
        db.session(), query["kind"], query["digits"], clock.now(), query["match"], query["page"]
    )
    return {
        "numbers": [{"id": n.id, "e164": n.e164, "national": numbers.national(n.e164)} for n in found],
        "more": more,
    }


# --------------------------------------------------------------------------- orders


@bp.route("/orders", methods=["POST"])
@bp.arguments(OrderRequestSchema)
@bp.response(201, OrderSchema)
@bp.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": True,
            "description": "Your key for this order: the same key and body always give the same order",
            "schema": {"type": "string", "minLength": 1, "maxLength": 100},
        }
    ]
)
@documented(404, 409, 412, *BODY)
def place_order(body):
    """Place (buy) a draft whose every step is answered. Send an Idempotency-Key header: the same key
    with the same body gives the same order however often it is sent; the same key with another body
    is refused (422). A bound order needs accept_binding true."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 100:
        raise Problem(
            422,
            _("The request has values that are not valid"),
            errors=[
                {
                    "pointer": "#/headers/Idempotency-Key",
                    "detail": _("Send an Idempotency-Key header of 1 to 100 characters"),
                }
            ],
        )
    fresh = _remember_key(key, body)
    try:
        return _place(body)
    except Problem:
        if fresh:  # a refused request binds its key to nothing: the retry (another version, say) may use it
            _forget_key(key)
        raise


def _place(body: dict) -> tuple[dict, int]:
    draft = _draft(body["draft_id"])
    ctx = _context(draft, numbers.held_by(db.session(), draft.id))
    if draft.status == "open":
        if not flow.first_incomplete(STEPS, ctx.answers).final:
            raise Problem(
                409,
                _("Not ready to order"),
                _("Answer %(step)s first.", step=flow.first_incomplete(STEPS, ctx.answers).key),
            )
        bound = pricing.quote(ctx.prices(), ctx.contract, ctx.answers, ctx.today).binding_ends_on
        if bound and not body["accept_binding"]:
            raise Problem(
                422,
                _("The binding period is not accepted"),
                errors=[{"pointer": "/accept_binding", "detail": _("Accept the binding period to save this order")}],
            )
    result = (
        orders.place(ctx, g.api_user, body["version"])
        if draft.status == "open"
        else orders.existing(ctx.sess, draft.id)
    )
    if isinstance(result, orders.Problem) and result.step == orders.STALE:
        raise _stale()
    if isinstance(result, orders.Problem):
        raise Problem(
            409,
            _("Something changed since the answers were given"),
            errors=[
                {"pointer": f"/answers/{result.step}/{name}", "detail": str(m)}
                for name, ms in result.errors.items()
                for m in ms
            ],
        )
    if result is None:
        raise _not_found(_("There is no draft %(id)s here.", id=body["draft_id"][:40]))
    subscription = db.session().get(Subscription, result.id)
    assert subscription is not None  # placed, or found placed, a moment ago
    return {
        "reference": subscription.order.reference if subscription.order else None,
        "subscription": _subscription_body(subscription),
    }, 201


def _remember_key(key: str, body: dict) -> bool:
    """The key with the body it came with (a hash), once per organisation: another body under the same
    key is refused. The order itself is placed once per draft whatever the key (orders.place). True
    when this request is the key's first."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    sess = db.session()
    known = sess.scalar(select(ApiRequest).where(ApiRequest.organisation_id == g.api_org.id, ApiRequest.key == key))
    if known is None:
        try:
            sess.add(ApiRequest(organisation_id=g.api_org.id, key=key, body_hash=digest, created_at=clock.now()))
            sess.commit()
            return True
        except IntegrityError:  # the same key, sent at the same moment: the first one's row decides
            sess.rollback()
            known = sess.scalar(
                select(ApiRequest).where(ApiRequest.organisation_id == g.api_org.id, ApiRequest.key == key)
            )
    if known is not None and known.body_hash != digest:
        raise Problem(
            422,
            _("This Idempotency-Key was used for another request"),
            errors=[{"pointer": "#/headers/Idempotency-Key", "detail": _("Use a new key for a new request")}],
        )
    return False


def _forget_key(key: str) -> None:
    sess = db.session()
    sess.rollback()
    sess.execute(delete(ApiRequest).where(ApiRequest.organisation_id == g.api_org.id, ApiRequest.key == key))
    sess.commit()


# --------------------------------------------------------------------------- subscriptions


@bp.route("/subscriptions", methods=["GET"])
@bp.arguments(SubscriptionQuerySchema, location="query")
@bp.response(200, SubscriptionPageSchema)
@documented(422)
def list_subscriptions(query):
    """The organisation's subscriptions, newest first, paged; q finds digits of the number, the
    user's name or e-mail address, or the order reference."""
    found = paginate(db.session(), subscription_search(g.api_org.id, query["q"]), query["page"], query["per_page"])
    return {
        "subscriptions": [_subscription_body(row.Subscription) for row in found.rows],
        "page": found.number,
        "pages": found.pages,
        "total": found.total,
    }


@bp.route("/subscriptions/<int(max=2147483647):subscription_id>", methods=["GET"])
@bp.response(200, SubscriptionSchema)
@documented(404)
def read_subscription(subscription_id):
    """One subscription of the organisation."""
    subscription = db.session().get(Subscription, subscription_id)
    if subscription is None or subscription.organisation_id != g.api_org.id:
        raise _not_found(_("There is no subscription %(id)s here.", id=subscription_id))
    return _subscription_body(subscription)


# --------------------------------------------------------------------------- the description, readable


@docs.route(f"{PREFIX}/docs")
def human_docs():
    """The OpenAPI description as a page (no script, no CDN): operations, parameters and schemas."""
    spec = current_app.extensions["wizard_api"].spec.to_dict()
    return render_template("wizard/api_docs.html", spec=spec)


def init_app(app) -> None:
    """The API on a standalone app (a host that mounts the wizard has its own API story)."""
    app.config.setdefault("API_TITLE", "Subs wizard API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", "120 per minute")
    app.config.setdefault("API_FAILED_AUTH_LIMIT", "30 per minute")
    api = QuietApi()  # one per app (each app gets its own description)
    api.init_app(app)
    app.extensions["wizard_api"] = api
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    app.url_map.converters["draft_id"] = DraftIdConverter
    app.url_map.converters["step_key"] = StepKeyConverter
    api.register_converter(DraftIdConverter, lambda _c: {"type": "string", "pattern": f"^{DRAFT_ID}$"})
    api.register_converter(StepKeyConverter, lambda _c: {"type": "string", "enum": ANSWERABLE})
    api.register_blueprint(bp)
    for unused in ("Error", "PaginationMetadata"):  # flask-smorest's own, which no operation here answers with
        api.spec.components.schemas.pop(unused, None)
    csrf.exempt(bp)  # bearer tokens, never cookies: nothing for a forged cross-site request to ride on
    app.register_blueprint(docs)
