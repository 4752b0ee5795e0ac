"""After the purchase, without JavaScript (plain posts, CSRF on): a subscription's page with its
history, cancelling a port request (and when it is too late), porting the same number again, and
the buyer's e-mails when the operator moves a port, delivered to a real SMTP server on loopback."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.pages import page
from tests.test_journey import porting_day
from tests.test_mail import app, body, clock, run_queue, smtp  # noqa: F401  (fixtures are used by name)
from tests.test_wizard_journeys import user_id, walk
from wizard import clock as wizard_clock
from wizard.models import AuditEvent, MexPair, PhoneNumber, Subscription

PORTED = "+46701112233"  # in the seed's porting register, its binding ended: it may move here
SUBS = "/settings/account/subs"
SPACES = {0x00A0: " ", 0x202F: " "}


def order_port(b, query, user="anna@nordlys.test", mex_with: str | None = None) -> int:
    """Buy a port of 070-111 22 33 (mobile, eSIM) for `user`, PBX-integrated with MEX with `mex_with`
    (an E.164) or independent; the subscription's id."""
    b.start("mobile")
    pbx = {"mode": "pbx", "mex": "y"} if mex_with else {"mode": "independent"}
    partner = query(lambda s: s.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == mex_with)))
    mex = [("mex", {"mex_partner": str(partner)})] if mex_with else []
    walk(
        b,
        [
            ("price_basis", {"basis": "unbound"}),
            ("call_rate", {"code": "rate-fixed"}),
            ("data_package", {"code": "data-5"}),
            ("number", {"choice": "port"}),
            (
                "porting",
                {
                    "port_number": "070-111 22 33",
                    "port_operator": "Telia",
                    "port_date": porting_day(),
                    "port_owner": "ours",
                },
            ),
            ("sim", {"sim_kind": "esim"}),
            ("pbx", pbx),
            ("user", {"user_id": user_id(query, user)}),
            *mex,
            ("top_up", {"top_up": "no"}),
        ],
    )
    assert b.save().status_code == 303
    return query(lambda s: s.scalar(select(Subscription.id).order_by(Subscription.id.desc())))


def text_of(response) -> str:
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return html.unescape(words).translate(SPACES)


def cancel(b, subscription_id, **headers):
    url = f"{SUBS}/subscriptions/{subscription_id}/cancel-port"
    confirm = b.get(url)
    assert confirm.status_code == 200, confirm.status_code
    return b.client.post(url, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))}, headers=headers)


def test_port_cancel_and_port_again_are_on_the_page_subs_and_the_audit_log(buyer_as, query, login_as):
    b = buyer_as("buyer")
    first = order_port(b, query)
    shown = b.get(f"{SUBS}/subscriptions/{first}")
    assert shown.status_code == 200
    words = text_of(shown)
    assert "070-111 22 33" in words and "Anna Berg" in words and re.search(r"NB-\d{4}-\d{6}", words)
    assert "Port submitted, wanted date" in words and words.count("By Björn Sandberg") == 2  # ordered, submitted
    assert "Mobile subscription" in words and "Number porting" in words  # the price lines as bought
    assert "Cancel the port request" in words

    response = cancel(b, first)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/subscriptions/{first}")
    after = text_of(b.get(response.headers["Location"]))
    assert "The port request for 070-111 22 33 is cancelled." in after
    assert "Porting cancelled" in after and "Port request cancelled" in after and "Cancel the port request" not in after
    # A cancelled line looks cancelled: nothing charged, no binding, no eSIM to install, no porting section
    assert "This subscription is cancelled. Nothing is charged for it" in after and "Price as ordered" in after
    assert "Bound until" not in after and "Show the eSIM QR code" not in after and "Moving the number here" not in after
    assert b.get(f"{SUBS}/subscriptions/{first}/esim").status_code == 410
    subs = page(b.get(SUBS))
    row = next(tr for tr in subs.find_all("tr") if "070-111 22 33" in tr.text())
    assert "Porting cancelled" in row.text() and "Nothing" in row.text() and "per month" not in row.text()

    second = order_port(b, query)  # the same number, ported again
    assert second != first
    words = text_of(b.get(f"{SUBS}/subscriptions/{second}"))
    assert "Port submitted" in words and "Porting cancelled" not in words

    def check(s):
        number = s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == PORTED))
        subs = s.scalars(
            select(Subscription).where(Subscription.number_id == number.id).order_by(Subscription.id)
        ).all()
        assert [(x.status, x.porting_status) for x in subs] == [
            ("cancelled", "cancelled"),
            ("pending_port", "submitted"),
        ]
        assert number.status == "assigned" and number.user_id == subs[1].user_id  # one row, its history kept
        events = s.execute(select(AuditEvent.action, AuditEvent.actor_id).order_by(AuditEvent.id)).all()
        buyer = subs[0].created_by_id
        done = [action for action, actor in events if actor == buyer and not action.startswith("login")]
        assert done == ["subscription.purchased", "porting.cancelled", "subscription.purchased"]

    query(check)

    # The owner finds all three, with who did them, on the audit log and in its CSV.
    owner = login_as("owner")
    log = text_of(owner.get("/settings/account/audit?kind=subscription.purchased"))
    assert log.count("Björn Sandberg") >= 2 and log.count("Subscription bought") >= 2
    log = text_of(owner.get("/settings/account/audit?kind=porting.cancelled"))
    assert "Björn Sandberg" in log and "Porting cancelled" in log
    exported = owner.get("/settings/account/audit.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    done = [(row[1], row[3]) for row in rows[1:] if row[3] in ("subscription.purchased", "porting.cancelled")]
    assert sorted(done) == sorted(
        [("Björn Sandberg", "subscription.purchased")] * 2 + [("Björn Sandberg", "porting.cancelled")]
    )


def test_the_buyer_is_told_by_e_mail_when_the_operator_schedules_or_rejects(buyer_as, query, runner, smtp, app):  # noqa: F811
    b = buyer_as("buyer")
    order_port(b, query)
    run_queue(app)
    confirmations = len(smtp.inbox.messages)
    day = porting_day()
    result = runner.invoke(args=["port-status", "070-111 22 33", "scheduled", "--date", day])
    assert result.exit_code == 0, result.output
    run_queue(app)
    letters = smtp.inbox.messages[confirmations:]
    assert len(letters) == 1
    letter = letters[0]
    assert letter["To"] == "buyer@nordlys.test" and "Porting of 070-111 22 33 scheduled for" in letter[
        "Subject"
    ].translate(SPACES)
    page_link = re.search(r"http://\S+/subscriptions/\d+", body(letter, "plain"))
    assert page_link, body(letter, "plain")

    result = runner.invoke(args=["port-status", "070-111 22 33", "rejected", "--reason", "The number's owner says no"])
    assert result.exit_code == 0, result.output
    run_queue(app)
    rejected = smtp.inbox.messages[confirmations + 1 :]
    assert len(rejected) == 1
    assert "rejected" in rejected[0]["Subject"] and "Their reason: The number's owner says no" in body(
        rejected[0], "plain"
    )
    assert "Their reason: The number&#39;s owner says no" in body(rejected[0], "html")
    subscription = query(lambda s: s.scalar(select(Subscription.id)))
    words = text_of(b.get(f"{SUBS}/subscriptions/{subscription}"))
    assert "Port rejected" in words and "Reason: The number's owner says no" in words and "By the operator" in words


def test_a_port_can_be_cancelled_only_while_its_date_is_more_than_a_working_day_away(app, buyer_as, query, clock):  # noqa: F811
    b = buyer_as("buyer")
    subscription = order_port(b, query)
    porting_date = query(lambda s: s.get(Subscription, subscription).porting_date)
    assert "Cancel the port request" in text_of(b.get(f"{SUBS}/subscriptions/{subscription}"))  # days away
    clock.offset = timedelta(days=(porting_date - timedelta(days=1) - wizard_clock.today()).days)  # the day before
    b = buyer_as("buyer")  # logged in again: a login does not last days
    words = text_of(b.get(f"{SUBS}/subscriptions/{subscription}"))
    assert "one working day away or less: the move can no longer be stopped" in words
    assert "Call customer service if the number must not move" in words  # no SUPPORT_PHONE configured
    assert "Cancel the port request" not in words
    app.config["SUPPORT_PHONE"] = "+46771000000"
    words = text_of(b.get(f"{SUBS}/subscriptions/{subscription}"))
    assert "Call customer service on 077-100 00 00 if the number must not move" in words
    url = f"{SUBS}/subscriptions/{subscription}/cancel-port"
    assert b.get(url).status_code == 302  # no confirmation page: back to the subscription
    token = csrf_token(b.get(f"{SUBS}/subscriptions/{subscription}").get_data(as_text=True))
    refused = b.client.post(url, data={"csrf_token": token})
    assert refused.status_code == 303
    assert query(lambda s: s.get(Subscription, subscription).porting_status) == "submitted"


def test_cancelling_removes_the_number_from_the_person_and_its_mex_pair(buyer_as, query):
    b = buyer_as("owner")
    subscription = order_port(b, query, mex_with="+46812345670")  # Anna's fixed PBX number
    assert query(lambda s: s.scalar(select(MexPair.id))) is not None
    confirm = b.get(f"{SUBS}/subscriptions/{subscription}/cancel-port")
    assert "The number stays with its current operator." in text_of(confirm)
    assert "Its MEX pair is removed." in text_of(confirm)
    assert cancel(b, subscription).status_code == 303

    def check(s):
        number = s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == PORTED))
        assert (number.status, number.user_id, number.pbx) == ("gone", None, False)
        assert s.scalar(select(MexPair.id)) is None
        removed = s.scalar(select(AuditEvent).where(AuditEvent.action == "mex.disconnected"))
        assert removed.data["reason"] == "porting.cancelled" and removed.actor_id is not None

    query(check)


def test_the_subscription_page_needs_the_account_permission_and_the_organisation(buyer_as, query, login_as):
    b = buyer_as("buyer")
    subscription = order_port(b, query)
    staff = login_as("staff")
    assert staff.get(f"{SUBS}/subscriptions/{subscription}").status_code == 403
    assert staff.get(f"{SUBS}/subscriptions/{subscription}/cancel-port").status_code == 403
    other = login_as("fjord")
    assert other.get(f"{SUBS}/subscriptions/{subscription}").status_code == 404
    assert other.get(f"{SUBS}/subscriptions/{subscription}/cancel-port").status_code == 404
    assert b.get(f"{SUBS}/subscriptions/999999").status_code == 404


def test_cancelling_without_a_csrf_token_is_refused(buyer_as, query):
    b = buyer_as("buyer")
    subscription = order_port(b, query)
    refused = b.client.post(f"{SUBS}/subscriptions/{subscription}/cancel-port", data={})
    assert refused.status_code == 400
    assert query(lambda s: s.get(Subscription, subscription).porting_status) == "submitted"


@pytest.mark.parametrize("link_from", ["subs", "users"])
def test_the_subscription_page_is_linked_from_subs_and_users(buyer_as, query, link_from):
    b = buyer_as("owner")
    subscription = order_port(b, query)
    source = SUBS if link_from == "subs" else f"/settings/users/{user_id(query, 'anna@nordlys.test')}"
    assert f'href="{SUBS}/subscriptions/{subscription}"' in b.get(source).get_data(as_text=True)
    assert page(b.get(f"{SUBS}/subscriptions/{subscription}")) is not None
