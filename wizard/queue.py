"""The job queue (Huey) that delivers the outbox: a task per message, enqueued after its order commits,
and a task every minute that enqueues again whatever is due (a lost enqueue, a retry after backoff,
a claim whose worker died).

Embedded default: a SQLite file in the instance folder, consumed by a thread of the development server
(`flask run`, `make run`), so mail arrives with nothing else running. With QUEUE_URL=redis://…: Redis,
shared by every host, each running `flask mail-worker` (the Huey consumer). Requests never talk SMTP.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from flask import Flask, current_app, request
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer
from redis import ConnectionPool
from sqlalchemy import select

from . import clock, db, mail, outbox
from .models import Order, OutboxMessage

log = logging.getLogger("wizard")
NAME = "wizard-mail"


class MailQueue:
    """One app's queue: its Huey (made at first use, with the tasks bound to the app) and at most one
    consumer thread of its own."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._huey: Huey | None = None
        self._tasks: dict = {}
        self.consumer: Consumer | None = None

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = self._make()
            return self._huey

    def task(self, name: str):
        """A task of this app's Huey: calling it enqueues."""
        if not self._tasks:
            self.huey  # noqa: B018 (made at first use, with its tasks)
        return self._tasks[name]

    def _make(self) -> Huey:
        huey = storage(self.app)
        app = self.app

        @huey.task(name="deliver")
        def deliver(message_id: int) -> None:
            with app.app_context():
                deliver_now(message_id)

        @huey.periodic_task(crontab(), name="requeue_due")
        def requeue() -> None:
            with app.app_context():
                requeue_due()

        self._tasks = {"deliver": deliver, "requeue_due": requeue}
        return huey

    def enqueue(self, message_ids: Iterable[int]) -> None:
        """Deliver these soon. An enqueue that fails loses nothing: the rows are pending and the
        minute's requeue finds them."""
        for message_id in message_ids:
            try:
                self.task("deliver")(message_id)
            except Exception as exc:  # the queue's storage is down: the outbox still has the row
                log.warning("mail.enqueue_failed outbox=%s error=%s", message_id, type(exc).__name__)

    def start_consumer(self, workers: int = 1) -> Consumer:
        """A consumer in threads of this process (the development server's), started once."""
        huey = self.huey
        with self._lock:
            if self.consumer is None:
                self.consumer = InProcessConsumer(huey, workers=workers, worker_type="thread", max_delay=2.0)
                self.consumer.start()
                log.info("mail.consumer_started queue=%s", type(huey).__name__)
            return self.consumer

    def stop_consumer(self) -> None:
        with self._lock:
            if self.consumer is not None:
                self.consumer.stop(graceful=True)
                self.consumer = None


class InProcessConsumer(Consumer):
    """Huey's consumer without its signal handlers: the server it runs in keeps its own (and a thread
    other than the main one could not set them). Its threads are daemons, ending with the server."""

    def _set_signal_handlers(self) -> None:
        pass


def storage(app: Flask) -> Huey:
    """SQLite in the instance folder, or Redis (redis://, rediss://, unix://), or memory:// (one process)."""
    url = app.config["QUEUE_URL"]
    if url is None:
        return SqliteHuey(NAME, filename=os.path.join(app.instance_path, "queue.sqlite3"), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # A Redis that does not answer must not hold a buyer's Save for long: the enqueue gives up (the
        # minute's requeue finds the message) rather than wait for the operating system's timeout.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=2)
        return RedisHuey(NAME, connection_pool=pool, results=False)
    if url == "memory://":
        return MemoryHuey(NAME, results=False)
    raise RuntimeError(f"QUEUE_URL {url!r} is not a queue: use redis://host:6379/0, or leave it unset for SQLite.")


def init_app(app: Flask) -> None:
    """The app's queue, and the development server's consumer thread, started by its first request."""
    app.extensions["wizard_queue"] = MailQueue(app)
    app.before_request(_start_in_development_server)


def of(app: Flask | None = None) -> MailQueue:
    return (app or current_app).extensions["wizard_queue"]


def _start_in_development_server() -> None:
    """Werkzeug's server (`flask run`) delivers mail itself, never under TESTING unless asked for:
    QUEUE_IN_PROCESS None decides so, True or False forces it. With the reloader, only the process
    that serves requests gets here, so there is one consumer."""
    queue = of()
    if queue.consumer is not None:
        return
    wanted = current_app.config["QUEUE_IN_PROCESS"]
    if wanted is None:
        wanted = not current_app.testing and request.environ.get("SERVER_SOFTWARE", "").startswith("Werkzeug/")
    if wanted:
        queue.start_consumer()


def deliver_now(message_id: int) -> str | None:
    """Claim, send and mark one outbox message (the task's body; tests call it too)."""
    policy = outbox.Policy.from_config(current_app.config)
    return outbox.deliver(db.session(), message_id, _send, clock.now, policy)


def _send(message: OutboxMessage) -> None:
    reference = db.session().scalar(select(Order.reference).where(Order.id == message.order_id)) or "message"
    mail.send(
        message.recipient,
        message.subject,
        message.text_body,
        message.html_body,
        mail.message_id(f"{reference}.{message.kind}", message.id),
        message.locale,
    )


def requeue_due(enqueue: bool = True) -> list[int]:
    """The messages that may be sent now, enqueued again (the periodic task's body)."""
    sess = db.session()
    policy = outbox.Policy.from_config(current_app.config)
    outbox.give_up_abandoned(sess, clock.now(), policy)
    due = outbox.due(sess, clock.now())
    sess.commit()
    if enqueue:
        of().enqueue(due)
    return due
