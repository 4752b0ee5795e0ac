"""Prices a buyer can follow: every line and both totals of every order, computed here from the seed's
PRICES table (never a hard-coded total).

The full table (mobile/fixed × bound/unbound × call rate × data package × number choice × SIM kind)
is priced from each database's price list; a journey through each value of every column checks the
lines as the buyer reads them on Check your answers and beside the last step, and that the saved
subscription costs the same. Then the order summary's own rules (unsaved options, a GET that writes
nothing) and the binding period to accept before Save."""

import re
import shutil
from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest
from sqlalchemy import func, select, text

from tests.conftest import DEMO, TEST_CONFIG, csrf_token
from tests.pages import page, parse, title
from tests.test_wizard_journeys import OTHER_ICC, VALID_ICC, number_id, user_id, walk
from tests.wizard_client import Buyer, form_html, hidden
from wizard import clock, create_app, db, pricing
from wizard.db import Base, make_engine
from wizard.models import Contract, Draft, Subscription
from wizard.porting import earliest_porting_date, is_working_day
from wizard.seed import CONTRACT_REFERENCE, PRICES, PRICES_SV, seed_demo

# --------------------------------------------------------------------------- the price table, as the seed has it

# code -> (code, category, kind, name, description, unbound monthly, unbound one-off, bound monthly, bound one-off, GB)
ROWS = {row[0]: row for row in PRICES}
CALL_RATES = [code for code, category, *_ in PRICES if category == "call_rate"]
DATA_PACKAGES = [code for code, category, *_ in PRICES if category == "data_package"]
NUMBER_CHOICES = ("new", "reserved", "specific", "port")
SIM_KINDS = ("physical", "esim")


def fees(code: str, basis: str) -> tuple[int, int]:
    """An item's monthly and one-off fee in öre on a basis."""
    row = ROWS[code]
    return (row[5], row[6]) if basis == "unbound" else (row[7], row[8])


def expected_lines(kind, basis, call_rate, data_package, number, sim) -> list[tuple[str, int, int]]:
    """What the buyer should read, in order: the base fee (monthly and start fee), the call rate, the
    data package (mobile), a chosen or ported number (a new or reserved one costs nothing), the SIM or
    eSIM start fee (mobile)."""
    codes = [f"base-{kind}", call_rate]
    if kind == "mobile":
        codes.append(data_package)
    if number in ("specific", "port"):
        codes.append(f"number-{number}")
    if kind == "mobile":
        codes.append(f"sim-{sim}")
    return [(ROWS[code][3], *fees(code, basis)) for code in codes]


COMBINATIONS = [
    ("mobile", basis, rate, data, number, sim)
    for basis, rate, data, number, sim in product(
        ("bound", "unbound"), CALL_RATES, DATA_PACKAGES, NUMBER_CHOICES, SIM_KINDS
    )
] + [
    ("fixed", basis, rate, None, number, None)
    for basis, rate, number in product(("bound", "unbound"), CALL_RATES, NUMBER_CHOICES)
]


def answers_for(kind, basis, call_rate, data_package, number, sim) -> dict:
    answers = {
        "type": {"kind": kind},
        "price_basis": {"basis": basis},
        "call_rate": {"code": call_rate},
        "number": {"choice": number},
    }
    if kind == "mobile":
        answers |= {"data_package": {"code": data_package}, "sim": {"sim_kind": sim}}
    return answers


# --------------------------------------------------------------------------- one seeded app per database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shop(request, tmp_path_factory):
    """One seeded app per database for the whole module (seeding per test would cost most of its time).
    Every test starts orders of its own and reads only those, so none depends on another; nothing
    else in this module empties the database meanwhile."""
    folder = tmp_path_factory.mktemp("prices")
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), folder / "prices.sqlite3")
        url = f"sqlite:///{folder / 'prices.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
        engine = make_engine(url)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url}, instance_path=str(folder))
    with app.app_context():
        seed_demo(db.session())
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def price_lists(shop):
    """The seeded contract and every price list by (basis, kind), read once."""
    with shop.app_context():
        sess = db.session()
        contract = sess.scalar(select(Contract).where(Contract.reference == CONTRACT_REFERENCE))
        lists = {
            (basis, kind): pricing.price_list(sess, contract, basis, kind)
            for basis, kind in product(("bound", "unbound"), ("mobile", "fixed"))
        }
        sess.expunge_all()
    return contract, lists


@pytest.fixture
def query(shop):
    def _query(fn):
        with shop.app_context():
            return fn(db.session())

    return _query


@pytest.fixture
def owner(shop):
    """The owner of Nordlys AB (it has a contract), logged in."""
    b = Buyer(shop.test_client())
    assert b.login(*DEMO["owner"]).status_code == 302
    return b


# --------------------------------------------------------------------------- the whole table, priced

TODAY = date(2026, 3, 16)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: "-".join(v for v in c if v))
def test_every_order_is_priced_line_by_line_from_the_price_tables(shop, price_lists, combination):
    contract, lists = price_lists
    kind, basis = combination[:2]
    with shop.test_request_context("/"):
        quote = pricing.quote(lists[basis, kind], contract, answers_for(*combination), TODAY)
        lines = [(line.label, line.monthly_ore, line.one_off_ore) for line in quote.lines]
    expected = expected_lines(*combination)
    assert lines == expected
    assert (quote.monthly_ore, quote.one_off_ore) == (sum(m for _, m, _ in expected), sum(o for *_, o in expected))
    bound_until = date(TODAY.year + contract.binding_months // 12, TODAY.month, TODAY.day)
    assert quote.binding_ends_on == (bound_until if basis == "bound" else None)


def test_each_line_is_named_in_the_visitors_language(shop, price_lists):
    contract, lists = price_lists
    combination = ("mobile", "unbound", "rate-variable", "data-20", "specific", "esim")
    with shop.test_request_context("/?lang=sv"):
        quote = pricing.quote(lists["unbound", "mobile"], contract, answers_for(*combination), TODAY)
        assert [line.label for line in quote.lines] == [
            PRICES_SV[code][0] for code in ("base-mobile", "rate-variable", "data-20", "number-specific", "sim-esim")
        ]


# --------------------------------------------------------------------------- as the buyer reads it


def amount(text_: str) -> int:
    """'SEK 1,234.50' -> 123450 (öre)."""
    return int(Decimal(re.sub(r"[^\d.]", "", text_)) * 100)


def price_table(doc, where: str) -> tuple[list[tuple[str, int, int]], tuple[int, ...]]:
    """The lines and both totals of Check your answers' price table (`where="review"`) or of the
    order summary (`where="order-summary"`), as the buyer reads them."""
    table = doc.find("table", cls="table") if where == "review" else doc.find(cls=where).find("table")
    lines = []
    for row in table.find("tbody").find_all("tr"):
        name = row.find("th").children[0]  # without the description beneath it
        monthly, one_off = (amount(td.text()) for td in row.find_all("td"))
        lines.append((" ".join(str(name).split()), monthly, one_off))
    return lines, tuple(amount(td.text()) for td in table.find("tfoot").find_all("td"))


def port_day() -> str:
    day = earliest_porting_date("mobile", clock.today()) + timedelta(days=7)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day.isoformat()


# The seed's pools: a reserved and a free number of each kind, each used by one journey only.
RESERVED = {"mobile": "+46731234500", "fixed": "+46812345690"}
FREE = {"mobile": "+46701234019", "fixed": "+46812345709"}


def number_steps(query, kind: str, choice: str) -> list[tuple[str, dict]]:
    """The Number step's fields for a choice, and the Porting step's when the choice is to move a number."""
    if choice == "reserved":
        return [("number", {"choice": choice, "reserved_number": number_id(query, RESERVED[kind])})]
    if choice == "specific":
        fields = {"choice": choice, "search": "", "match": "anywhere", "specific_number": number_id(query, FREE[kind])}
        return [("number", fields)]
    if choice == "port":
        details = {
            "port_number": "070-111 22 33",
            "port_operator": "Telia",
            "port_owner": "ours",
            "port_date": port_day(),
        }
        return [("number", {"choice": choice}), ("porting", details)]
    return [("number", {"choice": choice})]


# Every value of every column at least once, both kinds on both bases (a SIM card number each).
JOURNEYS = [
    ("mobile", "bound", "rate-fixed", "data-5", "new", "esim", None),
    ("mobile", "bound", "rate-variable", "data-unlimited", "port", "physical", VALID_ICC),
    ("mobile", "unbound", "rate-fixed", "data-20", "specific", "physical", OTHER_ICC),
    ("fixed", "bound", "rate-variable", None, "specific", None, None),
    ("fixed", "unbound", "rate-fixed", None, "reserved", None, None),
]


@pytest.mark.parametrize("journey", JOURNEYS, ids=lambda c: "-".join(v for v in c[:6] if v))
def test_check_your_answers_itemises_the_order_and_the_subscription_costs_its_totals(owner, query, journey):
    kind, basis, call_rate, data_package, number, sim, icc = journey
    owner.start(kind)
    steps = [("price_basis", {"basis": basis}), ("call_rate", {"code": call_rate})]
    if kind == "mobile":
        steps.append(("data_package", {"code": data_package}))
    steps += number_steps(query, kind, number)
    if kind == "mobile":
        steps.append(("sim", {"sim_kind": sim, "icc": icc}))
    steps += [("pbx", {"mode": "independent"}), ("user", {"user_id": user_id(query, "erik@nordlys.test")})]
    walk(owner, steps)
    expected = expected_lines(*journey[:6])
    totals = (sum(m for _, m, _ in expected), sum(o for *_, o in expected))

    last = "top_up" if kind == "mobile" else "user"
    assert price_table(page(owner.get(owner.step_url(last))), "order-summary") == (expected, totals)
    if kind == "mobile":
        walk(owner, [("top_up", {"top_up": "no"})])
    assert price_table(page(owner.get(owner.step_url("review"))), "review") == (expected, totals)

    assert owner.save().status_code == 303
    draft_id = owner.draft_url.rsplit("/", 1)[1]
    saved = query(
        lambda s: s.execute(
            select(Subscription.monthly_ore, Subscription.one_off_ore).where(Subscription.draft_id == draft_id)
        ).one()
    )
    assert tuple(saved) == totals


# --------------------------------------------------------------------------- the order summary beside each step


def mobile_order_at_data_package(b):
    b.start("mobile")
    walk(b, [("price_basis", {"basis": "bound"}), ("call_rate", {"code": "rate-fixed"})])


def names(doc) -> list[str]:
    return [name for name, *_ in price_table(doc, "order-summary")[0]]


def test_without_javascript_each_step_shows_the_order_so_far(owner):
    """From the saved answers; a post that only shows the step again (Search, with "A specific number"
    chosen) already prices the option chosen."""
    mobile_order_at_data_package(owner)
    doc = page(owner.get(owner.step_url("data_package")))
    assert names(doc) == ["Mobile subscription", "Fixed call rate"]
    assert "Bound until" in doc.find(cls="order-summary").text()
    walk(owner, [("data_package", {"code": "data-20"})])
    html = owner.get(owner.step_url("number")).get_data(as_text=True)
    lines, totals = price_table(parse(html), "order-summary")
    assert [name for name, *_ in lines] == ["Mobile subscription", "Fixed call rate", "20 GB"]
    assert totals == (sum(fees(c, "bound")[0] for c in ("base-mobile", "rate-fixed", "data-20")), 0)

    version = hidden(form_html(html), "version")[0]
    searched = {"csrf_token": csrf_token(html), "version": version, "choice": "specific", "_reveal": "search"}
    shown_again = owner.client.post(owner.step_url("number"), data=searched)
    assert shown_again.status_code == 200
    assert names(page(shown_again))[-1] == "Chosen number"


def test_htmx_asks_for_the_summary_with_the_steps_unsaved_option_and_nothing_is_written(owner, query):
    mobile_order_at_data_package(owner)
    draft_id = owner.draft_url.rsplit("/", 1)[1]
    doc = page(owner.get(owner.step_url("data_package")))
    summary = doc.find(id="order-summary")
    fields = doc.find(id=summary.attrs["hx-include"].removeprefix("#"))
    assert "csrf_token" not in {i.attrs.get("name") for i in fields.find_all("input")}  # never in a query string
    stored = query(lambda s: s.get(Draft, draft_id).answers)

    response = owner.get(summary.attrs["hx-get"] + "?code=data-unlimited", headers={"HX-Request": "true"})
    assert response.status_code == 200
    updated = page(response)
    lines, totals = price_table(updated, "order-summary")
    assert [name for name, *_ in lines] == ["Mobile subscription", "Fixed call rate", "Unlimited"]
    monthly = sum(fees(c, "bound")[0] for c in ("base-mobile", "rate-fixed", "data-unlimited"))
    assert totals[0] == monthly
    said = re.fullmatch(
        r"Monthly total: (.+)\. One-off total: (.+)\.", updated.find(id="order-summary").attrs["data-announce"]
    )
    assert said and (amount(said[1]), amount(said[2])) == totals  # what screen readers are told
    assert query(lambda s: s.get(Draft, draft_id).answers) == stored

    # Only the step's own options count: another step's code, an unknown one, another step's answer.
    for unknown in ("code=no-such-package", "code=base-mobile", "code=rate-variable", "basis=unbound"):
        response = owner.get(summary.attrs["hx-get"] + "?" + unknown, headers={"HX-Request": "true"})
        assert names(page(response)) == ["Mobile subscription", "Fixed call rate"], unknown

    plain = owner.get(summary.attrs["hx-get"] + "?code=data-5")  # without htmx: the step itself
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/data_package")
    assert owner.get(owner.step_url("review/summary"), headers={"HX-Request": "true"}).status_code == 404


def test_bound_prices_without_a_contract_change_nothing(shop):
    fjord = Buyer(shop.test_client())
    assert fjord.login(*DEMO["fjord"]).status_code == 302
    fjord.start("mobile")
    response = fjord.get(fjord.step_url("price_basis/summary?basis=bound"), headers={"HX-Request": "true"})
    assert price_table(page(response), "order-summary")[0] == [("Mobile subscription", *fees("base-mobile", "unbound"))]
    assert "Bound until" not in page(response).text()


# --------------------------------------------------------------------------- the binding period, accepted before Save


def fixed_order(b, query, basis):
    b.start("fixed")
    walk(
        b,
        [
            ("price_basis", {"basis": basis}),
            ("call_rate", {"code": "rate-fixed"}),
            ("number", {"choice": "new"}),
            ("pbx", {"mode": "independent"}),
            ("user", {"user_id": user_id(query, "erik@nordlys.test")}),
        ],
    )
    return b.draft_url.rsplit("/", 1)[1]


def test_a_bound_order_is_saved_only_with_its_binding_period_accepted(owner, query):
    draft_id = fixed_order(owner, query, "bound")
    review = page(owner.get(owner.step_url("review")))
    label = review.find("label", for_="accept_binding").text()
    assert label.startswith("I accept the binding period until ")
    answers = query(lambda s: s.get(Draft, draft_id).answers)

    refused = owner.save(accept_binding=False)
    assert refused.status_code == 422
    doc = page(refused)
    assert title(doc).startswith("Error: Check your answers")
    problem = doc.find(cls="error-summary").find("a")
    assert (problem.text(), problem.attrs["href"]) == (
        "Accept the binding period to save this order",
        "#accept_binding",
    )
    assert doc.find("label", for_="accept_binding").text() == label
    assert price_table(doc, "review") == price_table(review, "review")  # the same page again, nothing lost
    assert query(lambda s: (s.get(Draft, draft_id).status, s.get(Draft, draft_id).answers)) == ("open", answers)
    assert query(lambda s: s.scalar(select(func.count()).where(Subscription.draft_id == draft_id))) == 0

    assert owner.save().status_code == 303
    assert query(lambda s: s.scalar(select(func.count()).where(Subscription.draft_id == draft_id))) == 1


def test_an_unbound_order_has_nothing_to_accept(owner, query):
    fixed_order(owner, query, "unbound")
    assert page(owner.get(owner.step_url("review"))).find("input", name="accept_binding") is None
    assert owner.save(accept_binding=False).status_code == 303
