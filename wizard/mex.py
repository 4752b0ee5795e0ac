"""MEX: one fixed and one mobile PBX number of the same user working as one line.

The one implementation of the rules, used by the wizard and by Users & Teams.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import MexPair, PhoneNumber

OTHER_KIND = {"mobile": "fixed", "fixed": "mobile"}


def paired_ids(sess: Session, organisation_id: int) -> set[int]:
    """Ids of the organisation's numbers already in a pair."""
    rows = sess.execute(
        select(MexPair.fixed_number_id, MexPair.mobile_number_id).where(MexPair.organisation_id == organisation_id)
    )
    return {i for row in rows for i in row}


def partner_candidates(sess: Session, organisation_id: int, user_id: int, kind: str) -> list[PhoneNumber]:
    """The user's PBX numbers of the other kind that are not paired yet: what a new `kind` number may pair with."""
    taken = paired_ids(sess, organisation_id)
    numbers = sess.scalars(
        select(PhoneNumber)
        .where(PhoneNumber.organisation_id == organisation_id, PhoneNumber.user_id == user_id,
               PhoneNumber.kind == OTHER_KIND[kind], PhoneNumber.status == "assigned", PhoneNumber.pbx.is_(True))
        .order_by(PhoneNumber.e164)
    )
    return [n for n in numbers if n.id not in taken]


def pair_problem(fixed: PhoneNumber | None, mobile: PhoneNumber | None, user_id: int, organisation_id: int,
                 already_paired: set[int]) -> str | None:
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
