"""Drafts: half-finished orders kept server-side, versioned so a stale tab never overwrites."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, clock, numbers
from .db import changed
from .models import Draft, User


class StaleDraft(Exception):
    """The draft changed since the form was shown (another tab, another device)."""


def create(sess: Session, user: User, answers: dict, now: datetime, prefill: dict | None = None) -> Draft:
    draft = Draft(
        organisation_id=user.organisation_id,
        created_by_id=user.id,
        answers=answers,
        prefill=prefill,
        created_at=now,
        updated_at=now,
    )
    sess.add(draft)
    sess.flush()
    return draft


def visible_to(user: User, draft: Draft) -> bool:
    """The creator sees their drafts; the owner sees the organisation's."""
    return draft.organisation_id == user.organisation_id and (user.is_owner or draft.created_by_id == user.id)


def get_open(sess: Session, user: User, draft_id: str) -> Draft | None:
    """An open (or submitted) draft this user may see, else None: the view answers 404, so other
    tenants never learn it exists."""
    return check_open(user, sess.get(Draft, draft_id))


def check_open(user: User, draft: Draft | None) -> Draft | None:
    """The draft when this user may see it and it is not discarded or expired, else None."""
    if draft is None or not visible_to(user, draft) or draft.status == "discarded" or expired(draft):
        return None
    return draft


def _cutoff() -> datetime:
    return clock.now() - timedelta(days=current_app.config["DRAFT_MAX_AGE_DAYS"])


def expired(draft: Draft) -> bool:
    """An unfinished order untouched for longer than DRAFT_MAX_AGE_DAYS is gone, purged or not."""
    return draft.status == "open" and draft.updated_at < _cutoff()


_UNCHANGED: dict = {}


def save_answers(
    sess: Session, draft: Draft, answers: dict, expected_version: int, now: datetime, prefill: dict | None = _UNCHANGED
) -> int:
    """Store answers (and, when given, the per-step starting values) only if nobody saved since
    `expected_version`; returns the new version."""
    values: dict = {"answers": answers, "version": expected_version + 1, "updated_at": now}
    if prefill is not _UNCHANGED:
        values["prefill"] = prefill
    result = changed(
        sess,
        update(Draft)
        .where(Draft.id == draft.id, Draft.version == expected_version, Draft.status == "open")
        .values(**values)
        .execution_options(synchronize_session=False),
    )
    if result != 1:
        raise StaleDraft(draft.id)
    # The row is written; keep the object in step without marking it changed (no second UPDATE).
    for name, value in values.items():
        set_committed_value(draft, name, value)
    return draft.version


def close(sess: Session, draft: Draft, expected_version: int | None, now: datetime, status: str) -> bool:
    """Move an open draft to `status` (submitted by a Save, discarded) if nobody saved or closed it since
    `expected_version`: one conditional UPDATE in the caller's transaction; False when another request
    came first."""
    result = changed(
        sess,
        update(Draft)
        .where(Draft.id == draft.id, Draft.version == expected_version, Draft.status == "open")
        .values(status=status, version=Draft.version + 1, updated_at=now)
        .execution_options(synchronize_session=False),
    )
    return result == 1


def discard(sess: Session, draft: Draft, expected_version: int | None, now: datetime, actor_id: int) -> None:
    if not close(sess, draft, expected_version, now, "discarded"):
        raise StaleDraft(draft.id)
    numbers.release_holds(sess, draft.id)
    kind = (draft.answers or {}).get("type", {}).get("kind")
    audit.record(sess, draft.organisation_id, actor_id, "draft.discarded", f"draft:{draft.id}", now, kind=kind)


def count_started_by(sess: Session, user: User) -> int:
    """How many unfinished orders this user started (and may still resume)."""
    return (
        sess.scalar(
            select(func.count())
            .select_from(Draft)
            .where(Draft.created_by_id == user.id, Draft.status == "open", Draft.updated_at >= _cutoff())
        )
        or 0
    )


def open_query(user: User) -> Select:
    """The unfinished orders this user may resume, newest first: their own, or the organisation's for the owner."""
    query = select(Draft).where(
        Draft.organisation_id == user.organisation_id, Draft.status == "open", Draft.updated_at >= _cutoff()
    )
    if not user.is_owner:
        query = query.where(Draft.created_by_id == user.id)
    return query.order_by(Draft.updated_at.desc(), Draft.id)


def purge(sess: Session, now: datetime, max_age_days: int) -> int:
    """Delete open and discarded drafts untouched for `max_age_days`, releasing their number holds."""
    cutoff = now - timedelta(days=max_age_days)
    old = list(sess.scalars(select(Draft.id).where(Draft.status != "submitted", Draft.updated_at < cutoff)))
    if old:
        numbers.release_holds(sess, old)
        sess.execute(delete(Draft).where(Draft.id.in_(old)).execution_options(synchronize_session=False))
    sess.commit()
    return len(old)
