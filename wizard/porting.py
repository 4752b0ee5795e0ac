"""Porting a number in: the porting register behind a small interface (importable from CSV),
the porting date rule, and the porting status a subscription moves through after Save."""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TextIO

import holidays
from babel import Locale
from babel.lists import format_list
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit, mex, numbers
from .db import changed
from .models import PhoneNumber, PortingRegisterEntry, Subscription
from .text import has_control, printable

OTHER_OPERATOR = "Other"  # a value, stored as is; forms show it in the visitor's language
OPERATORS = ["Telia", "Tele2", "Telenor", "Tre", "Comviq", "Hallon", "Vimla", OTHER_OPERATOR]
LEAD_WORKING_DAYS = {"mobile": 5, "fixed": 10}


@dataclass(frozen=True)
class RegisterEntry:
    current_operator: str
    binding_ends_on: date | None


class PortingRegister(Protocol):
    """What we need of a porting register; a real operator API can stand in for the table."""

    def lookup(self, e164: str) -> RegisterEntry | None: ...


class DatabaseRegister:
    """The default register: a table the operator fills (importable from CSV)."""

    def __init__(self, sess: Session):
        self.sess = sess

    def lookup(self, e164: str) -> RegisterEntry | None:
        row = self.sess.scalar(select(PortingRegisterEntry).where(PortingRegisterEntry.e164 == e164))
        if row is None:
            return None
        return RegisterEntry(row.current_operator, row.binding_ends_on)


def still_bound(entry: RegisterEntry | None, today: date) -> date | None:
    """The date the binding ends when it has not ended yet, else None."""
    if entry and entry.binding_ends_on and entry.binding_ends_on >= today:
        return entry.binding_ends_on
    return None


@functools.lru_cache(maxsize=4)
def _calendar(year: int) -> holidays.HolidayBase:
    """Swedish public holidays plus the de facto days off (Midsummer, Christmas and New Year's Eve)
    of `year` and the next: built once per year and reused (building one takes milliseconds)."""
    return holidays.country_holidays("SE", years=(year, year + 1), categories=(holidays.PUBLIC, holidays.DE_FACTO))


def earliest_porting_date(kind: str, today: date) -> date:
    """The first working day at least the lead time of working days after today."""
    return _calendar(today.year).get_nth_working_day(today, LEAD_WORKING_DAYS[kind])


def is_working_day(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


# --------------------------------------------------------------------------- importing the register from CSV

REGISTER_COLUMNS = ("number", "current_operator", "binding_ends_on")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
OPERATOR_MAX_LENGTH = 100


@dataclass(frozen=True)
class RegisterRow:
    """One valid line of a register file, its number normalised to E.164."""

    line: int
    e164: str
    current_operator: str
    binding_ends_on: date | None


@dataclass(frozen=True)
class RowError:
    """Why a line of a register file is rejected: the line number, the offending value and the reason."""

    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        # `column` is a column's name (data) or one of the words "header" and "row", which are translated.
        if self.column == "header":
            return _(
                'line %(line)s, header "%(value)s": %(reason)s', line=self.line, value=self.value, reason=self.reason
            )
        if self.column == "row":
            return _('line %(line)s, row "%(value)s": %(reason)s', line=self.line, value=self.value, reason=self.reason)
        return _(
            'line %(line)s, %(column)s "%(value)s": %(reason)s',
            line=self.line,
            column=self.column,
            value=self.value,
            reason=self.reason,
        )


def read_register_csv(stream: TextIO) -> tuple[list[RegisterRow], list[RowError]]:
    """Read and check every line of a register file (header number,current_operator,binding_ends_on).

    Numbers may be written in any common format and are normalised to E.164; binding_ends_on is
    an ISO date (YYYY-MM-DD) or empty. Returns the valid rows and the errors; the file may only be
    imported when there are no errors. A comma or a semicolon separates the columns.
    """
    text = stream.read().lstrip("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(reader, None)
    if header is None:
        return [], [
            RowError(
                1,
                "header",
                "",
                _("the file is empty; the first line must be the header %(header)s", header=",".join(REGISTER_COLUMNS)),
            )
        ]
    names = [cell.strip().lower() for cell in header]
    missing = [column for column in REGISTER_COLUMNS if column not in names]
    if missing:
        return [], [
            RowError(
                reader.line_num,
                "header",
                delimiter.join(header),
                ngettext(
                    "the header lacks the column %(columns)s; expected %(header)s",
                    "the header lacks the columns %(columns)s; expected %(header)s",
                    len(missing),
                    columns=", ".join(missing),
                    header=",".join(REGISTER_COLUMNS),
                ),
            )
        ]
    index = {column: names.index(column) for column in REGISTER_COLUMNS}
    rows: list[RegisterRow] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed
        if len(cells) != len(names):
            reason = ngettext(
                "has %(num)s column, the header has %(header)s",
                "has %(num)s columns, the header has %(header)s",
                len(cells),
                header=len(names),
            )
            errors.append(RowError(line, "row", delimiter.join(cells), reason))
            continue
        row_errors = []
        raw_number = cells[index["number"]].strip()
        e164 = None
        if not raw_number:
            row_errors.append(RowError(line, "number", raw_number, _("the number is missing")))
        else:
            try:
                e164 = numbers.e164(numbers.parse(raw_number))
            except numbers.NumberError:
                row_errors.append(RowError(line, "number", raw_number, _("not a valid phone number")))
        if e164 is not None and e164 in first_seen:
            reason = _("duplicate number %(number)s, already on line %(line)s", number=e164, line=first_seen[e164])
            row_errors.append(RowError(line, "number", raw_number, reason))
        operator = cells[index["current_operator"]].strip()
        if not operator:
            row_errors.append(RowError(line, "current_operator", operator, _("the current operator is missing")))
        elif has_control(operator):  # PostgreSQL refuses NUL in text; no operator's name has a control character
            shown = printable(operator)
            row_errors.append(RowError(line, "current_operator", shown, _("the operator name has control characters")))
        elif len(operator) > OPERATOR_MAX_LENGTH:
            row_errors.append(
                RowError(
                    line,
                    "current_operator",
                    operator,
                    ngettext(
                        "the operator name is longer than %(num)s character",
                        "the operator name is longer than %(num)s characters",
                        OPERATOR_MAX_LENGTH,
                    ),
                )
            )
        raw_date = cells[index["binding_ends_on"]].strip()
        binding_ends_on = None
        if raw_date:
            try:
                if not ISO_DATE.fullmatch(raw_date):
                    raise ValueError(raw_date)
                binding_ends_on = date.fromisoformat(raw_date)
            except ValueError:
                reason = _("not a date in the form YYYY-MM-DD (or leave it empty)")
                row_errors.append(RowError(line, "binding_ends_on", raw_date, reason))
        if e164 is not None and e164 not in first_seen:
            first_seen[e164] = line
        if row_errors or e164 is None:
            errors.extend(row_errors)
        else:
            rows.append(RegisterRow(line, e164, operator, binding_ends_on))
    return rows, errors


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int


def import_register(sess: Session, rows: list[RegisterRow], now: datetime) -> ImportCounts:
    """Upsert valid rows by E.164 (insert new numbers, update known ones); the caller commits or rolls back."""
    existing: dict[str, PortingRegisterEntry] = {}
    e164s = [row.e164 for row in rows]
    for start in range(0, len(e164s), 500):
        chunk = e164s[start : start + 500]
        for known in sess.scalars(select(PortingRegisterEntry).where(PortingRegisterEntry.e164.in_(chunk))):
            existing[known.e164] = known
    inserted = updated = unchanged = 0
    for row in rows:
        entry = existing.get(row.e164)
        if entry is None:
            sess.add(
                PortingRegisterEntry(
                    e164=row.e164,
                    current_operator=row.current_operator,
                    binding_ends_on=row.binding_ends_on,
                    updated_at=now,
                )
            )
            inserted += 1
        elif (entry.current_operator, entry.binding_ends_on) != (row.current_operator, row.binding_ends_on):
            entry.current_operator, entry.binding_ends_on, entry.updated_at = (
                row.current_operator,
                row.binding_ends_on,
                now,
            )
            updated += 1
        else:
            unchanged += 1
    sess.flush()
    return ImportCounts(inserted, updated, unchanged)


# --------------------------------------------------------------------------- porting status after Save

# The operator's callbacks move a porting subscription along these edges; anything else is refused.
PORTING_TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"scheduled", "rejected", "cancelled"}),
    "scheduled": frozenset({"completed", "rejected", "cancelled"}),
    "completed": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}
PORTING_STATUSES = tuple(PORTING_TRANSITIONS)
# Each porting status in the reader's language (a person's page, the audit log).
PORTING_STATUS_NAMES = {
    "submitted": _l("Submitted"),
    "scheduled": _l("Scheduled"),
    "completed": _l("Completed"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}
# What the subscription's own status becomes when the porting reaches a status.
SUBSCRIPTION_STATUS_AFTER = {
    "scheduled": "pending_port",
    "completed": "active",
    "rejected": "cancelled",
    "cancelled": "cancelled",
}


class PortingError(ValueError):
    """A porting status change that cannot be made, with a message for the operator."""


def either_of(items: list[str]) -> str:
    """'a, b or c' in the operator's language (Babel's list patterns); the items are data, as typed.

    Plain "en" is CLDR's American English, with a comma before "or"; the wizard writes British English
    (organisation, no serial comma), so it takes the international English pattern.
    """
    locale = get_locale() or Locale("en")
    if locale.language == "en" and not locale.territory:
        locale = Locale("en", "001")
    return format_list(items, style="or", locale=locale)


def can_move(current: str | None, new: str) -> bool:
    return new in PORTING_TRANSITIONS.get(current or "", frozenset())


@dataclass(frozen=True)
class PortingChange:
    subscription: Subscription
    old: str
    new: str
    mex_removed_with: str | None  # the E.164 of the number the ported number was MEX-paired with
    reason: str | None = None  # why the port was rejected, as the operator gave it


def subscription_of(sess: Session, number_text: str) -> Subscription:
    """The subscription of a number, as the operator names it: the newest one (a number ported again
    after a failed port has an older, cancelled subscription too)."""
    try:
        e164 = numbers.e164(numbers.parse(number_text))
    except numbers.NumberError:
        raise PortingError(_("%(number)r is not a valid phone number.", number=number_text)) from None
    subscription = sess.scalar(
        select(Subscription).join(Subscription.number).where(PhoneNumber.e164 == e164).order_by(Subscription.id.desc())
    )
    if subscription is None:
        raise PortingError(_("No subscription has the number %(number)s.", number=e164))
    return subscription


def move_porting(
    sess: Session,
    number_text: str,
    new: str,
    now: datetime,
    scheduled_for: date | None = None,
    reason: str | None = None,
) -> PortingChange:
    """The operator's callback: move the porting of the subscription with this number (see change_porting)."""
    if new not in PORTING_TRANSITIONS:
        raise PortingError(
            _(
                "Unknown porting status %(status)r; use one of %(statuses)s.",
                status=new,
                statuses=", ".join(PORTING_STATUSES),
            )
        )
    return change_porting(sess, subscription_of(sess, number_text), new, now, None, scheduled_for, reason)


def change_porting(
    sess: Session,
    subscription: Subscription,
    new: str,
    now: datetime,
    actor_id: int | None,
    scheduled_for: date | None = None,
    reason: str | None = None,
) -> PortingChange:
    """Move a subscription's porting to `new` and audit it (by `actor_id`, None for the operator);
    the caller commits.

    On completed the subscription becomes active; on rejected or cancelled it is cancelled, a MEX pair
    of its number is removed (a line that never arrived cannot be part of MEX) and the number is
    `gone`: no longer the user's, and free to be ordered for porting again. Its row stays: the
    cancelled subscription still refers to it. The change is a conditional UPDATE on the old status,
    so two callbacks (or a callback and the buyer) at once cannot both move it.
    """
    e164 = subscription.number.e164
    old = subscription.porting_status
    if old is None:
        raise PortingError(
            _(
                "The subscription of %(number)s (subscription %(id)s) was not ported in; it has no porting status.",
                number=e164,
                id=subscription.id,
            )
        )
    if not can_move(old, new):
        allowed = [status for status in PORTING_STATUSES if status in PORTING_TRANSITIONS.get(old, ())]
        if allowed:
            raise PortingError(
                _(
                    "The porting of %(number)s cannot go from %(old)s to %(new)s:"
                    " from %(old)s it can only become %(choices)s.",
                    number=e164,
                    old=old,
                    new=new,
                    choices=either_of(allowed),
                )
            )
        raise PortingError(
            _(
                "The porting of %(number)s cannot go from %(old)s to %(new)s: %(old)s is final.",
                number=e164,
                old=old,
                new=new,
            )
        )
    if scheduled_for is not None and new != "scheduled":
        raise PortingError(_("A date can only be given when the porting is scheduled."))
    if reason is not None and new != "rejected":
        raise PortingError(_("A reason can only be given when the porting is rejected."))
    values: dict[str, object] = {"porting_status": new, "status": SUBSCRIPTION_STATUS_AFTER[new]}
    if scheduled_for is not None:
        values["porting_date"] = scheduled_for
    moved = changed(
        sess,
        update(Subscription)
        .where(Subscription.id == subscription.id, Subscription.porting_status == old)
        .values(**values)
        .execution_options(synchronize_session=False),
    )
    if moved != 1:
        raise PortingError(
            _("The porting of %(number)s was changed meanwhile; check its status and try again.", number=e164)
        )
    sess.refresh(subscription)
    data: dict = {"number": e164, "from": old, "to": new}
    if new == "scheduled" and subscription.porting_date is not None:  # confirmed, or else the wanted date
        data["date"] = subscription.porting_date.isoformat()
    if reason:
        data["reason"] = reason
    mex_partner = None
    if new in {"rejected", "cancelled"}:
        pair = mex.pair_for(sess, subscription.number_id)
        if pair is not None:
            fixed, mobile = pair.fixed_number.e164, pair.mobile_number.e164
            mex_partner = mobile if fixed == e164 else fixed
            audit.record(
                sess,
                subscription.organisation_id,
                actor_id,
                "mex.disconnected",
                f"user:{pair.user_id}",
                now,
                fixed=fixed,
                mobile=mobile,
                reason=f"porting.{new}",
            )
            sess.delete(pair)
            data["mex_removed_with"] = mex_partner
        sess.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == subscription.number_id)
            .values(status="gone", user_id=None, pbx=False)
            .execution_options(synchronize_session=False)
        )
    audit.record(
        sess, subscription.organisation_id, actor_id, f"porting.{new}", f"subscription:{subscription.id}", now, **data
    )
    sess.flush()
    return PortingChange(subscription, old, new, mex_partner, reason)


def next_working_day(today: date) -> date:
    return _calendar(today.year).get_nth_working_day(today, 1)


def cancel_refusal(subscription: Subscription, today: date, support_phone: str | None = None) -> str | None:
    """Why the buyer can no longer cancel this port (None when they can): it must still be submitted
    or scheduled, with its porting date more than one working day away (the operators need that long
    to stop a move). `support_phone` (E.164), when the operator configured one, is the number to call."""
    if subscription.porting_status not in {"submitted", "scheduled"}:
        return _("Only a port that is submitted or scheduled can be cancelled.")
    if subscription.porting_date is not None and subscription.porting_date <= next_working_day(today):
        day = format_date(subscription.porting_date, "medium")
        if support_phone:
            return _(
                "The porting date, %(date)s, is one working day away or less: the move can no longer be stopped."
                " Call customer service on %(phone)s if the number must not move.",
                date=day,
                phone=numbers.national(support_phone),
            )
        return _(
            "The porting date, %(date)s, is one working day away or less: the move can no longer be stopped."
            " Call customer service if the number must not move.",
            date=day,
        )
    return None
