"""Phone numbers: parsing and formatting (phonenumbers), the free pool, holds and atomic assignment.

Every change of a number's status is a conditional UPDATE that must touch exactly
one row, so two buyers can never hold or get the same number, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from .db import changed, lock_for_write
from .models import Draft, Organisation, PhoneNumber

MOBILE_TYPES = {PhoneNumberType.MOBILE}
FIXED_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP, PhoneNumberType.UAN}


class NumberError(ValueError):
    """A number that cannot be used, with a message for the buyer."""


def parse(text: str, region: str = "SE") -> phonenumbers.PhoneNumber:
    """Parse a number typed in any common format; raise NumberError when it is not a real number."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise NumberError("not_a_number") from exc
    if not phonenumbers.is_valid_number(number):
        raise NumberError("not_a_number")
    return number


def kind_of(number: phonenumbers.PhoneNumber) -> str | None:
    """'mobile', 'fixed' or None when the number is neither (premium, toll-free, ...)."""
    number_type = phonenumbers.number_type(number)
    if number_type in MOBILE_TYPES:
        return "mobile"
    if number_type in FIXED_TYPES:
        return "fixed"
    return None


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national(value: str) -> str:
    """'+46701234000' as '070-123 40 00'."""
    return phonenumbers.format_number(phonenumbers.parse(value), PhoneNumberFormat.NATIONAL)


def international(value: str) -> str:
    """'+46701234000' as '+46 70 123 40 00'."""
    return phonenumbers.format_number(phonenumbers.parse(value), PhoneNumberFormat.INTERNATIONAL)


def _available(now: datetime):
    """Free, or held by a hold that has run out."""
    return or_(
        PhoneNumber.status == "free",
        and_(PhoneNumber.status == "held", PhoneNumber.hold_expires_at < now),
    )


def digits_to_find(text: str) -> str:
    """The digits of a search box as they appear in an E.164 number: 070 12 finds +467012…
    (the national form's leading 0 dropped). Empty when nothing numeric was typed."""
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    return digits[1:] if digits.startswith("0") else digits


PAGE_SIZE = 10


def search_free(
    sess: Session, kind: str, digits: str, now: datetime, match: str = "anywhere", page: int = 1, limit: int = PAGE_SIZE
) -> tuple[list[PhoneNumber], bool]:
    """Free numbers of a kind whose digits match (anywhere, at the start or at the end), a page at
    a time; returns the page and whether there are more."""
    query = select(PhoneNumber).where(PhoneNumber.kind == kind, _available(now))
    digits = "".join(ch for ch in digits if ch.isdigit() and ch.isascii())
    if digits:
        if match == "start":
            # what people type starts like the national form (070…, 08…) or the international (46…)
            national_digits = digits[1:] if digits.startswith("0") else digits.removeprefix("46")
            query = query.where(PhoneNumber.e164.startswith("+46" + national_digits))
        elif match == "end":
            query = query.where(PhoneNumber.e164.endswith(digits))
        else:
            query = query.where(PhoneNumber.e164.contains(digits[1:] if digits.startswith("0") else digits))
    page = max(page, 1)
    rows = list(sess.scalars(query.order_by(PhoneNumber.e164).offset((page - 1) * limit).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def held_by(sess: Session, draft_id: str) -> PhoneNumber | None:
    """The number a draft holds (its hold may have run out), if any."""
    return sess.scalar(
        select(PhoneNumber).where(PhoneNumber.held_by_draft_id == draft_id, PhoneNumber.status == "held")
    )


def is_available(sess: Session, number_id: int, draft_id: str, now: datetime) -> bool:
    """Free, held by this draft, or held by a hold that ran out."""
    number = sess.get(PhoneNumber, number_id)
    return number is not None and (
        number.status == "free"
        or (number.status == "held" and (number.held_by_draft_id == draft_id or (number.hold_expires_at or now) < now))
    )


def reserved_for(sess: Session, organisation_id: int, kind: str) -> list[PhoneNumber]:
    """The organisation's reserved numbers of a kind (never another organisation's)."""
    return list(
        sess.scalars(
            select(PhoneNumber)
            .where(
                PhoneNumber.organisation_id == organisation_id,
                PhoneNumber.kind == kind,
                PhoneNumber.status == "reserved",
            )
            .order_by(PhoneNumber.e164)
        )
    )


class Held(NamedTuple):
    id: int
    e164: str


def _hold(sess: Session, which, draft_id: str, now: datetime, minutes: int) -> Held | None:
    row = sess.execute(
        update(PhoneNumber)
        .where(which, or_(_available(now), PhoneNumber.held_by_draft_id == draft_id))
        .values(status="held", held_by_draft_id=draft_id, hold_expires_at=now + timedelta(minutes=minutes))
        .returning(PhoneNumber.id, PhoneNumber.e164)
        .execution_options(synchronize_session=False)
    ).first()
    return Held(row.id, row.e164) if row is not None else None


def hold(
    sess: Session,
    number_id: int,
    kind: str | None,
    draft_id: str,
    now: datetime,
    minutes: int,
    room: ColumnElement[bool] | None = None,
) -> Held | None:
    """Hold a number of a kind for a draft (or renew the draft's hold); None when someone else has it
    (or `room`, see room_for_hold, is false). One conditional UPDATE; the caller commits."""
    which = and_(PhoneNumber.id == number_id, PhoneNumber.kind == kind, true() if room is None else room)
    return _hold(sess, which, draft_id, now, minutes)


def hold_next_free(
    sess: Session, kind: str, draft_id: str, now: datetime, minutes: int, room: ColumnElement[bool] | None = None
) -> Held | None:
    """Hold the lowest free number of a kind: one UPDATE of the first row of the (kind, e164) index
    that is available. When another buyer takes that row first, try the next one (while `room`)."""
    room = true() if room is None else room
    first_free = (
        select(PhoneNumber.id).where(PhoneNumber.kind == kind, _available(now)).order_by(PhoneNumber.e164).limit(1)
    )
    for _attempt in range(20):
        held = _hold(sess, and_(PhoneNumber.id == first_free.scalar_subquery(), room), draft_id, now, minutes)
        if held is not None or not sess.scalar(select(and_(first_free.exists(), room))):
            return held
    return None


def lock_organisation_holds(sess: Session, organisation_id: int) -> None:
    """Take the lock that one organisation's new holds are made under, for the rest of the
    transaction, so the room_for_hold of the next statement counts every hold made before it.
    SQLite: the database's write lock (BEGIN IMMEDIATE). PostgreSQL: the organisation's row, FOR NO KEY
    UPDATE (it does not block the inserts that refer to the organisation, only other holders)."""
    lock_for_write(sess)
    sess.execute(select(Organisation.id).where(Organisation.id == organisation_id).with_for_update(key_share=True))


def held_for_organisation(organisation_id: int, now: datetime, draft_id: str | None = None):
    """How many numbers the open drafts of an organisation hold now (other than `draft_id`'s)."""
    other = aliased(PhoneNumber)
    query = (
        select(func.count())
        .select_from(other)
        .join(Draft, Draft.id == other.held_by_draft_id)
        .where(
            Draft.organisation_id == organisation_id,
            Draft.status == "open",
            other.status == "held",
            other.hold_expires_at >= now,  # a hold that ran out is anyone's (_available)
        )
    )
    return query.where(Draft.id != draft_id) if draft_id is not None else query


def room_for_hold(organisation_id: int, draft_id: str, now: datetime, cap: int) -> ColumnElement[bool]:
    """SQL that is true while the organisation's other open drafts hold fewer than `cap` numbers,
    so this draft may hold one: part of the hold's own UPDATE, under lock_organisation_holds."""
    return held_for_organisation(organisation_id, now, draft_id).scalar_subquery() < cap


def release_holds(sess: Session, draft_ids: str | list[str], keep: int | None = None) -> None:
    """Give the held numbers of one draft or several back to the pool (except `keep`)."""
    ids = [draft_ids] if isinstance(draft_ids, str) else draft_ids
    stmt = update(PhoneNumber).where(PhoneNumber.held_by_draft_id.in_(ids), PhoneNumber.status == "held")
    if keep is not None:
        stmt = stmt.where(PhoneNumber.id != keep)
    sess.execute(
        stmt.values(status="free", held_by_draft_id=None, hold_expires_at=None).execution_options(
            synchronize_session=False
        )
    )


def assign(
    sess: Session,
    number_id: int,
    draft_id: str,
    organisation_id: int,
    user_id: int,
    pbx: bool,
    now: datetime,
    reserved: bool,
) -> bool:
    """Assign a held (or still free) pool number, or an org's reserved one; exactly one row or False."""
    if reserved:
        allowed = and_(PhoneNumber.status == "reserved", PhoneNumber.organisation_id == organisation_id)
    else:
        allowed = or_(_available(now), and_(PhoneNumber.status == "held", PhoneNumber.held_by_draft_id == draft_id))
    result = changed(
        sess,
        update(PhoneNumber)
        .where(PhoneNumber.id == number_id, allowed)
        .values(
            status="assigned",
            organisation_id=organisation_id,
            user_id=user_id,
            pbx=pbx,
            held_by_draft_id=None,
            hold_expires_at=None,
        )
        .execution_options(synchronize_session=False),
    )
    return result == 1
