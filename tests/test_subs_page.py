"""Account → Subs: unfinished orders counted as the wizard counts, their actions, the empty states, and
many subscriptions a page at a time, searchable, the same statements at any size."""

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from bench.common import add_subscriptions
from bench.sqlcount import SqlCounter
from tests.pages import page
from tests.test_browser import chromium, console, live_server, log_in, new_context, start_order  # noqa: F401
from wizard.db import make_engine

SUBS = "/settings/account/subs"


def rows(response):
    """The numbers of the subscriptions listed, as the page shows them."""
    listing = page(response).find("div", id="subscription-list")
    return [td.find(cls="number").text() for td in listing.find_all("td", data_label="Number")]


def draft_row(response, draft_url):
    """The row of the unfinished order whose Resume link goes to `draft_url`."""
    table = page(response).find("table", cls="drafts-table")
    return next(tr for tr in table.find("tbody").find_all("tr") if tr.find("a", href=draft_url))


@pytest.fixture
def many(app, query):
    """Sixty bought subscriptions in Nordlys AB (numbers +46706600000 upwards, the newest first)."""
    query(lambda s: add_subscriptions(s, 60))


def test_subscriptions_come_25_a_page_newest_first(login_as, many):
    owner = login_as("owner")
    first = owner.get(SUBS)
    text = page(first).text()
    assert "60 subscriptions" in text and "Page 1 of 3" in text
    assert len(rows(first)) == 25 and rows(first)[0] == "070-660 00 00"
    last = owner.get(f"{SUBS}?page=3")
    links = page(last).find("nav", cls="pager")
    assert len(rows(last)) == 10 and "Page 3 of 3" in links.text()
    assert links.find("a", rel="prev") and not links.find("a", rel="next")
    assert len(rows(owner.get(f"{SUBS}?page=99"))) == 10  # past the end: the last page


@pytest.mark.parametrize(
    ("q", "expected"), [("070-660 00 42", 1), ("660000", 10), ("Anna", 20), ("erik@nordlys", 20), ("nobody", 0)]
)
def test_search_by_number_or_user(login_as, many, q, expected):
    response = login_as("owner").get(SUBS, query_string={"q": q})
    assert len(rows(response)) == min(expected, 25)
    if expected == 0:
        empty = page(response).find("div", id="subscription-list").find(cls="empty-state")
        assert "No subscriptions match" in empty.text()
        assert empty.find("a", href=SUBS).text() == "Show all subscriptions"  # the way back to the whole list


def test_live_search_swaps_only_the_list(login_as, many):
    response = login_as("owner").get(SUBS, query_string={"q": "Anna"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="subscription-list"') and "<html" not in html
    assert response.headers["HX-Replace-Url"] == f"{SUBS}?q=Anna"


def test_another_organisation_sees_none_of_them(login_as, many):
    assert rows(login_as("fjord").get(SUBS)) == []


def test_the_page_costs_the_same_statements_with_3_or_63_subscriptions(app, buyer_as, query):
    owner = buyer_as("owner")
    owner.start("mobile")  # an unfinished order too
    query(lambda s: add_subscriptions(s, 3))
    counter = SqlCounter(app.extensions["db_engine"])
    sizes = []
    for more in (60, 0):
        with counter.request("GET", SUBS) as stats:
            assert owner.get(SUBS).status_code == 200
        sizes.append(stats.n_statements)
        if more:
            query(lambda s, more=more: add_subscriptions(s, more, start=100))
    counter.close()
    # login, count and page of unfinished orders, count and page of subscriptions (with number, user, SIM)
    assert sizes == [5, 5]


def wizard_count(buyer, draft_url):
    """What the wizard says where Resume leads: the step's heading and its "Step N of M"."""
    resumed = buyer.get(draft_url)
    assert resumed.status_code == 302
    step = page(buyer.get(resumed.headers["Location"]))
    return step.find("h1").text(), step.find(cls="progress-count").text()


@pytest.mark.parametrize(
    ("kind", "answers"),
    [
        ("mobile", []),
        ("mobile", [("price_basis", {"basis": "unbound"}), ("call_rate", {"code": "rate-fixed"})]),
        ("fixed", [("price_basis", {"basis": "unbound"})]),
    ],
)
def test_an_unfinished_order_is_counted_as_the_wizard_counts_it(buyer_as, kind, answers):
    """Subs and the Discard page say "Next: <step> (step N of M)" with the N and M of the wizard's
    own "Step N of M" on the step Resume opens (counted from the route, never written down here)."""
    buyer = buyer_as("buyer")
    buyer.start(kind)
    for key, values in answers:
        assert buyer.answer(key, values).status_code == 303
    title, count = wizard_count(buyer, buyer.draft_url)
    n, total = count.removeprefix("Step ").split(" of ")
    expected = f"Next: {title} (step {n} of {total})"

    row = draft_row(buyer.get(SUBS), buyer.draft_url)
    assert row.find(cls="progress-next").text() == expected
    assert expected in page(buyer.get(f"{buyer.draft_url}/discard")).find("main").text()


def test_unfinished_orders_have_their_actions_in_a_column_of_their_own(buyer_as):
    buyer = buyer_as("owner")
    buyer.start("mobile")
    table = page(buyer.get(SUBS)).find("table", cls="drafts-table")
    headers = table.find("thead").find_all("th")
    assert [th.text() for th in headers] == ["Order", "Last changed", "Progress", "Actions"]
    assert headers[-1].find(cls="visually-hidden")  # named for screen readers, not shown
    for tr in table.find("tbody").find_all("tr"):
        cells = tr.find_all("td")
        assert len(cells) == len(headers)
        actions = [a.children[0].strip() for a in cells[-1].find_all("a")]  # the visible words
        assert actions == ["Resume", "Discard"]


def test_empty_states_say_what_to_do_next(login_as):
    subs = page(login_as("fjord").get(SUBS))
    drafts, subscriptions = (subs.find("section", aria_labelledby=h) for h in ("drafts-heading", "subs-heading"))
    assert drafts.find(cls="empty-state").text() == (
        "You have no unfinished orders. An order you leave before saving it waits here, so that you can finish it later."
    )
    assert subscriptions.find(cls="empty-state").text() == (
        "No subscriptions yet. To buy the first one, choose Add Subs mobile or Add Subs fixed at the top of this page."
    )
    buttons = [b.text() for b in subs.find_all("button", name="kind")]
    assert buttons == ["Add Subs mobile", "Add Subs fixed"]  # the buttons the sentence names


# What only a browser shows: the layout at a desktop's and a phone's width.
LAYOUT = """() => {
  const table = document.querySelector(".drafts-table").getBoundingClientRect();
  return {
    pageScrolls: document.documentElement.scrollWidth > document.documentElement.clientWidth,
    wrappedNumbers: [...document.querySelectorAll("#subscription-list .number")]
      .filter((n) => n.getClientRects().length > 1).map((n) => n.textContent),
    actionsOutside: [...document.querySelectorAll(".drafts-table .row-actions")]
      .filter((a) => a.getBoundingClientRect().right > table.right + 1).length,
    esimBesideNumber: [...document.querySelectorAll("#subscription-list td[data-label] .number + a")]
      .filter((a) => a.getBoundingClientRect().top < a.previousElementSibling.getBoundingClientRect().bottom).length,
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 800, 390])  # at 800 the six columns are tightest
def test_subs_fits_the_screen_and_never_breaks_a_number(live_server, tmp_path, new_context, width):  # noqa: F811
    engine = make_engine(f"sqlite:///{tmp_path / 'browser.sqlite3'}")  # the live server's database
    with Session(engine) as sess:
        add_subscriptions(sess, 3)  # eSIMs, so the number cells have their QR code link too
        sess.commit()
    engine.dispose()
    page_ = new_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page_, live_server)
    start_order(page_, "mobile")
    page_.goto(f"{live_server}{SUBS}")
    expect(page_.locator("#subscription-list .number")).to_have_count(3)
    assert page_.evaluate(LAYOUT) == {
        "pageScrolls": False,
        "wrappedNumbers": [],
        "actionsOutside": 0,
        "esimBesideNumber": 0,
    }
