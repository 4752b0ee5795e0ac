"""The audit log: who did what, and when. Every event is one row of `audit_events`, written in the
transaction of what it records (so an event exists exactly when its change does); `record` writes
one, and `KINDS` names the actions people filter the log by."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .db import changed
from .models import AuditEvent

# action -> what it is called on the audit log page (and in its CSV), in the reader's language.
KINDS: dict[str, Any] = {
    "subscription.purchased": _l("Subscription bought"),
    "draft.discarded": _l("Unfinished order discarded"),
    "mex.connected": _l("MEX pair connected"),
    "mex.disconnected": _l("MEX pair removed"),
    "porting.scheduled": _l("Porting scheduled"),
    "porting.completed": _l("Porting completed"),
    "porting.rejected": _l("Porting rejected"),
    "porting.cancelled": _l("Porting cancelled"),
    "login.succeeded": _l("Logged in"),
    "login.failed": _l("Failed login"),
    "token.created": _l("API token made"),
    "token.revoked": _l("API token revoked"),
}


def record(
    sess: Session,
    organisation_id: int | None,
    actor_id: int | None,
    action: str,
    subject: str,
    now: datetime,
    **data: Any,
) -> AuditEvent:
    """Add one event to the session (the caller commits it with the change it records). `actor_id`
    is None for the operator (its command line) and for the system; `organisation_id` is None only
    for a failed login naming an address with no account."""
    assert action in KINDS, f"unknown audit action {action!r}: name it in audit.KINDS"
    event = AuditEvent(
        organisation_id=organisation_id, actor_id=actor_id, action=action, subject=subject, created_at=now, data=data
    )
    sess.add(event)
    return event


def purge_unowned(sess: Session, now: datetime, max_age_days: int) -> int:
    """Delete the events no organisation owns (failed logins naming no account) older than the age;
    the caller commits. How many there were is what they tell the operator, so they are not kept long."""
    statement = delete(AuditEvent).where(
        AuditEvent.organisation_id.is_(None), AuditEvent.created_at < now - timedelta(days=max_age_days)
    )
    return changed(sess, statement.execution_options(synchronize_session=False))
