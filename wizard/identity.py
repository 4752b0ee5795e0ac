"""Who is asking, in one statement: the login session, the person, their organisation and its
contract in force, and, on an order's pages, that order with the number it holds.

Every page needs the person and the organisation, and every order page needs the order too;
reading them together keeps a wizard step at a handful of statements. The draft is joined
only within the person's organisation; whether this person may see it is decided by the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from .models import Contract, Draft, LoginSession, Organisation, PhoneNumber, User


@dataclass
class Visit:
    """What one request knows before its view runs."""

    user: User
    organisation: Organisation
    contract: Contract | None  # the organisation's contract in force today
    draft_id: str | None = None  # the order the URL names (None off order pages)
    draft: Draft | None = None  # that order, when it is the organisation's
    held: PhoneNumber | None = None  # the number that order holds (possibly run out)


def _visit_query(with_draft: bool):
    """The statement, built once: the person's organisation, its contract in force and, with_draft,
    the order the URL names with its held number. Values come as bound parameters."""
    today = bindparam("today", type_=Date)
    in_force = and_(
        Contract.organisation_id == Organisation.id,
        Contract.starts_on <= today,
        or_(Contract.ends_on.is_(None), Contract.ends_on >= today),
    )
    query = (
        select(User, Organisation, Contract)
        .select_from(LoginSession)
        .join(User, User.id == LoginSession.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(Contract, in_force)
        .where(
            LoginSession.token == bindparam("token"),
            LoginSession.created_at > bindparam("oldest", type_=LoginSession.created_at.type),
            User.active.is_(True),
        )
    )
    if with_draft:
        query = (
            query.add_columns(Draft, PhoneNumber)
            .outerjoin(Draft, and_(Draft.id == bindparam("draft_id"), Draft.organisation_id == User.organisation_id))
            .outerjoin(PhoneNumber, and_(PhoneNumber.held_by_draft_id == Draft.id, PhoneNumber.status == "held"))
        )
    return query.limit(1)


VISIT = _visit_query(with_draft=False)
VISIT_WITH_DRAFT = _visit_query(with_draft=True)


def load(sess: Session, token: str, oldest: datetime, today: date, draft_id: str | None = None) -> Visit | None:
    """The visit of an active login session created after `oldest`, or None."""
    params = {"token": token, "oldest": oldest, "today": today, "draft_id": draft_id}
    query = VISIT if draft_id is None else VISIT_WITH_DRAFT
    row: Any = sess.execute(query, params).first()  # three or five entities, as the query was built
    if row is None:
        return None
    visit = Visit(row[0], row[1], row[2], draft_id)
    if draft_id is not None:
        visit.draft, visit.held = row[3], row[4]
    return visit
