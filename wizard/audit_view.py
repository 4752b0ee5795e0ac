"""Settings → Account → Audit log: who did what and when in the owner's organisation, filtered by
person, kind and Stockholm dates, paged, and exported as a streamed CSV file.

A page costs the same few statements however long the log is: the organisation's people (the Person
filter, and the names of the users an event is about), the count, and one page of events with their
actors joined in. The CSV file is read in batches by keyset (created_at, id): a GET's read-only
session runs without a transaction, and PostgreSQL refuses a server-side cursor (stream_results,
yield_per) outside one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from phonenumbers import NumberParseException
from sqlalchemy import Select, and_, or_, select
from wtforms import DateField, Form, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from . import db, numbers, porting
from .audit import KINDS
from .clock import BUSINESS_ZONE, today
from .forms import BASIS, KIND
from .i18n import day
from .inputs import MAX_PAGE, WholeNumberField
from .models import AuditEvent, User
from .paging import paginate
from .permissions import requires
from .visitor import current_user

bp = Blueprint("audit", __name__)

# Nobody is granted this permission (the command line and hosts offer only `account` and `users`),
# and owners hold every permission: the audit log is the owner's alone.
OWNER_ONLY = "owner"
PER_PAGE = 50
CSV_BATCH = 500
OPERATOR = "operator"  # the Person filter's value for events without a person (the operator, the system)
CSV_INJECTION = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula


class DayField(DateField):
    """A date typed as YYYY-MM-DD (what a browser's date input sends), with our message when it is not one."""

    def __init__(self, label, message, **kwargs):
        super().__init__(label, format="%Y-%m-%d", **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.message) from None

    def query_value(self) -> str:
        """The date as the query string carries it on (YYYY-MM-DD), '' when there is none."""
        return self.data.isoformat() if self.data and not self.errors else ""


class AuditFilterForm(Form):
    """The log's filters, read from the query string (a GET form: no CSRF token)."""

    person = SelectField(_l("Person"), default="", validate_choice=False)
    kind = SelectField(_l("What happened"), default="", validate_choice=False)
    since = DayField(
        _l("From"),
        _l("Enter the From date as a real date, for example 2026-11-01"),
        name="from",
        validators=[Optional()],
    )
    until = DayField(
        _l("To (inclusive)"),
        _l("Enter the To date as a real date, for example 2026-11-30"),
        name="to",
        validators=[Optional()],
    )
    page = WholeNumberField(default=1, validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])

    def validate_person(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a person from the list"))

    def validate_kind(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose what happened from the list"))

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The To date must be the same as or after the From date"))

    def problems(self) -> dict[str, list[str]]:
        """What to show beside the fields: a bad page number is not shown, it only means the first page."""
        return {name: errors for name, errors in self.errors.items() if name != "page"}

    def page_number(self) -> int:
        return self.page.data if not self.page.errors and self.page.data else 1

    def query_values(self) -> dict[str, str]:
        """The filters in force as query parameters (for the pager and the CSV link), empty ones left out."""
        values = {
            "person": self.person.data,
            "kind": self.kind.data,
            "from": self.since.query_value(),
            "to": self.until.query_value(),
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


def people(sess, organisation_id: int) -> dict[int, Person]:
    """The organisation's people (all of them: someone switched off since still did what they did)."""
    rows = sess.execute(
        select(User.id, User.name, User.email)
        .where(User.organisation_id == organisation_id)
        .order_by(User.name, User.id)
    )
    return {row.id: Person(row.id, row.name, row.email) for row in rows}


def filter_form(everyone: dict[int, Person]) -> AuditFilterForm:
    """The filters of this request, with the choices they are checked against."""
    form = AuditFilterForm(request.args)
    form.person.choices = [
        ("", _("Anyone")),
        (OPERATOR, _("The operator")),
        *((str(p.id), f"{p.name} ({p.email})") for p in everyone.values()),
    ]
    form.kind.choices = [("", _("Anything")), *((action, str(label)) for action, label in KINDS.items())]
    form.validate()
    return form


def start_of(day_: date) -> datetime | None:
    """The first moment of a Stockholm date, in UTC; None for a date so far out it cannot be one."""
    try:
        return datetime.combine(day_, time(), tzinfo=BUSINESS_ZONE).astimezone(UTC)
    except OverflowError:
        return None


def events_query(organisation_id: int, form: AuditFilterForm) -> Select:
    """The organisation's events that pass the filters, newest first, each with its person (or None)."""
    query = (
        select(AuditEvent, User)
        .outerjoin(User, and_(User.id == AuditEvent.actor_id, User.organisation_id == organisation_id))
        .where(AuditEvent.organisation_id == organisation_id)
    )
    person = form.person.data
    if person == OPERATOR:
        query = query.where(AuditEvent.actor_id.is_(None))
    elif person:
        query = query.where(AuditEvent.actor_id == int(person))
    if form.kind.data:
        query = query.where(AuditEvent.action == form.kind.data)
    if form.since.data and (start := start_of(form.since.data)) is not None:
        query = query.where(AuditEvent.created_at >= start)
    if form.until.data and form.until.data < date.max and (end := start_of(form.until.data + timedelta(days=1))):
        query = query.where(AuditEvent.created_at < end)  # the To date is inclusive: up to the next midnight
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


# --------------------------------------------------------------------------- an event in words


class Plain:
    """How details() writes for the CSV file: values as they are, numbers as people write them."""

    def value(self, value: Any) -> str:
        return str(value)

    def number(self, e164: Any) -> str:
        try:
            return numbers.national(str(e164))
        except NumberParseException:
            return str(e164)  # not a number after all: as stored

    def phrase(self, text: str) -> str:
        return text


class Html(Plain):
    """How details() writes for the page: every value escaped (data holds what people typed), each
    number on one line, the phrase (our own words around them) as markup."""

    def value(self, value: Any) -> str:
        return escape(str(value))

    def number(self, e164: Any) -> str:
        # On one line without markup inside the sentence (a translated message stays one text):
        # no-break spaces, and a no-break hyphen.
        return escape(super().number(e164).replace("-", "\u2011"))

    def phrase(self, text: str) -> str:
        return Markup(text)  # every value in it went through value() or number()


PLAIN, HTML = Plain(), Html()


def subject_person(subject: str, everyone: dict[int, Person]) -> Person | None:
    kind, _sep, ident = subject.partition(":")
    return everyone.get(int(ident)) if kind == "user" and ident.isdigit() else None


def details(event: AuditEvent, everyone: dict[int, Person], w: Plain = PLAIN) -> list[str]:
    """What `data` says, as short phrases in the reader's language (keys we do not know, as they are).
    Every value goes through `w`, so the page can escape it."""
    data = {key: value for key, value in (event.data or {}).items() if value not in (None, "")}
    said: list[str] = []
    if "order" in data:
        said.append(_("Order %(reference)s", reference=w.value(data.pop("order"))))
    if "number" in data:
        said.append(_("Number %(number)s", number=w.number(data.pop("number"))))
    kind, basis = named(KIND, data.pop("kind", None)), named(BASIS, data.pop("basis", None))
    if kind or basis:
        said.append(", ".join(w.value(label) for label in (kind, basis) if label))
    if "from" in data or "to" in data:
        old, new = data.pop("from", None), data.pop("to", None)
        said.append(
            _(
                "Status %(old)s → %(new)s",
                old=w.value(named(porting.PORTING_STATUS_NAMES, old) or old or "–"),
                new=w.value(named(porting.PORTING_STATUS_NAMES, new) or new or "–"),
            )
        )
    if "date" in data:
        said.append(_("Porting date %(date)s", date=w.value(when(data.pop("date")))))
    if "fixed" in data and "mobile" in data:
        said.append(
            _(
                "Fixed %(fixed)s with mobile %(mobile)s",
                fixed=w.number(data.pop("fixed")),
                mobile=w.number(data.pop("mobile")),
            )
        )
    person = subject_person(event.subject, everyone)
    if person is not None and event.action.startswith("mex."):
        said.append(_("Numbers of %(name)s", name=w.value(person.name)))
    if "mex_removed_with" in data:
        said.append(_("Its MEX pair with %(number)s was removed", number=w.number(data.pop("mex_removed_with"))))
    if "reason" in data:
        reason = data.pop("reason")
        label = named(KINDS, reason)
        said.append(
            _("Because: %(reason)s", reason=w.value(label))
            if label
            else _("Reason: %(reason)s", reason=w.value(reason))
        )
    if "email" in data:
        said.append(_("E-mail address %(email)s", email=w.value(data.pop("email"))))
    if "port_date" in data:
        said.append(_("Wanted porting date %(date)s", date=w.value(when(data.pop("port_date")))))
    if "binding_accepted_until" in data:
        said.append(_("Binding period accepted until %(date)s", date=w.value(when(data.pop("binding_accepted_until")))))
    if "name" in data and event.action.startswith("token."):
        said.append(_("Token “%(name)s”", name=w.value(data.pop("name"))))
    data.pop("draft", None)  # an unfinished order's internal id: nothing a person can look up
    said.extend(f"{w.value(key)}: {w.value(value)}" for key, value in sorted(data.items()))
    return [w.phrase(text) for text in said]


def who(event: AuditEvent, actor: Any) -> tuple[str, str]:
    """The Who column: the person's name and address; for a failed login, the account it tried (whoever
    typed it is not known); the operator for an event without a person."""
    if actor is None:
        return (_("The operator") if event.actor_id is None else "", "")
    if event.action == "login.failed":
        return (_("Attempt on the account of %(name)s", name=actor.name), actor.email)
    return (actor.name, actor.email)


def html_details(event: AuditEvent, everyone: dict[int, Person]) -> list[str]:
    return details(event, everyone, HTML)


def named(labels: dict[str, Any], value: Any) -> Any:
    """The label of a value stored in `data`, None when it has none (JSON may hold anything)."""
    return labels.get(value) if isinstance(value, str) else None


def when(value: Any) -> str:
    """An ISO date of `data` in the reader's format, or as stored when it is not one."""
    try:
        return day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


# --------------------------------------------------------------------------- the page


def render_log(everyone: dict[int, Person], form: AuditFilterForm, status: int = 200, **values):
    return (
        render_template(
            "wizard/audit.html",
            form=form,
            problems=form.problems(),
            filters=form.query_values(),
            everyone=everyone,
            kinds=KINDS,
            details=html_details,
            who=who,
            **values,
        ),
        status,
    )


@bp.route("/settings/account/audit")
@requires(OWNER_ONLY)
def audit_log():
    """The log, newest first, a page of PER_PAGE events; filters that cannot be read are said beside their field."""
    sess = db.session()
    everyone = people(sess, current_user.organisation_id)
    form = filter_form(everyone)
    if form.problems():
        return render_log(everyone, form, 422, listing=None)
    listing = paginate(sess, events_query(current_user.organisation_id, form), form.page_number(), PER_PAGE)
    return render_log(everyone, form, listing=listing)


# --------------------------------------------------------------------------- the CSV file


def guarded(cell: Any) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(CSV_INJECTION) else text


def batches(sess, query: Select) -> Iterator[list[Any]]:
    """The query's rows, CSV_BATCH at a time, each batch one statement picking up after the last row."""
    after = None
    while True:
        page = query
        if after is not None:
            moment, ident = after
            page = query.where(
                or_(AuditEvent.created_at < moment, and_(AuditEvent.created_at == moment, AuditEvent.id < ident))
            )
        rows = sess.execute(page.limit(CSV_BATCH)).all()
        if rows:
            yield rows
        if len(rows) < CSV_BATCH:
            return
        last = rows[-1].AuditEvent
        after = (last.created_at, last.id)


def csv_lines(query: Select, everyone: dict[int, Person]) -> Iterator[str]:
    """The header, then the events a batch at a time (UTF-8 with a byte order mark, so Excel reads å, ä, ö).

    Run by stream_with_context after the view returned, when the view's session is already closed:
    it asks for a session of its own, which closes when the streaming ends."""
    sess = db.session()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [_("Time"), _("Person"), _("E-mail address"), _("Action"), _("What happened"), _("Subject"), _("Details")]
    )
    yield "\ufeff" + buffer.getvalue()
    for rows in batches(sess, query):
        buffer.seek(0)
        buffer.truncate()
        for event, actor in rows:
            writer.writerow(
                guarded(cell)
                for cell in (
                    event.created_at.astimezone(BUSINESS_ZONE).isoformat(timespec="seconds"),
                    *who(event, actor),
                    event.action,
                    KINDS.get(event.action, event.action),
                    event.subject,
                    "; ".join(details(event, everyone)),
                )
            )
        yield buffer.getvalue()


@bp.route("/settings/account/audit.csv")
@requires(OWNER_ONLY)
def audit_csv():
    """The filtered log as a CSV file, streamed as it is read (the page with its messages when a filter is wrong)."""
    sess = db.session()
    everyone = people(sess, current_user.organisation_id)
    form = filter_form(everyone)
    if form.problems():
        return render_log(everyone, form, 422, listing=None)
    query = events_query(current_user.organisation_id, form)
    org_number = re.sub(r"[^A-Za-z0-9-]", "", current_user.organisation.org_number)
    filename = f"audit-{org_number}-{today().isoformat()}.csv"
    return Response(
        stream_with_context(csv_lines(query, everyone)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
