"""Orders for several people at once: one set of choices for the whole team, then a line per person
(who, which number, which SIM), typed in a table or read from a CSV file, bought in one Save.

Each line is checked with exactly the rules of a single order: it becomes the answers of a single
order (the shared choices plus its own), and each step's form validates them as if the buyer had
posted that step (`orders.bind_form`, the same forms and domain code). Save re-checks every line,
then buys them all in one transaction under one order, or none.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage, MultiDict

from . import drafts, notify, numbers, pricing, queue
from .context import StepContext
from .db import as_int
from .effects import HOLDING_CHOICES
from .forms import organisation_users
from .i18n import money
from .models import Draft, Order, Subscription, User, new_draft_id
from .orders import Taken, add_subscription, bind_form, new_order, reference
from .pricing import localised
from .steps import BY_KEY, STEPS
from .text import has_control, printable

MAX_LINES = 100
MAX_FILE_BYTES = 64 * 1024  # a CSV file of 100 lines is about 12 KiB
COLUMNS = ("email", "number_choice", "number", "port_operator", "port_date", "port_owner_org_number", "sim", "icc")
COLUMN_NAMES = {
    "email": _l("Person (e-mail address)"),
    "number_choice": _l("Number"),
    "number": _l("Reserved number or number to move"),
    "port_operator": _l("Current operator"),
    "port_date": _l("Wanted porting date"),
    "port_owner_org_number": _l("Owner's organisation number"),
    "sim": _l("SIM"),
    "icc": _l("SIM card number (ICC)"),
}
NUMBER_CHOICES = ("new", "reserved", "port")  # no "specific" in bulk: a search does not fit a line
SIM_CHOICES = ("physical", "esim")
# The steps whose answers every line shares (the type is chosen when the batch starts).
SHARED = ("price_basis", "call_rate", "data_package", "pbx", "top_up")
# Which column a step's field is typed in, to name it in a problem.
FIELD_COLUMN = {
    "user_id": "email",
    "choice": "number_choice",
    "reserved_number": "number",
    "port_number": "number",
    "port_operator": "port_operator",
    "port_date": "port_date",
    "port_owner": "port_owner_org_number",
    "port_owner_org_number": "port_owner_org_number",
    "sim_kind": "sim",
    "icc": "icc",
}


@dataclass(frozen=True)
class Problem:
    """What is wrong with a line (1-based; 0 for the shared choices): which column, its value, why."""

    line: int
    column: str
    value: str
    message: str


@dataclass
class Checked:
    """The batch's answers: shared (single-order answers without number, SIM or user), one set of
    single-order answers per line (None for a line with a problem), and every problem found."""

    shared: dict
    lines: list[dict | None] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.lines)


def blank_line() -> dict[str, str]:
    return {column: "" for column in COLUMNS}


def columns_for(kind: str | None) -> tuple[str, ...]:
    """The columns a line of this kind has: a fixed subscription has no SIM."""
    return COLUMNS if kind == "mobile" else COLUMNS[:-2]


def shared_steps(kind: str):
    """The shared steps that apply to this kind (data package and top-up: mobile only)."""
    return [BY_KEY[key] for key in SHARED if BY_KEY[key].applies({"type": {"kind": kind}})]


def shared_forms(ctx: StepContext, formdata) -> dict:
    """The shared steps' forms on formdata (each under its step's prefix: two steps both have a
    `code`), prepared as the single order's. MEX is not offered in bulk: the PBX form ignores it.
    The price options are those of the basis chosen on the same page (posted, else the stored one),
    and each names its price on both bases, so the page is right whichever basis is ticked."""
    priced = replace(ctx, answers={**ctx.answers, "price_basis": {"basis": chosen_basis(ctx, formdata)}})
    forms = {}
    for step in shared_steps(ctx.kind or "mobile"):
        form = step.form(formdata=formdata, prefix=f"{step.key}-", meta={"csrf": False})
        form.ignored = frozenset(step.reveals)  # the PBX step's MEX: per person, in Users & Teams
        form.prepare(priced)
        if step.key in PRICED_CHOICES:
            form.hints = {"code": price_hints(ctx, step.key)}
        forms[step.key] = form
    return forms


PRICED_CHOICES = ("call_rate", "data_package")  # shared steps whose options are items of the price list


def chosen_basis(ctx: StepContext, formdata) -> str:
    """The price basis ticked in formdata when it is one this organisation may choose, else the stored one."""
    posted = (formdata or {}).get("price_basis-basis")
    return posted if posted == "unbound" or (posted == "bound" and ctx.contract) else ctx.basis


def price_hints(ctx: StepContext, category: str) -> dict[str, str]:
    """Each option's monthly price unbound and, with a contract, bound, then its description."""
    lists = {
        basis: replace(ctx, answers={**ctx.answers, "price_basis": {"basis": basis}}).prices()
        for basis in ("unbound", "bound")
    }
    found = {basis: {i.code: i for i in pricing.of(items, category)} for basis, items in lists.items()}
    bound = found["bound"] if ctx.contract else {}
    hints = {}
    for code in found["unbound"].keys() | bound.keys():
        item = found["unbound"].get(code) or bound[code]
        if code in found["unbound"] and code in bound:
            price = gettext(
                "Unbound %(unbound)s, bound %(bound)s per month",
                unbound=money(found["unbound"][code].monthly_ore),
                bound=money(bound[code].monthly_ore),
            )
        else:
            price = gettext("%(price)s per month", price=money(item.monthly_ore))
        hints[code] = f"{price} · {localised(item, 'description')}"
    return hints


def check_shared(ctx: StepContext, forms: Mapping) -> tuple[dict, list[Problem]]:
    answers = {"type": ctx.answers["type"]}
    problems = []
    for key, form in forms.items():
        if form.validate():
            answers[key] = form.values(ctx)
        else:
            problems += [
                Problem(0, form[name].id, "", str(message))
                for name, messages in form.errors.items()
                for message in messages
            ]
    return answers, problems


def check(ctx: StepContext, shared: dict, lines: list[dict[str, str]], to_come: bool = True) -> Checked:
    """Check every line against the shared answers with the single order's forms; the same ICC or
    number on two lines is a problem of the later one. `to_come`: new numbers are not held yet (they
    are taken at Save), so a line's "new" needs no number."""
    result = Checked(shared)
    if not lines:
        result.problems.append(Problem(0, "lines", "", gettext("Add at least one line")))
    if len(lines) > MAX_LINES:
        result.problems.append(
            Problem(
                0,
                "lines",
                "",
                gettext("A batch has at most %(n)s lines; this one has %(m)s.", n=MAX_LINES, m=len(lines)),
            )
        )
        return result
    seen: dict[tuple[str, str], int] = {}
    for index, line in enumerate(lines, start=1):
        answers, problems = check_line(ctx, shared, line, index)
        for column, value in ((c, v) for c, v in duplicates_key(answers) if v):
            first = seen.setdefault((column, value), index)
            if first != index:
                problems.append(
                    Problem(
                        index,
                        column,
                        line.get(column, ""),
                        gettext("Also on line %(n)s: each line needs its own", n=first),
                    )
                )
        result.problems += problems
        result.lines.append(None if problems else answers)
    return result


def duplicates_key(answers: dict | None) -> Iterable[tuple[str, str]]:
    """What must differ between lines: the number (reserved or moved here) and the SIM card."""
    if not answers:
        return []
    number = answers.get("porting", {}).get("e164") or answers.get("number", {}).get("e164") or ""
    return [("number", number), ("icc", answers.get("sim", {}).get("icc") or "")]


def check_line(ctx: StepContext, shared: dict, line: Mapping[str, str], index: int) -> tuple[dict, list[Problem]]:
    """One line as a single order's answers, each of its steps validated by that step's form."""
    answers = dict(shared)
    line_ctx = replace(ctx, answers=answers)
    posted, problems = step_posts(line_ctx, line, index)
    for step in STEPS:
        if step.key not in posted:
            continue
        form = bind_form(step, line_ctx, posted[step.key], csrf=False)
        if not form.validate():
            for name, messages in form.errors.items():
                column = FIELD_COLUMN.get(name, name)
                problems += [Problem(index, column, line.get(column, ""), str(message)) for message in messages]
            continue
        answers[step.key] = form.values(line_ctx)
        line_ctx.answers = answers
    return answers, problems


def step_posts(ctx: StepContext, line: Mapping[str, str], index: int) -> tuple[dict[str, MultiDict], list[Problem]]:
    """A line's columns as the posts of the steps they answer (user, number, porting, SIM), and what
    cannot even be posted: an e-mail address nobody has, a number choice bulk does not offer, a
    reserved number the organisation does not have."""
    problems = []
    users = ctx.cached(("users_by_email",), lambda: {u.email: u for u in organisation_users(ctx).values()})
    email = (line.get("email") or "").strip().lower()
    person = users.get(email)
    posts: dict[str, MultiDict] = {}
    if person is not None or not email:
        posts["user"] = MultiDict({"user_id": str(person.id) if person else ""})
    else:
        problems.append(
            Problem(
                index, "email", line.get("email", ""), gettext("Nobody in your organisation has this e-mail address")
            )
        )
    choice = (line.get("number_choice") or "").strip().lower()
    text = (line.get("number") or "").strip()
    if choice not in NUMBER_CHOICES:
        problems.append(
            Problem(index, "number_choice", line.get("number_choice", ""), gettext("Write new, reserved or port"))
        )
    elif choice == "reserved":
        reserved = ctx.cached(
            ("reserved", ctx.kind), lambda: numbers.reserved_for(ctx.sess, ctx.org.id, ctx.kind or "")
        )
        found = next((n for n in reserved if _same_number(n.e164, text)), None)
        if found is None:
            problems.append(
                Problem(index, "number", text, gettext("Not one of your organisation's free reserved numbers"))
            )
        else:
            posts["number"] = MultiDict({"choice": choice, "reserved_number": str(found.id)})
    else:
        posts["number"] = MultiDict({"choice": choice})
    if choice == "port":
        owner_org = (line.get("port_owner_org_number") or "").strip()
        posts["porting"] = MultiDict(
            {
                "port_number": text,
                "port_operator": (line.get("port_operator") or "").strip(),
                "port_date": (line.get("port_date") or "").strip(),
                "port_owner": "other" if owner_org else "ours",
                "port_owner_org_number": owner_org,
            }
        )
    if ctx.kind == "mobile":
        posts["sim"] = MultiDict({"sim_kind": (line.get("sim") or "").strip().lower(), "icc": line.get("icc") or ""})
    return posts, problems


def _same_number(e164: str, text: str) -> bool:
    try:
        return numbers.e164(numbers.parse(text)) == e164
    except numbers.NumberError:
        return False


# --------------------------------------------------------------------------- lines from a CSV file


class CsvError(ValueError):
    """A file that cannot be read as the batch's CSV (the message says why)."""


EXAMPLE_PORT_NUMBER = {"mobile": "070-111 22 33", "fixed": "08-123 456 78"}


def template_csv(kind: str, port_date: date) -> str:
    """The downloadable template of a kind: the header row and two example lines, the second moving a
    number here on `port_date` (the earliest the porting rules allow, so the example can be checked)."""
    examples = [
        {"email": "anna@example.se", "number_choice": "new", "sim": "esim"},
        {
            "email": "erik@example.se",
            "number_choice": "port",
            "number": EXAMPLE_PORT_NUMBER[kind],
            "port_operator": "Telia",
            "port_date": port_date.isoformat(),
            "sim": "physical",
            "icc": "89460712345678901230",
        },
    ]
    columns = columns_for(kind)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([example.get(column, "") for column in columns] for example in examples)
    return out.getvalue()


def read_upload(upload: FileStorage | None) -> tuple[list[dict[str, str]], str]:
    """The lines of the chosen file and a notice of how many were read from it; CsvError when no file
    was chosen (a browser then sends a part without a name) or it cannot be read."""
    if upload is None or not upload.filename:
        raise CsvError(gettext("Choose a CSV file"))
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CsvError(
            gettext(
                "The file is larger than %(kib)s KB; a CSV file of %(n)s lines is much smaller. Is it the right file?",
                kib=MAX_FILE_BYTES // 1024,
                n=MAX_LINES,
            )
        )
    lines = read_csv(data)
    if not lines:  # a header row alone
        raise CsvError(gettext("The file is empty. Start from the template."))
    name = printable(upload.filename.replace("\\", "/").rsplit("/", 1)[-1])[:100]
    return lines, ngettext("%(num)s line read from %(file)s", "%(num)s lines read from %(file)s", len(lines), file=name)


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Lines from an uploaded file: UTF-8 (a byte order mark is fine), comma or semicolon, a header
    row naming the columns (any order; unknown ones refused). At most MAX_LINES lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(gettext("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")) from None
    if has_control(text.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise CsvError(gettext("The file holds control characters: is it really a CSV file?"))
    first = (text.splitlines() or [""])[0]  # lines may end in \r\n, \n or (old Macs) \r alone
    dialect = "excel" if first.count(",") >= first.count(";") else _Semicolon
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), dialect) if any(c.strip() for c in row)]
    except csv.Error:
        raise CsvError(
            gettext("The file could not be read as CSV. Start from the template and save it as CSV UTF-8.")
        ) from None
    if not rows:
        raise CsvError(gettext("The file is empty. Start from the template."))
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in ("email", "number_choice") if name not in header]
    if unknown or missing:
        raise CsvError(
            gettext(
                "The header row must name the template's columns (%(columns)s).",
                columns=", ".join(COLUMNS),
            )
            + (
                " " + gettext("Unknown: %(names)s.", names=", ".join(printable(n)[:40] for n in unknown))
                if unknown
                else ""
            )
            + (" " + gettext("Missing: %(names)s.", names=", ".join(missing)) if missing else "")
        )
    body = rows[1:]
    if len(body) > MAX_LINES:
        raise CsvError(gettext("A batch has at most %(n)s lines; the file has %(m)s.", n=MAX_LINES, m=len(body)))
    return [
        {
            column: (row[header.index(column)].strip() if column in header and header.index(column) < len(row) else "")[
                :100
            ]
            for column in COLUMNS
        }
        for row in body
    ]


class _Semicolon(csv.excel):
    delimiter = ";"


# --------------------------------------------------------------------------- Save: all lines or none


STALE = "stale"


def buy(
    ctx: StepContext, buyer: User, checked_version: int | None, lines: list[dict[str, str]]
) -> Order | Checked | str:
    """Close the batch draft (a conditional UPDATE on its version: a second Save finds the first one's
    order), re-check every line against today's data, then buy them all under one order in this
    transaction, or nothing. Returns the order, the check with its problems, or STALE."""
    sess, draft = ctx.sess, ctx.draft
    if not drafts.close(sess, draft, checked_version, ctx.now, "submitted"):
        sess.rollback()
        return existing_order(ctx) or STALE
    # The shared choices too, with their forms on what was posted at the check: a price item withdrawn
    # or a contract ended since then is named here, never bought as something else.
    shared, problems = check_shared(ctx, shared_forms(ctx, MultiDict(ctx.answers.get("form") or {})))
    checked = check(ctx, shared, lines)
    checked.problems = problems + checked.problems
    if not checked.ok:
        sess.rollback()
        return checked
    try:
        order = new_order(ctx, buyer)
        children = [
            Draft(
                id=new_draft_id(),
                organisation_id=ctx.org.id,
                created_by_id=buyer.id,
                kind="single",
                answers=answers,
                status="submitted",
                created_at=ctx.now,
                updated_at=ctx.now,
            )
            for answers in checked.lines
            if answers is not None
        ]
        sess.add_all(children)
        sess.flush()  # each line's own (submitted) order draft, in as few INSERTs as the database allows
        bought = []
        for child, answers in zip(children, [a for a in checked.lines if a is not None], strict=True):
            line_ctx = replace(ctx, answers=_with_number(ctx, child.id, answers), draft=child)
            subscription, _quote = add_subscription(line_ctx, buyer, order)
            bought.append((subscription, line_ctx.answers))
        letters = notify.batch_bought(ctx, buyer, order, bought)
        sess.commit()
    except (IntegrityError, Taken, _NoNumber) as exc:
        # Another order took a number or SIM card of a line after the check above (on PostgreSQL the
        # unique key waits for it to commit), or the pool ran dry: once that order is in, checking
        # again names the line; if nothing is wrong with any line, say what is.
        sess.rollback()
        return existing_order(ctx) or _why_not_bought(ctx, shared, lines, exc)
    queue.of().enqueue(letters)
    return order


def _why_not_bought(ctx: StepContext, shared: dict, lines: list[dict[str, str]], exc: Exception) -> Checked:
    ctx.forget()  # the numbers and people read before the other order came in
    checked = check(ctx, shared, lines)
    if checked.problems:
        return checked
    if isinstance(exc, _NoNumber):
        message = gettext(
            "There are not enough free numbers for every new number in this batch right now. "
            "Use reserved or moved numbers for some lines, or try again later."
        )
    else:
        message = gettext("Another order took a number or SIM card of this batch just now. Save again.")
    return Checked(shared, problems=[Problem(0, "number_choice", "", message)])


class _NoNumber(Exception):
    pass


def _with_number(ctx: StepContext, child_id: str, answers: dict) -> dict:
    """A line's answers with its number: a new one is taken now, the next free of the pool (held for
    the line's own draft, then assigned with the subscription, in this transaction)."""
    chosen = answers["number"]
    if chosen.get("choice") not in HOLDING_CHOICES or chosen.get("number_id"):
        return answers
    held = numbers.hold_next_free(ctx.sess, ctx.kind or "", child_id, ctx.now, ctx.hold_minutes)
    if held is None:
        raise _NoNumber()
    return {**answers, "number": {**chosen, "number_id": str(held.id), "e164": held.e164}}


def existing_order(ctx: StepContext) -> Order | None:
    return ctx.sess.scalar(select(Order).where(Order.draft_id == ctx.draft.id))


def subscriptions_of(ctx: StepContext, order: Order) -> list[Subscription]:
    return list(
        ctx.sess.scalars(
            select(Subscription)
            .options(joinedload(Subscription.number), joinedload(Subscription.user))
            .where(Subscription.order_id == order.id)
            .order_by(Subscription.id)
        )
    )


def reference_of(order: Order) -> str:
    return order.reference or reference(order.created_at.year, order.id)


def problems_by_line(problems: list[Problem]) -> dict[int, dict[str, list[str]]]:
    """Problems as {line: {column: [messages]}} for the table."""
    found: dict[int, dict[str, list[str]]] = {}
    for problem in problems:
        found.setdefault(problem.line, {}).setdefault(problem.column, []).append(problem.message)
    return found


def stored_lines(draft: Draft) -> list[dict[str, str]]:
    return [dict(blank_line(), **line) for line in (draft.answers or {}).get("lines", [])]


def lines_from_form(form: Mapping[str, Any], keep_blank: bool = False) -> list[dict[str, str]]:
    """The table's lines as posted (`lines-<i>-<column>`), in order; blank lines left out unless asked."""
    numbered = (as_int(name.split("-")[1]) for name in form if name.startswith("lines-") and name.count("-") == 2)
    indexes = sorted({index for index in numbered if index is not None})
    lines = []
    for i in indexes[: MAX_LINES + 1]:
        line = {column: printable(str(form.get(f"lines-{i}-{column}", "")))[:100] for column in COLUMNS}
        if keep_blank or any(value.strip() for value in line.values()):
            lines.append(line)
    return lines


def esim_ids(ctx: StepContext, subscriptions: list[Subscription]) -> set[int]:
    """Which of these subscriptions have an eSIM (one statement)."""
    from .models import Sim

    ids = [s.id for s in subscriptions]
    return set(ctx.sess.scalars(select(Sim.subscription_id).where(Sim.subscription_id.in_(ids), Sim.kind == "esim")))
