"""Order references and the confirmation e-mails: written to the outbox with the order, delivered by the
queue's task to a real SMTP server on loopback (aiosmtpd), exactly once, retried when the server is
down, in the reader's language; without a mail server, .eml files. On SQLite and PostgreSQL.

Delivery is driven by running the queue's tasks in the test (Huey's dequeue and execute), the way the
worker does, so nothing waits on a timer."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from tests.conftest import IN_CI, TEST_CONFIG
from tests.pages import page, parse
from tests.test_wizard_journeys import VALID_ICC, user_id, walk
from tests.wizard_client import Buyer
from wizard import create_app, db, outbox, queue
from wizard.models import Order, OutboxMessage, Sim, Subscription, User
from wizard.seed import seed_demo

REFERENCE = re.compile(r"NB-\d{4}-\d{6}")

MOBILE = [
    ("price_basis", {"basis": "unbound"}),
    ("call_rate", {"code": "rate-fixed"}),
    ("data_package", {"code": "data-5"}),
    ("number", {"choice": "new"}),
]


class Inbox:
    """aiosmtpd's handler: every message the server accepted, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 at a port chosen before it starts, so a test can have it down."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class Clock:
    """Real time, moved forward by the test (the app's CLOCK)."""

    def __init__(self):
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock():
    return Clock()


def make_app(database_url, tmp_path, **config):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **config}, instance_path=str(tmp_path))
    with app.app_context():
        seed_demo(db.session())
    return app


@pytest.fixture
def app(database_url, tmp_path, smtp, clock):
    """The app sending to the loopback SMTP server (down until the test starts it, in some tests)."""
    app = make_app(database_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, CLOCK=clock)
    yield app
    queue.of(app).stop_consumer()
    app.extensions["db_engine"].dispose()


def run_queue(app) -> int:
    """What a worker does: take each task off the queue and run it, until the queue is empty."""
    huey = queue.of(app).huey
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def requeue(app) -> list[int]:
    """The minute's periodic task: enqueue again whatever is due."""
    with app.app_context():
        return queue.requeue_due()


def outbox_rows(query):
    return query(lambda s: [(m.kind, m.recipient, m.status, m.attempts) for m in s.scalars(select(OutboxMessage))])


def buy(b, query, user="erik@nordlys.test", sim="physical"):
    """A mobile subscription bought by `b` for `user`, unbound (no binding to accept); the done page."""
    b.start("mobile")
    sim_answer = {"sim_kind": "esim"} if sim == "esim" else {"sim_kind": "physical", "icc": VALID_ICC}
    walk(
        b,
        MOBILE
        + [
            ("sim", sim_answer),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": user_id(query, user)}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    saved = b.save()
    assert saved.status_code == 303
    return b.get(saved.headers["Location"])


def body(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def test_a_purchase_delivers_one_confirmation_with_the_order_reference(app, buyer_as, query, smtp, caplog):
    caplog.set_level(logging.INFO, logger="wizard")
    b = buyer_as("buyer")
    done = page(buy(b, query))

    reference = query(lambda s: s.scalar(select(Order.reference)))
    assert reference == f"NB-{datetime.now(UTC).year}-{query(lambda s: s.scalar(select(Order.id))):06d}"
    assert f"Order reference: {reference}" in done.find(cls="panel-success").text()
    assert query(lambda s: s.scalar(select(Subscription.order_id))) is not None
    assert any("order.placed" in r.message and f"order={reference}" in r.message for r in caplog.records)
    assert outbox_rows(query) == [("order_confirmation", "buyer@nordlys.test", "pending", 0)]
    assert smtp.inbox.messages == []  # the request sent nothing itself

    assert run_queue(app) == 1
    (message,) = smtp.inbox.messages
    assert message["X-Envelope-To"] == "buyer@nordlys.test"
    assert reference in message["Subject"]
    text = body(message, "plain")
    assert f"Order reference: {reference}" in text
    for line in ("Call rate:", "Data package:", "Number:", "SIM:", "User: Erik", "Status: Active"):
        assert line in text, line
    assert "One-off:" in text and "Monthly:" in text
    assert f"<strong>{reference}</strong>" in body(message, "html")
    assert outbox_rows(query) == [("order_confirmation", "buyer@nordlys.test", "sent", 1)]

    assert requeue(app) == [] and run_queue(app) == 0  # sent once, never again
    assert len(smtp.inbox.messages) == 1
    assert queue.of(app).consumer is None  # tests start no consumer thread unless they ask for one

    subs = page(b.get("/settings/account/subs"))
    (row,) = [tr for tr in subs.find_all("tr") if reference in tr.text()]
    assert "Erik" in row.text()
    found = page(b.get("/settings/account/subs", query_string={"q": reference[-6:]}))
    assert "1 subscription matches" in found.find(cls="result-count").text()


def test_with_the_mail_server_down_the_order_is_saved_and_the_mail_arrives_once_it_is_back(
    app, buyer_as, query, smtp, clock, caplog
):
    smtp.stop()
    buy(buyer_as("buyer"), query)
    assert query(lambda s: s.scalar(select(Subscription.id))) is not None

    assert run_queue(app) == 1
    (row,) = query(lambda s: list(s.scalars(select(OutboxMessage))))
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at >= clock() + timedelta(seconds=55)  # backoff: the first retry after a minute
    assert any(r.message.startswith("mail.retry") for r in caplog.records)

    smtp.start()
    assert requeue(app) == []  # not due yet
    clock.offset = timedelta(minutes=2)
    assert requeue(app) == [row.id]
    assert run_queue(app) == 1
    (message,) = smtp.inbox.messages
    assert REFERENCE.search(message["Subject"])
    assert outbox_rows(query) == [("order_confirmation", "buyer@nordlys.test", "sent", 2)]


def test_a_double_clicked_save_sends_one_email(app, buyer_as, query, smtp):
    b = buyer_as("buyer")
    b.start("mobile")
    walk(
        b,
        MOBILE
        + [
            ("sim", {"sim_kind": "physical", "icc": VALID_ICC}),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": user_id(query, "erik@nordlys.test")}),
            ("top_up", {"top_up": "no"}),
        ],
    )
    html = b.get(b.step_url("review")).get_data(as_text=True)
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}
    form["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)
    first = b.client.post(f"{b.draft_url}/save", data=form)
    second = b.client.post(f"{b.draft_url}/save", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert query(lambda s: len(s.scalars(select(Order)).all())) == 1

    run_queue(app)
    requeue(app)
    run_queue(app)
    assert len(smtp.inbox.messages) == 1


def test_the_esim_user_gets_the_link_never_the_activation_code(app, buyer_as, query, smtp):
    buy(buyer_as("buyer"), query, sim="esim")
    subscription_id = query(lambda s: s.scalar(select(Subscription.id)))
    code = query(lambda s: s.scalar(select(Sim.activation_code)))
    assert sorted(kind for kind, *_ in outbox_rows(query)) == ["esim_ready", "order_confirmation"]

    run_queue(app)
    by_recipient = {m["X-Envelope-To"]: m for m in smtp.inbox.messages}
    assert sorted(by_recipient) == ["buyer@nordlys.test", "erik@nordlys.test"]
    link = f"http://localhost/settings/account/subs/subscriptions/{subscription_id}/esim"
    erik = by_recipient["erik@nordlys.test"]
    assert REFERENCE.search(erik["Subject"]) and "eSIM" in erik["Subject"]
    assert link in body(erik, "plain")
    assert parse(body(erik, "html")).find("a", href=link) is not None
    assert link in body(by_recipient["buyer@nordlys.test"], "plain")
    for message in smtp.inbox.messages:
        raw = message.as_string()
        assert code not in raw and code.split("$")[-1] not in raw  # not the code, nor its matching id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the language is no database's business
def test_each_reader_gets_mail_in_their_language(app, buyer_as, query, smtp):
    """Erik chose English (users.locale): his message is English. The buyer chose nothing and browses
    in Swedish: their confirmation is in the language they bought in."""
    query(lambda s: (s.execute(update(User).where(User.email == "erik@nordlys.test").values(locale="en")), s.commit()))
    b = buyer_as("buyer")
    b.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv-SE,sv;q=0.9"
    buy(b, query, sim="esim")
    run_queue(app)
    by_recipient = {m["X-Envelope-To"]: m for m in smtp.inbox.messages}

    swedish = by_recipient["buyer@nordlys.test"]
    assert swedish["Content-Language"] == "sv"
    assert parse(body(swedish, "html")).find("html").attrs["lang"] == "sv"
    assert re.search(r"\d,00\xa0kr", body(swedish, "plain"))  # Babel's Swedish price
    english = by_recipient["erik@nordlys.test"]
    assert english["Content-Language"] == "en"
    assert parse(body(english, "html")).find("html").attrs["lang"] == "en"
    rows = query(lambda s: {m.recipient: m.locale for m in s.scalars(select(OutboxMessage))})
    assert rows == {"buyer@nordlys.test": "sv", "erik@nordlys.test": "en"}


def pending_message(app, recipient="anna@nordlys.test") -> int:
    """An outbox row as a purchase writes it (the tests of delivery alone need no purchase)."""
    with app.app_context():
        sess = db.session()
        org_id = sess.scalar(select(User.organisation_id).where(User.email == recipient))
        letter = outbox.Letter(
            "order_confirmation", recipient, "en", "Your order", "Thank you.\n", "<p>Thank you.</p>\n"
        )
        (message_id,) = outbox.add(sess, org_id, None, [letter], app.config["CLOCK"]())
        sess.commit()
        return message_id


def test_a_claim_is_the_workers_alone_until_its_lease_runs_out(app, query, smtp, clock):
    """A worker that died mid-send: its claim keeps every other worker from sending (no second message)
    until the lease runs out, then another sends the message once."""
    message_id = pending_message(app)
    with app.app_context():
        policy = outbox.Policy.from_config(app.config)
        assert outbox.claim(db.session(), message_id, clock(), policy) is not None  # and then it died
        assert queue.deliver_now(message_id) is None
        assert queue.requeue_due() == []
    clock.offset = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
    assert requeue(app) == [message_id]
    assert run_queue(app) == 1
    assert len(smtp.inbox.messages) == 1
    assert outbox_rows(query) == [("order_confirmation", "anna@nordlys.test", "sent", 2)]


def test_retries_back_off_and_after_the_last_attempt_a_message_is_failed_and_logged(app, query, smtp, clock, caplog):
    smtp.stop()
    app.config["MAIL_MAX_ATTEMPTS"] = 4
    pending_message(app)
    waits = []
    for _attempt in range(4):
        requeue(app)
        run_queue(app)
        next_attempt_at = query(lambda s: s.scalar(select(OutboxMessage.next_attempt_at)))
        waits.append(round((next_attempt_at - clock()).total_seconds() / 60))
        clock.offset += timedelta(hours=2)
    assert waits[:3] == [1, 2, 4]  # minutes; doubling up to MAIL_RETRY_MAX_SECONDS
    assert outbox_rows(query) == [("order_confirmation", "anna@nordlys.test", "failed", 4)]
    assert any(r.levelno == logging.ERROR and r.message.startswith("mail.failed") for r in caplog.records)
    clock.offset += timedelta(days=1)
    assert requeue(app) == []  # failed is final
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_mail_worker_command_sends_what_is_due(app, query, smtp):
    pending_message(app)
    result = app.test_cli_runner().invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 message." in result.output
    assert [m["X-Envelope-To"] for m in smtp.inbox.messages] == ["anna@nordlys.test"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_development_server_delivers_mail_in_a_thread_of_its_own(app, buyer_as, query, smtp):
    """QUEUE_IN_PROCESS on (as `flask run` has it outside tests): the first request starts one consumer,
    and a purchase's confirmation arrives with nothing else running."""
    app.config["QUEUE_IN_PROCESS"] = True
    b = buyer_as("buyer")
    consumer = queue.of(app).consumer
    assert consumer is not None
    b.get("/settings/account/subs")
    assert queue.of(app).consumer is consumer  # never a second one
    buy(b, query)
    deadline = time.monotonic() + 10
    while not smtp.inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)  # the consumer's thread polls its queue; wait for it, within a deadline
    assert [m["X-Envelope-To"] for m in smtp.inbox.messages] == ["buyer@nordlys.test"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_a_redis_queue_a_purchase_is_delivered_from_redis(database_url, tmp_path, smtp):
    """QUEUE_URL=redis://…: the queue several hosts share (each running `flask mail-worker`)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but unreachable at {url}: {exc}")
        pytest.skip(f"Redis not reachable at {url}")
    app = make_app(database_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, QUEUE_URL=url)
    huey = queue.of(app).huey
    assert type(huey).__name__ == "RedisHuey"
    huey.flush()
    try:
        b = Buyer(app.test_client())
        assert b.login("buyer@nordlys.test", "demo-buyer-pw").status_code == 302
        buy(b, lambda fn: run_in(app, fn))
        assert huey.pending_count() == 1
        assert run_queue(app) == 1
        assert [m["X-Envelope-To"] for m in smtp.inbox.messages] == ["buyer@nordlys.test"]
    finally:
        huey.flush()
        app.extensions["db_engine"].dispose()


def run_in(app, fn):
    with app.app_context():
        return fn(db.session())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_mail_server_messages_are_eml_files_in_the_instance_folder(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "instance")
    buyer = Buyer(app.test_client())
    assert buyer.login("buyer@nordlys.test", "demo-buyer-pw").status_code == 302

    def query(fn):
        return run_in(app, fn)

    buy(buyer, query)
    run_queue(app)
    (path,) = (tmp_path / "instance" / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    reference = query(lambda s: s.scalar(select(Order.reference)))
    assert path.name.startswith(reference)
    assert message["To"] == "buyer@nordlys.test" and reference in message["Subject"]
    assert outbox_rows(query) == [("order_confirmation", "buyer@nordlys.test", "sent", 1)]
    app.extensions["db_engine"].dispose()
