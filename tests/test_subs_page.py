"""Account → Subs with many subscriptions: a page at a time, searchable, the same statements at any size."""

import re

import pytest

from bench.common import add_subscriptions
from bench.sqlcount import SqlCounter

SUBS = "/settings/account/subs"


def rows(html):
    listing = html.split('id="subscription-list"')[1]
    return re.findall(r'<td data-label="Number">(?:<a [^>]*>)?([^<]+)', listing)


@pytest.fixture
def many(app, query):
    """Sixty bought subscriptions in Nordlys AB (numbers +46706600000 upwards, the newest first)."""
    query(lambda s: add_subscriptions(s, 60))


def test_subscriptions_come_25_a_page_newest_first(login_as, many):
    owner = login_as("owner")
    first = owner.get(SUBS).get_data(as_text=True).replace("\u00a0", " ")
    assert "60 subscriptions" in first and "Page 1 of 3" in first
    assert len(rows(first)) == 25 and rows(first)[0] == "070-660 00 00"
    last = owner.get(f"{SUBS}?page=3").get_data(as_text=True).replace("\u00a0", " ")
    assert len(rows(last)) == 10 and "Page 3 of 3" in last and 'rel="prev"' in last and 'rel="next"' not in last
    assert len(rows(owner.get(f"{SUBS}?page=99").get_data(as_text=True))) == 10  # past the end: the last page


@pytest.mark.parametrize(
    ("q", "expected"), [("070-660 00 42", 1), ("660000", 10), ("Anna", 20), ("erik@nordlys", 20), ("nobody", 0)]
)
def test_search_by_number_or_user(login_as, many, q, expected):
    html = login_as("owner").get(SUBS, query_string={"q": q}).get_data(as_text=True)
    shown = min(expected, 25)
    assert len(rows(html)) == shown
    if expected == 0:
        assert "No subscriptions match" in html


def test_live_search_swaps_only_the_list(login_as, many):
    response = login_as("owner").get(SUBS, query_string={"q": "Anna"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="subscription-list"') and "<html" not in html
    assert response.headers["HX-Replace-Url"] == f"{SUBS}?q=Anna"


def test_another_organisation_sees_none_of_them(login_as, many):
    html = login_as("fjord").get(SUBS).get_data(as_text=True)
    assert rows(html) == [] and "No subscriptions yet." in html


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
