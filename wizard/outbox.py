"""The outbox: e-mails written in the transaction that gives their reason, delivered once each.

A message is a row from the moment its order commits, so nothing is lost when the mail server or the
worker is down. Delivery claims a row with a conditional UPDATE (pending -> sending, with a lease: a
worker that dies mid-send lets another take the row over when the lease ends), sends it, then marks it
sent; a failed attempt puts it back as pending with a later next_attempt_at (exponential backoff, capped)
until MAIL_MAX_ATTEMPTS, then it is failed for good. Sending itself is passed in (mail.send).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .db import changed
from .models import OutboxMessage

log = logging.getLogger("wizard")


@dataclass(frozen=True)
class Policy:
    """How long a claim lasts, how retries back off, and when to give up (MAIL_* settings)."""

    lease: timedelta
    first_retry: timedelta
    longest_retry: timedelta
    max_attempts: int

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            lease=timedelta(seconds=config["MAIL_LEASE_SECONDS"]),
            first_retry=timedelta(seconds=config["MAIL_RETRY_SECONDS"]),
            longest_retry=timedelta(seconds=config["MAIL_RETRY_MAX_SECONDS"]),
            max_attempts=config["MAIL_MAX_ATTEMPTS"],
        )

    def retry_after(self, attempts: int) -> timedelta:
        """1, 2, 4, 8 … times the first wait after the 1st, 2nd, 3rd … failed attempt, at most the longest."""
        return min(self.first_retry * 2 ** min(attempts - 1, 30), self.longest_retry)


Sender = Callable[[OutboxMessage], None]  # sends one message now, or raises


@dataclass(frozen=True)
class Letter:
    """One message to write: why, to whom, in which language, and its text as rendered (wizard/mail.py)."""

    kind: str
    recipient: str
    locale: str
    subject: str
    text: str
    html: str


def add(sess: Session, organisation_id: int, order_id: int | None, letters: list[Letter], now: datetime) -> list[int]:
    """Write messages to send, in the caller's transaction: one INSERT however many (their ids)."""
    if not letters:
        return []
    rows = [
        {
            "organisation_id": organisation_id,
            "order_id": order_id,
            "kind": letter.kind,
            "recipient": letter.recipient,
            "locale": letter.locale,
            "subject": letter.subject,
            "text_body": letter.text,
            "html_body": letter.html,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for letter in letters
    ]
    return list(sess.scalars(insert(OutboxMessage).returning(OutboxMessage.id), rows))


def _claimable(now: datetime):
    """Pending and due, or claimed by a worker whose lease ran out (it died or hung mid-send)."""
    return (
        OutboxMessage.status.in_(("pending", "sending")),
        OutboxMessage.next_attempt_at <= now,
    )


def due(sess: Session, now: datetime, limit: int = 100) -> list[int]:
    """Ids of the messages a worker may claim now, oldest first."""
    query = select(OutboxMessage.id).where(*_claimable(now)).order_by(OutboxMessage.next_attempt_at).limit(limit)
    return list(sess.scalars(query))


def claim(sess: Session, message_id: int, now: datetime, policy: Policy) -> OutboxMessage | None:
    """Take one message for sending (committed), or None when it is not ours to send: sent, failed,
    not yet due, or claimed by another worker whose lease still runs."""
    taken = changed(
        sess,
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_claimable(now), OutboxMessage.attempts < policy.max_attempts)
        .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=now + policy.lease)
        .execution_options(synchronize_session=False),
    )
    sess.commit()
    return sess.get(OutboxMessage, message_id, populate_existing=True) if taken == 1 else None


def deliver(sess: Session, message_id: int, send: Sender, now: Callable[[], datetime], policy: Policy) -> str | None:
    """Claim, send and mark one message; returns its status afterwards, or None when it was not ours."""
    message = claim(sess, message_id, now(), policy)
    if message is None:
        return None
    ours = (
        OutboxMessage.id == message.id,
        OutboxMessage.status == "sending",
        OutboxMessage.attempts == message.attempts,
    )
    try:
        send(message)
    except Exception as exc:  # any failure of the mail server or the connection: try again later
        status = "failed" if message.attempts >= policy.max_attempts else "pending"
        retry_at = now() + policy.retry_after(message.attempts)
        sess.execute(
            update(OutboxMessage)
            .where(*ours)
            .values(status=status, next_attempt_at=retry_at, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            .execution_options(synchronize_session=False)
        )
        sess.commit()
        log.log(
            logging.ERROR if status == "failed" else logging.WARNING,
            "mail.%s outbox=%s kind=%s attempts=%s next_attempt_at=%s error=%s",
            "failed" if status == "failed" else "retry",
            message.id,
            message.kind,
            message.attempts,
            retry_at.isoformat() if status == "pending" else "-",
            type(exc).__name__,
        )
        return status
    marked = changed(
        sess,
        update(OutboxMessage)
        .where(*ours)
        .values(status="sent", sent_at=now(), last_error=None)
        .execution_options(synchronize_session=False),
    )
    sess.commit()
    if marked != 1:  # our lease ran out while the server was answering, and another worker took it over
        log.warning("mail.lease_expired outbox=%s kind=%s attempts=%s", message.id, message.kind, message.attempts)
    log.info("mail.sent outbox=%s kind=%s attempts=%s", message.id, message.kind, message.attempts)
    return "sent"


def give_up_abandoned(sess: Session, now: datetime, policy: Policy) -> int:
    """Messages whose last allowed attempt was claimed by a worker that never came back: failed."""
    abandoned = list(
        sess.scalars(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.attempts >= policy.max_attempts,
            )
            .values(status="failed", last_error=func.coalesce(OutboxMessage.last_error, "abandoned mid-send"))
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    sess.commit()
    for message_id in abandoned:
        log.error("mail.failed outbox=%s reason=abandoned", message_id)
    return len(abandoned)
