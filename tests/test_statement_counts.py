"""What the database does for a buyer: the exact SQL statements of every request of a whole mobile
purchase (CSRF on), and that no GET opens a transaction, on SQLite and PostgreSQL.

Counts are exact on purpose: a change that adds a query to a step shows up here. Transaction
control (BEGIN, COMMIT) is counted apart, see bench/sqlcount.py and docs/performance.md."""

import pytest

from bench.sqlcount import SqlCounter
from tests.conftest import DEMO
from tests.test_wizard_journeys import user_id
from tests.wizard_client import Buyer

# (method, last part of the URL, statements): the requests of a purchase in the order a browser sends them.
MOBILE_PURCHASE = [
    ("POST", "orders", 3),  # login, how many orders the buyer has open, INSERT the draft
    # login with organisation, contract, draft and held number: one statement; the price list (every
    # step shows "Your order" beside it, priced from the price list: one more statement on each step's GET)
    ("GET", "price_basis", 2),
    ("POST", "price_basis", 2),  # login, UPDATE the draft
    ("GET", "call_rate", 2),  # login, the price list
    ("POST", "call_rate", 3),  # login, the price list, UPDATE
    ("GET", "data_package", 2),
    ("POST", "data_package", 3),
    ("GET", "number", 3),  # login, the organisation's reserved numbers, the price list
    # login, lock the organisation's holds, hold the first free number while the organisation has room
    # (one UPDATE … RETURNING), UPDATE the draft
    ("POST", "number", 4),
    ("GET", "sim", 2),
    ("POST", "sim", 2),
    ("GET", "pbx", 2),
    ("POST", "pbx", 2),
    ("GET", "user", 3),  # login, the organisation's users, the price list
    ("POST", "user", 3),
    ("GET", "top_up", 2),
    ("POST", "top_up", 2),
    ("GET", "review", 3),  # login, the price list, the chosen user
    # login, close the draft, re-check (prices, users), assign the number, 3 INSERTs (subscription, SIM,
    # audit); and the order with its e-mails: INSERT the order, UPDATE its reference (made from its id),
    # one INSERT of both outbox messages (the assigned user, whose address and language the eSIM message
    # needs, is already in the session: the re-check of the User step loaded the organisation's people)
    ("POST", "save", 11),
    ("GET", "done", 3),  # login, the subscription with its SIM, number and user, the price list
]


@pytest.fixture
def recorded(app):
    """A logged-in buyer whose requests are recorded with their SQL."""
    buyer = Buyer(app.test_client())
    assert buyer.login(*DEMO["owner"]).status_code == 302
    counter = SqlCounter(app.extensions["db_engine"])
    log = []

    def recording(method, send):
        def _send(url, **kwargs):
            with counter.request(method, url) as stats:
                response = send(url, **kwargs)
            log.append((method, url.rsplit("/", 1)[-1].split("?")[0], stats))
            return response

        return _send

    buyer.client.get = recording("GET", buyer.client.get)
    buyer.client.post = recording("POST", buyer.client.post)
    yield buyer, log
    counter.close()


def test_a_whole_mobile_purchase_takes_59_statements_and_no_step_more_than_6(recorded, query):
    buyer, log = recorded
    buyer.start("mobile")
    anna = user_id(query, "anna@nordlys.test")
    for key, data in [
        ("price_basis", {"basis": "bound"}),
        ("call_rate", {"code": "rate-fixed"}),
        ("data_package", {"code": "data-20"}),
        ("number", {"choice": "new"}),
        ("sim", {"sim_kind": "esim"}),
        ("pbx", {"mode": "independent"}),
        ("user", {"user_id": anna}),
        ("top_up", {"top_up": "yes"}),
    ]:
        assert buyer.answer(key, data).status_code == 303, key
    saved = buyer.save()
    assert saved.status_code == 303
    assert buyer.get(saved.headers["Location"]).status_code == 200

    purchase = log[1:]  # from the POST that starts the order (the first GET is the Subs page)
    assert [(method, what, stats.n_statements) for method, what, stats in purchase] == MOBILE_PURCHASE
    assert sum(stats.n_statements for _, _, stats in purchase) == 59
    steps = [
        purchase[i][2].n_statements + purchase[i + 1][2].n_statements  # a step's POST and the GET it leads to
        for i in range(2, 17, 2)
    ]
    assert max(steps) == 6  # e.g. the Number step's POST (4), then the SIM step's GET with its order summary (2)


def test_no_get_opens_a_transaction(recorded):
    buyer, log = recorded
    buyer.start("mobile")
    buyer.answer("price_basis", {"basis": "unbound"})
    buyer.answer("call_rate", {"code": "rate-fixed"})
    buyer.get("/settings/account/subs")
    gets = [(what, stats) for method, what, stats in log if method == "GET"]
    assert len(gets) == 4
    for what, stats in gets:
        assert stats.sent_begins == [] and stats.in_transaction_after == [], (
            what,
            stats.tx,
            stats.in_transaction_after,
        )
    posts = [stats for method, _, stats in log if method == "POST"]
    assert all(stats.in_transaction_after for stats in posts)  # the counter does see transactions


def test_the_order_summary_of_a_changed_option_reads_two_statements_in_no_transaction(recorded):
    """htmx asks for "Your order" when an option changes: the login and the price list, nothing written."""
    buyer, log = recorded
    buyer.start("mobile")
    buyer.answer("price_basis", {"basis": "bound"})
    buyer.answer("call_rate", {"code": "rate-fixed"})
    response = buyer.get(buyer.step_url("data_package/summary?code=data-20"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    method, what, stats = log[-1]
    assert (method, what, stats.n_statements) == ("GET", "summary", 2)
    assert stats.sent_begins == [] and stats.in_transaction_after == []
