"""MEX: one fixed and one mobile PBX number of the same user working as one line.

The one implementation of the rules, used by the wizard and by Users & Teams.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import numbers
from .models import AuditEvent, MexPair, PhoneNumber

OTHER_KIND = {"mobile": "fixed", "fixed": "mobile"}


def paired_ids(sess: Session, organisation_id: int) -> set[int]:
    """Ids of the organisation's numbers already in a pair."""
    rows = sess.execute(
        select(MexPair.fixed_number_id, MexPair.mobile_number_id).where(MexPair.organisation_id == organisation_id)
    )
    return {i for row in rows for i in row}


def wanted(answers) -> bool:
    """Whether an order's answers ask for MEX: a PBX-integrated number with MEX turned on."""
    pbx = answers.get("pbx", {})
    return pbx.get("mode") == "pbx" and bool(pbx.get("mex"))


def partner_candidates(sess: Session, organisation_id: int, user_id: int, kind: str) -> list[PhoneNumber]:
    """The user's PBX numbers of the other kind that are not paired yet: what a new `kind` number may pair with."""
    taken = paired_ids(sess, organisation_id)
    numbers = sess.scalars(
        select(PhoneNumber)
        .where(
            PhoneNumber.organisation_id == organisation_id,
            PhoneNumber.user_id == user_id,
            PhoneNumber.kind == OTHER_KIND[kind],
            PhoneNumber.status == "assigned",
            PhoneNumber.pbx.is_(True),
        )
        .order_by(PhoneNumber.e164)
    )
    return [n for n in numbers if n.id not in taken]


def pair_problem(
    fixed: PhoneNumber | None, mobile: PhoneNumber | None, user_id: int, organisation_id: int, already_paired: set[int]
) -> str | None:
    """Why these two numbers cannot be paired (a message code), or None when they can."""
    if fixed is None or mobile is None:
        return "missing"
    if fixed.kind != "fixed" or mobile.kind != "mobile":
        return "kinds"
    for number in (fixed, mobile):
        if number.organisation_id != organisation_id:
            return "other_org"
        if number.user_id != user_id:
            return "other_user"
        if not number.pbx:
            return "independent"
        if number.id in already_paired:
            return "already_paired"
    return None


def pair_for(sess: Session, number_id: int) -> MexPair | None:
    return sess.scalar(
        select(MexPair).where(or_(MexPair.fixed_number_id == number_id, MexPair.mobile_number_id == number_id))
    )


# --------------------------------------------------------------------------- Users & Teams: MEX on a user
# The wizard pairs a new number through partner_candidates (which rests on paired_ids); this page
# pairs existing numbers through plan_changes (which rests on paired_ids and pair_problem).


@dataclass
class Change:
    """One fixed number's pair as it is (old) and as it will be after Save (new; None: no pair)."""

    fixed: PhoneNumber
    old: MexPair | None
    new_mobile: PhoneNumber | None


def mobile_problem(sess: Session, text: str, region: str) -> tuple[str | None, PhoneNumber | None]:
    """Read a typed mobile number: (problem code, None) or (None, the stored number)."""
    try:
        parsed = numbers.parse(text, region)
    except numbers.NumberError:
        return "not_a_number", None
    if numbers.kind_of(parsed) != "mobile":
        return "kinds", None
    number = sess.scalar(select(PhoneNumber).where(PhoneNumber.e164 == numbers.e164(parsed)))
    if number is None or number.organisation_id is None:
        return "unknown", None  # not a number of any customer: pool numbers and others' operators
    return None, number


def plan_changes(
    sess: Session, organisation_id: int, user_id: int, wanted: dict[int, str], region: str
) -> tuple[list[Change], dict[int, str]]:
    """What `wanted` ({fixed number id: typed mobile number, '' to remove the pair}) changes, and why not.

    Returns the changes and, per fixed number id, a problem code. The pairs of the fixed numbers
    being changed count as free, so moving a mobile number from one fixed number to another
    within one Save works; a mobile number may be claimed once.
    """
    fixed_numbers = {i: sess.get_one(PhoneNumber, i) for i in wanted}  # the caller has found each one
    current = {i: pair_for(sess, i) for i in wanted}
    taken = paired_ids(sess, organisation_id)
    for pair in current.values():
        if pair is not None:
            taken -= {pair.fixed_number_id, pair.mobile_number_id}
    changes, problems = [], {}
    for fixed_id in sorted(wanted):
        fixed, old, text = fixed_numbers[fixed_id], current[fixed_id], wanted[fixed_id].strip()
        if not text:
            if old is not None:
                changes.append(Change(fixed, old, None))
            continue
        problem, mobile = mobile_problem(sess, text, region)
        if problem is None:
            assert mobile is not None  # no problem: mobile_problem found the number
            if old is not None and old.mobile_number_id == mobile.id and old.fixed_number_id == fixed.id:
                taken |= {fixed.id, mobile.id}
                continue  # already paired like this: nothing to do
            problem = pair_problem(fixed, mobile, user_id, organisation_id, taken)
        if problem is not None:
            problems[fixed_id] = problem
            continue
        assert mobile is not None  # no problem: mobile_problem found the number
        taken |= {fixed.id, mobile.id}
        changes.append(Change(fixed, old, mobile))
    return changes, problems


def apply_changes(
    sess: Session, organisation_id: int, user_id: int, changes: list[Change], actor_id: int, now: datetime
) -> None:
    """Write the changes and an audit event for each pair removed or made; the caller commits."""
    subject = f"user:{user_id}"
    for change in changes:
        if change.old is not None:
            sess.add(
                AuditEvent(
                    organisation_id=organisation_id,
                    actor_id=actor_id,
                    action="mex.disconnected",
                    subject=subject,
                    created_at=now,
                    data={"fixed": change.old.fixed_number.e164, "mobile": change.old.mobile_number.e164},
                )
            )
            sess.delete(change.old)
    sess.flush()  # free the numbers before they pair again (a number is in one pair at most)
    for change in changes:
        if change.new_mobile is not None:
            sess.add(
                MexPair(
                    organisation_id=organisation_id,
                    user_id=user_id,
                    fixed_number_id=change.fixed.id,
                    mobile_number_id=change.new_mobile.id,
                    created_at=now,
                )
            )
            sess.add(
                AuditEvent(
                    organisation_id=organisation_id,
                    actor_id=actor_id,
                    action="mex.connected",
                    subject=subject,
                    created_at=now,
                    data={"fixed": change.fixed.e164, "mobile": change.new_mobile.e164},
                )
            )
    sess.flush()
