"""Drafts: half-finished orders kept server-side, versioned so a stale tab never overwrites."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import abort, current_app
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import flow, numbers
from .models import Draft, User
from .steps import STEPS


class StaleDraft(Exception):
    """The draft changed since the form was shown (another tab, another device)."""


def create(sess: Session, user: User, answers: dict, now: datetime) -> Draft:
    draft = Draft(organisation_id=user.organisation_id, created_by_id=user.id, answers=answers,
                  created_at=now, updated_at=now)
    sess.add(draft)
    sess.flush()
    return draft


def visible_to(user: User, draft: Draft) -> bool:
    """The creator sees their drafts; the owner sees the organisation's."""
    return draft.organisation_id == user.organisation_id and (user.is_owner or draft.created_by_id == user.id)


def get_open(sess: Session, user: User, draft_id: str) -> Draft:
    """An open draft this user may see, else 404 (other tenants never learn it exists)."""
    return check_open(user, sess.get(Draft, draft_id))


def check_open(user: User, draft: Draft | None) -> Draft:
    """The draft when this user may see it and it is not discarded or expired, else 404."""
    if draft is None or not visible_to(user, draft) or draft.status == "discarded" or expired(draft):
        abort(404)
    return draft


def _cutoff() -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=current_app.config["DRAFT_MAX_AGE_DAYS"])


def expired(draft: Draft) -> bool:
    """An unfinished order untouched for longer than DRAFT_MAX_AGE_DAYS is gone, purged or not."""
    return draft.status == "open" and draft.updated_at < _cutoff()


def save_answers(sess: Session, draft: Draft, answers: dict, expected_version: int, now: datetime) -> int:
    """Store answers only if nobody saved since `expected_version`; returns the new version."""
    result = sess.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.version == expected_version, Draft.status == "open")
        .values(answers=answers, version=expected_version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleDraft(draft.id)
    # The row is written; keep the object in step without marking it changed (no second UPDATE).
    for name, value in (("answers", answers), ("version", expected_version + 1), ("updated_at", now)):
        set_committed_value(draft, name, value)
    return draft.version


def discard(sess: Session, draft: Draft, expected_version: int, now: datetime) -> None:
    result = sess.execute(
        update(Draft)
        .where(Draft.id == draft.id, Draft.version == expected_version, Draft.status == "open")
        .values(status="discarded", version=expected_version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleDraft(draft.id)
    numbers.release_holds(sess, draft.id)


def count_started_by(sess: Session, user: User) -> int:
    """How many unfinished orders this user started (and may still resume)."""
    return sess.scalar(select(func.count()).select_from(Draft).where(
        Draft.created_by_id == user.id, Draft.status == "open", Draft.updated_at >= _cutoff())) or 0


def open_query(user: User) -> Select:
    """The unfinished orders this user may resume, newest first: their own, or the organisation's for the owner."""
    query = select(Draft).where(Draft.organisation_id == user.organisation_id, Draft.status == "open",
                                Draft.updated_at >= _cutoff())
    if not user.is_owner:
        query = query.where(Draft.created_by_id == user.id)
    return query.order_by(Draft.updated_at.desc(), Draft.id)


def progress(draft: Draft) -> dict:
    """How far an order got: steps done of the route, the resume step, what is still missing."""
    route = [s for s in flow.path(STEPS, draft.answers) if not s.final]
    done = [s for s in route if flow.is_complete(s, draft.answers)]
    return {
        "done": len(done),
        "total": len(route),
        "resume": flow.first_incomplete(STEPS, draft.answers),
        "missing": [s.title for s in route if not flow.is_complete(s, draft.answers)],
    }


def purge(sess: Session, now: datetime, max_age_days: int) -> int:
    """Delete open and discarded drafts untouched for `max_age_days`, releasing their number holds."""
    cutoff = now - timedelta(days=max_age_days)
    old = list(sess.scalars(select(Draft.id).where(Draft.status != "submitted", Draft.updated_at < cutoff)))
    if old:
        numbers.release_holds(sess, old)
        sess.execute(delete(Draft).where(Draft.id.in_(old)).execution_options(synchronize_session=False))
    sess.commit()
    return len(old)
