"""Personal API tokens: made, checked and revoked here; the page (tokens_view.py) and the API use these.

A token is shown once, when it is made, and stored only as its SHA-256: the database never holds
it. It acts as its creator, in their organisation, with the permissions they have at each request:
it stops working when revoked, when its creator is switched off or no longer holds `account`.
The caller commits what these functions write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from . import db
from .models import ApiToken, User

SCHEME = "nbt_"  # what every token starts with, so a leaked one is recognisable (e.g. by secret scanners)
PREFIX_LENGTH = 12  # the column's length: SCHEME and the first 8 random characters
MAX_LENGTH = 100  # far longer than a real token (4 + 43 characters): anything longer is not one
PERMISSION = "account"  # what the creator must still hold for the token to work
LAST_USED_PRECISION = timedelta(minutes=1)  # last_used_at is written at most this often


def digest(raw: str) -> str:
    """The stored form of a token: SHA-256 in hex (a token is random, a slow hash would protect nothing)."""
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def create(sess: Session, user: User, name: str, now: datetime, form_once: str | None = None) -> tuple[ApiToken, str]:
    """A new token of `user` named `name`, added to the session (flushed: a `form_once` that made a
    token already raises IntegrityError), and the token itself (shown once)."""
    raw = SCHEME + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation_id=user.organisation_id,
        user_id=user.id,
        name=name,
        token_hash=digest(raw),
        prefix=raw[:PREFIX_LENGTH],
        created_at=now,
        form_once=form_once,
    )
    sess.add(token)
    sess.flush()
    return token, raw


def authenticate(sess: Session, raw: str, now: datetime, note_use: bool = True) -> tuple[ApiToken, User] | None:
    """The token and its creator, or None when the token is unknown, revoked, or its creator is
    inactive or no longer holds `account`. Notes the use (at most once a minute, one conditional UPDATE),
    unless `note_use` is false (a GET, which never writes)."""
    if not (raw.startswith(SCHEME) and len(raw) <= MAX_LENGTH and raw.isascii()):
        return None
    row = sess.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == digest(raw),
            ApiToken.revoked_at.is_(None),
            ApiToken.organisation_id == User.organisation_id,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    token, user = row
    if not user.has_permission(PERMISSION):
        return None
    cutoff = now - LAST_USED_PRECISION
    if note_use and (token.last_used_at is None or token.last_used_at <= cutoff):
        # Conditional, so that concurrent requests write it once, and a revocation in between is not undone.
        noted = db.changed(
            sess,
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                ApiToken.revoked_at.is_(None),
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= cutoff),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False),
        )
        if noted:
            set_committed_value(token, "last_used_at", now)
    return token, user


def _visible_to(user: User):
    """The tokens this person may see and revoke: their own; the owner, the organisation's."""
    scope = [ApiToken.organisation_id == user.organisation_id]
    if not user.is_owner:
        scope.append(ApiToken.user_id == user.id)
    return scope


def revoke(sess: Session, token_id: int, user: User, now: datetime) -> bool:
    """Revoke a token this person may revoke; False when there is none such, or it was already revoked."""
    statement = (
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None), *_visible_to(user))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.changed(sess, statement) == 1


def find(sess: Session, token_id: int, user: User) -> ApiToken | None:
    """One token this person may see (revoked or not), else None."""
    return sess.scalar(select(ApiToken).where(ApiToken.id == token_id, *_visible_to(user)))


def list_for(sess: Session, user: User) -> list[ApiToken]:
    """The person's tokens, newest first; the owner's list is the organisation's, with their creators."""
    return list(
        sess.scalars(
            select(ApiToken)
            .options(joinedload(ApiToken.user))
            .where(*_visible_to(user))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )
