"""Settings → Account → Audit log: the owner's own organisation's events, newest first, paged, filtered by
person, kind and Stockholm dates, a streamed CSV export; nobody else sees it, nor another tenant's events."""

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bench.sqlcount import SqlCounter
from tests.conftest import Browser
from tests.pages import h1, links, page, title
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    chromium,
    console,
    heading,
    live_server,
    log_in,
    new_context,
)
from wizard import audit, db
from wizard.db import make_engine
from wizard.models import AuditEvent, Organisation, User

URL = "/settings/account/audit"
CSV_URL = "/settings/account/audit.csv"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)  # 10:30 in Stockholm


class EventLog:
    """log(email or None, action, subject, when, org="556677-8899", **data) writes one event through
    audit.record; log.many([...]) writes several in one transaction; log.clear() empties the log."""

    def __init__(self, app):
        self.app = app

    def __call__(self, who, action, subject, when, org="556677-8899", **data):
        self.many([(who, action, subject, when, org, data)])

    def many(self, events):
        with self.app.app_context():
            sess = db.session()
            orgs = {o.org_number: o.id for o in sess.scalars(select(Organisation))}
            users = {u.email: u.id for u in sess.scalars(select(User))}
            for email, action, subject, when, org, data in events:
                audit.record(sess, orgs[org], users[email] if email else None, action, subject, when, **data)
            sess.commit()

    def clear(self):
        with self.app.app_context():
            sess = db.session()
            sess.execute(delete(AuditEvent))
            sess.commit()


@pytest.fixture
def log(app):
    return EventLog(app)


@pytest.fixture
def owner(login_as, log):
    """The owner of Nordlys, logged in, before an empty log (logging in writes an event of its own)."""
    browser = login_as("owner")
    log.clear()
    return browser


def rows(response) -> list[dict[str, str]]:
    """The log's table as a person reads it: When, Who, What, Details of each row."""
    doc = page(response)
    table = doc.find("table", cls="audit-table")
    if table is None:
        return []
    return [
        {td.attrs["data-label"]: td.text() for td in tr.find_all("td")} for tr in table.find("tbody").find_all("tr")
    ]


def field_error(response, field_id: str) -> str:
    element = page(response).find("p", cls="error-message", id=f"{field_id}-error")
    return element.text() if element else ""


def user_id(query, email: str) -> int:
    return query(lambda s: s.scalar(select(User.id).where(User.email == email)))


# --------------------------------------------------------------------------- the page


def test_the_owner_sees_the_organisations_events_newest_first_in_words(owner, log, query):
    log(
        "buyer@nordlys.test",
        "subscription.purchased",
        "subscription:1",
        NOW - timedelta(hours=2),
        number="+46701234000",
        order="NB-7K3Q",
        kind="mobile",
        basis="bound",
        draft="abc",
    )
    log(
        "owner@nordlys.test",
        "mex.connected",
        f"user:{user_id(query, 'anna@nordlys.test')}",
        NOW - timedelta(hours=1),
        fixed="+46812345670",
        mobile="+46701234000",
    )
    log(
        None,
        "porting.rejected",
        "subscription:1",
        NOW,
        number="+46701112233",
        **{"from": "submitted", "to": "rejected", "reason": "Wrong owner"},
    )
    log(None, "login.failed", "user:-", NOW - timedelta(hours=3), email="nobody@nordlys.test")
    log(None, "porting.completed", "subscription:9", NOW, org="923609016", number="+4740000000")  # Fjord's

    response = owner.get(URL)

    assert response.status_code == 200
    assert h1(page(response)) == "Audit log"
    assert rows(response) == [
        {
            "When": "Nov 28, 2026, 10:30 AM",
            "Who": "The operator",
            "What": "Porting rejected",
            "Details": "Number 070-111 22 33 Status Submitted → Rejected Reason: Wrong owner",
        },
        {
            "When": "Nov 28, 2026, 9:30 AM",
            "Who": "Nora Lindqvist owner@nordlys.test",
            "What": "MEX pair connected",
            "Details": "Fixed 08-123 456 70 with mobile 070-123 40 00 Numbers of Anna Berg",
        },
        {
            "When": "Nov 28, 2026, 8:30 AM",
            "Who": "Björn Sandberg buyer@nordlys.test",
            "What": "Subscription bought",
            "Details": "Order NB-7K3Q Number 070-123 40 00 Mobile, Bound (contract prices)",
        },
        {
            "When": "Nov 28, 2026, 7:30 AM",
            "Who": "The operator",
            "What": "Failed login",
            "Details": "E-mail address nobody@nordlys.test",
        },
    ]
    assert "4 events" in page(response).find(cls="result-count").text()


def test_an_unknown_action_shows_as_it_is_stored(owner, app):
    with app.app_context():
        sess = db.session()
        org = sess.scalar(select(Organisation.id).where(Organisation.org_number == "556677-8899"))
        sess.add(
            AuditEvent(
                organisation_id=org,
                actor_id=None,
                action="sim.swapped",
                subject="sim:3",
                created_at=NOW,
                data={"icc": "8946"},
            )
        )
        sess.commit()
    assert rows(owner.get(URL)) == [
        {"When": "Nov 28, 2026, 10:30 AM", "Who": "The operator", "What": "sim.swapped", "Details": "icc: 8946"}
    ]


def test_fifty_events_a_page_newest_first_and_the_pager_keeps_the_filters(owner, log):
    log.many(
        [
            ("buyer@nordlys.test", "draft.discarded", f"draft:{i}", NOW - timedelta(minutes=i), "556677-8899", {})
            for i in range(120)
        ]
    )
    log("owner@nordlys.test", "login.succeeded", "user:1", NOW - timedelta(days=1))  # filtered out below

    first = owner.get(URL + "?kind=draft.discarded")
    assert len(rows(first)) == 50
    assert rows(first)[0]["When"] == "Nov 28, 2026, 10:30 AM"
    pager = page(first).find("nav", cls="pager")
    assert "Page 1 of 3" in pager.text()
    next_url = links(pager)["Next page"]
    assert parse_qs(urlsplit(next_url).query) == {"kind": ["draft.discarded"], "page": ["2"]}

    last = owner.get(URL + "?kind=draft.discarded&page=3")
    assert len(rows(last)) == 20
    assert rows(last)[-1]["When"] == "Nov 28, 2026, 8:31 AM"  # the oldest, 119 minutes before
    assert "Page 3 of 3" in page(last).find("nav", cls="pager").text()
    assert len(rows(owner.get(URL + "?kind=draft.discarded&page=99"))) == 20  # past the end: the last page


def test_filter_by_person_and_by_the_operator(owner, log, query):
    log("buyer@nordlys.test", "draft.discarded", "draft:1", NOW - timedelta(hours=1))
    log("owner@nordlys.test", "login.succeeded", "user:1", NOW - timedelta(hours=2))
    log(None, "porting.scheduled", "subscription:1", NOW - timedelta(hours=3), number="+46701112233")

    buyer = user_id(query, "buyer@nordlys.test")
    assert [r["What"] for r in rows(owner.get(f"{URL}?person={buyer}"))] == ["Unfinished order discarded"]
    assert [r["What"] for r in rows(owner.get(f"{URL}?person=operator"))] == ["Porting scheduled"]
    assert len(rows(owner.get(f"{URL}?person="))) == 3  # anyone
    doc = page(owner.get(URL))
    options = [o.text() for o in doc.find("select", id="person").find_all("option")]
    assert options[:2] == ["Anyone", "The operator"]
    assert "Björn Sandberg (buyer@nordlys.test)" in options
    assert not any("fjord" in o for o in options)


def test_filter_by_kind(owner, log):
    log("owner@nordlys.test", "login.succeeded", "user:1", NOW - timedelta(hours=1))
    log(None, "login.failed", "user:-", NOW - timedelta(hours=2), email="owner@nordlys.test")
    assert [r["What"] for r in rows(owner.get(f"{URL}?kind=login.failed"))] == ["Failed login"]
    options = [o.attrs["value"] for o in page(owner.get(URL)).find("select", id="kind").find_all("option")]
    assert options == ["", *audit.KINDS]


# Stockholm is UTC+1 in winter and UTC+2 in summer: a day there starts at 23:00 or 22:00 UTC the day before.
MIDNIGHTS = [
    (datetime(2026, 11, 27, 22, 59, 59, tzinfo=UTC), "2026-11-27"),  # 23:59:59 on the 27th in Stockholm
    (datetime(2026, 11, 27, 23, 0, 0, tzinfo=UTC), "2026-11-28"),  # 00:00:00 on the 28th
    (datetime(2026, 11, 28, 22, 59, 59, tzinfo=UTC), "2026-11-28"),  # 23:59:59 on the 28th
    (datetime(2026, 11, 28, 23, 0, 0, tzinfo=UTC), "2026-11-29"),
    (datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC), "2026-07-01"),  # summer time
    (datetime(2026, 7, 1, 22, 0, 0, tzinfo=UTC), "2026-07-02"),
]


@pytest.mark.parametrize(
    ("query_string", "days"),
    [
        ("from=2026-11-28&to=2026-11-28", ["2026-11-28", "2026-11-28"]),
        ("from=2026-11-28", ["2026-11-29", "2026-11-28", "2026-11-28"]),
        ("to=2026-11-27", ["2026-11-27", "2026-07-02", "2026-07-01"]),
        ("from=2026-07-02&to=2026-11-27", ["2026-11-27", "2026-07-02"]),
        ("from=2026-07-01&to=2026-07-01", ["2026-07-01"]),
        (
            "from=0001-01-01&to=9999-12-31",
            ["2026-11-29", "2026-11-28", "2026-11-28", "2026-11-27", "2026-07-02", "2026-07-01"],
        ),
    ],
)
def test_filter_by_stockholm_dates_the_to_date_included(owner, log, query_string, days):
    log.many(
        [
            (None, "porting.scheduled", f"subscription:{i}", moment, "556677-8899", {"day": day})
            for i, (moment, day) in enumerate(MIDNIGHTS)
        ]
    )
    response = owner.get(f"{URL}?{query_string}")
    assert response.status_code == 200
    assert [r["Details"] for r in rows(response)] == [f"day: {d}" for d in days]


@pytest.mark.parametrize(
    ("query_string", "field", "message"),
    [
        ("person=999999", "person", "Choose a person from the list"),
        ("person=abc", "person", "Choose a person from the list"),
        ("kind=subscription.stolen", "kind", "Choose what happened from the list"),
        ("from=2026-13-01", "from", "Enter the From date as a real date, for example 2026-11-01"),
        ("from=28.11.2026", "from", "Enter the From date as a real date, for example 2026-11-01"),
        ("to=2026-02-30", "to", "Enter the To date as a real date, for example 2026-11-30"),
        ("to=%00", "to", "Enter the To date as a real date, for example 2026-11-30"),
        ("from=" + "9" * 5000, "from", "Enter the From date as a real date, for example 2026-11-01"),
        ("from=2026-11-28&to=2026-11-27", "to", "The To date must be the same as or after the From date"),
    ],
)
def test_a_filter_that_cannot_be_read_is_said_beside_its_field(owner, query_string, field, message):
    for url in (URL, CSV_URL):
        response = owner.get(f"{url}?{query_string}")
        assert response.status_code == 422
        assert field_error(response, field) == f"Error: {message}"
        doc = page(response)
        assert title(doc).startswith("Error: Audit log")
        assert message in doc.find(cls="error-summary").text()
        assert doc.find("table") is None


def test_another_organisations_person_is_not_a_choice(owner, query):
    fjord_owner = user_id(query, "owner@fjord.test")
    response = owner.get(f"{URL}?person={fjord_owner}")
    assert response.status_code == 422
    assert field_error(response, "person") == "Error: Choose a person from the list"


def test_a_page_number_that_is_not_one_shows_the_first_page(owner, log):
    log(None, "porting.scheduled", "subscription:1", NOW)
    for value in ("abc", "0", "-1", "9" * 40):
        response = owner.get(f"{URL}?page={value}")
        assert response.status_code == 200
        assert len(rows(response)) == 1


def test_empty_states(owner, log):
    empty = page(owner.get(URL))
    assert "No events yet." in empty.find(cls="empty-state").text()
    assert "Download as CSV" not in links(empty)
    log(None, "porting.scheduled", "subscription:1", NOW)
    filtered = page(owner.get(f"{URL}?kind=login.failed"))
    assert "No events match these filters." in filtered.find(cls="empty-state").text()
    assert links(filtered)["Show all events"] == URL


# --------------------------------------------------------------------------- who may see it


@pytest.mark.parametrize("who", ["staff", "buyer"])
@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_only_the_owner_may_see_the_log(login_as, who, url):
    response = login_as(who).get(url)
    assert response.status_code == 403
    assert "Nora Lindqvist" in response.get_data(as_text=True)  # the owner to ask


def test_nobody_logged_in_is_sent_to_the_login_page(client):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_the_settings_menu_shows_audit_log_to_the_owner_only(login_as):
    assert links(page(login_as("owner").get("/settings/account/subs")))["Audit log"] == URL
    assert "Audit log" not in links(page(login_as("buyer").get("/settings/account/subs")))


def test_another_organisations_owner_sees_only_their_own_events(login_as, log):
    fjord = login_as("fjord")
    log.clear()
    log("owner@nordlys.test", "login.succeeded", "user:1", NOW)
    log(None, "porting.completed", "subscription:9", NOW - timedelta(hours=1), org="923609016", number="+4740000000")
    listed = rows(fjord.get(URL))
    assert [r["What"] for r in listed] == ["Porting completed"]
    exported = fjord.get(CSV_URL).get_data(as_text=True)
    assert "nordlys" not in exported.lower() and "Porting completed" in exported


def test_failed_logins_are_the_organisations_and_an_unknown_address_is_nobodys(app, login_as, log, query):
    """A wrong password for one of Nordlys's people is on its owner's log; an address with no account is
    recorded for the operator (the same write, so the two take as long), on no organisation's log."""
    log.clear()
    stranger = Browser(app.test_client())
    assert stranger.login("anna@nordlys.test", "not-her-password").status_code == 401
    assert stranger.login("Nobody@Example.test", "a-guess").status_code == 401
    stored = query(
        lambda s: s.execute(
            select(AuditEvent.organisation_id, AuditEvent.actor_id, AuditEvent.data).order_by(AuditEvent.id)
        ).all()
    )
    nordlys = query(lambda s: s.scalar(select(Organisation.id).where(Organisation.org_number == "556677-8899")))
    assert stored == [
        (nordlys, user_id(query, "anna@nordlys.test"), {"email": "anna@nordlys.test"}),
        (None, None, {}),  # not even the address typed: often a real person's, mistyped
    ]
    for who in ("owner", "fjord"):
        failed = rows(login_as(who).get(f"{URL}?kind=login.failed"))
        assert [r["Details"] for r in failed] == (["E-mail address anna@nordlys.test"] if who == "owner" else [])
        # who typed it is not known: the row names the account tried, not Anna as the one who did it
        assert [r["Who"] for r in failed] == (
            ["Attempt on the account of Anna Berg anna@nordlys.test"] if who == "owner" else []
        )


# --------------------------------------------------------------------------- CSV


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_csv_file_is_streamed_with_a_header_and_every_matching_event(login_as, log, app):
    app.config["CLOCK"] = lambda: NOW  # the file is named after the Stockholm date
    owner = login_as("owner")
    log.clear()
    log("buyer@nordlys.test", "subscription.purchased", "subscription:1", NOW, number="+46701234000", order="NB-7K3Q")
    log(None, "porting.scheduled", "subscription:1", datetime(2026, 7, 1, 22, 0, tzinfo=UTC), number="+46701234000")
    log(None, "porting.scheduled", "subscription:2", NOW, org="923609016", number="+4740000000")

    response = owner.get(CSV_URL)

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-556677-8899-2026-11-28.csv"'
    assert read_csv(response) == [
        ["Time", "Person", "E-mail address", "Action", "What happened", "Subject", "Details"],
        [
            "2026-11-28T10:30:00+01:00",
            "Björn Sandberg",
            "buyer@nordlys.test",
            "subscription.purchased",
            "Subscription bought",
            "subscription:1",
            "Order NB-7K3Q; Number 070-123 40 00",
        ],
        [
            "2026-07-02T00:00:00+02:00",
            "The operator",
            "",
            "porting.scheduled",
            "Porting scheduled",
            "subscription:1",
            "Number 070-123 40 00",
        ],
    ]
    filtered = owner.get(f"{CSV_URL}?person=operator&from=2026-07-02&to=2026-07-02")
    assert [line[3] for line in read_csv(filtered)[1:]] == ["porting.scheduled"]


def test_the_page_links_to_the_csv_file_with_its_filters(owner, log):
    log(None, "porting.scheduled", "subscription:1", NOW)
    doc = page(owner.get(f"{URL}?person=operator&kind=porting.scheduled&from=2026-11-01&page=1"))
    href = links(doc)["Download as CSV"]
    assert urlsplit(href).path == CSV_URL
    assert parse_qs(urlsplit(href).query) == {
        "person": ["operator"],
        "kind": ["porting.scheduled"],
        "from": ["2026-11-01"],
    }


def test_csv_cells_that_would_be_formulas_start_with_an_apostrophe(owner, log, app):
    with app.app_context():
        sess = db.session()
        sess.execute(update(User).where(User.email == "staff@nordlys.test").values(name='=HYPERLINK("http://x.test")'))
        sess.commit()
    log("staff@nordlys.test", "draft.discarded", "-1+2", NOW)
    log(None, "login.failed", "@SUM(A1)", NOW - timedelta(minutes=1), email="+x@nordlys.test")
    lines = read_csv(owner.get(CSV_URL))[1:]
    assert lines[0][1] == '\'=HYPERLINK("http://x.test")'
    assert lines[0][5] == "'-1+2"
    assert lines[1][5] == "'@SUM(A1)"
    assert lines[1][6] == "E-mail address +x@nordlys.test"  # starts with a letter: left as it is


def test_the_csv_file_reads_past_its_batches_without_losing_or_repeating_an_event(owner, log):
    # 1,234 events, ten to each second: batches of 500 end in the middle of a second.
    log.many(
        [
            (None, "porting.scheduled", f"subscription:{i}", NOW - timedelta(seconds=i // 10), "556677-8899", {})
            for i in range(1234)
        ]
    )
    lines = read_csv(owner.get(CSV_URL))[1:]
    assert len(lines) == 1234
    assert sorted(int(line[5].split(":")[1]) for line in lines) == list(range(1234))
    assert [line[0] for line in lines] == sorted((line[0] for line in lines), reverse=True)


# --------------------------------------------------------------------------- cost


def test_a_page_costs_the_same_statements_with_10_or_500_events(owner, log, app):
    counter = SqlCounter(app.extensions["db_engine"])
    counts = []
    try:
        for total in (10, 500):
            log.clear()
            log.many(
                [
                    (
                        "buyer@nordlys.test" if i % 2 else None,
                        "draft.discarded",
                        f"draft:{i}",
                        NOW - timedelta(minutes=i),
                        "556677-8899",
                        {},
                    )
                    for i in range(total)
                ]
            )
            with counter.request("GET", URL) as stats:
                response = owner.get(URL)
            assert response.status_code == 200
            assert len(rows(response)) == min(total, 50)
            counts.append(stats.n_statements)
            assert not stats.get_in_transaction
    finally:
        counter.close()
    # the login, the organisation's people (Person filter, names in the details), the count, a page with its actors
    assert counts == [4, 4]


def test_what_people_typed_is_shown_as_text_never_as_markup(owner, log):
    log(None, "login.failed", "user:-", NOW, email="<script>alert(1)</script>@x.test")
    log(None, "porting.rejected", "subscription:1", NOW - timedelta(minutes=1), reason="<b>no</b>", note="<i>x</i>")
    response = owner.get(URL)
    table = page(response).find("table", cls="audit-table")
    assert table.find("script") is None and table.find("b") is None and table.find("i") is None
    assert [r["Details"] for r in rows(response)] == [
        "E-mail address <script>alert(1)</script>@x.test",
        "Reason: <b>no</b> note: <i>x</i>",
    ]


# --------------------------------------------------------------------------- in a browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "audit"


def serious_violations(tab) -> list:
    """axe-core's serious and critical findings on the page (as tests/test_accessibility.py counts them)."""
    found = Axe().run(tab).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in found if v["impact"] in ("serious", "critical")]


def write_events(database: Path) -> None:
    """Sixty events of Nordlys, an hour apart, in the live server's database: failed logins, purchases, rejected ports."""
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as sess:
        org = sess.scalar(select(Organisation.id).where(Organisation.org_number == "556677-8899"))
        buyer = sess.scalar(select(User.id).where(User.email == "buyer@nordlys.test"))
        latest = datetime.now(UTC) - timedelta(hours=1)  # before the login the test makes
        for i in range(60):
            when = latest - timedelta(hours=i)
            if i % 3 == 0:
                audit.record(sess, org, None, "login.failed", "user:-", when, email="nora@nordlys.test")
            elif i % 3 == 1:
                audit.record(
                    sess,
                    org,
                    buyer,
                    "subscription.purchased",
                    f"subscription:{i}",
                    when,
                    number="+46701234000",
                    order="NB-7K3Q",
                )
            else:
                reason = "The number belongs to another company"
                data = {"number": "+46701112233", "from": "submitted", "to": "rejected", "reason": reason}
                audit.record(sess, org, None, "porting.rejected", f"subscription:{i}", when, **data)
        sess.commit()
    engine.dispose()


@pytest.mark.browser
def test_the_audit_log_in_chromium_filters_and_has_no_serious_axe_violations(
    live_server,  # noqa: F811  (the fixtures imported above, by name)
    new_context,  # noqa: F811
    console,  # noqa: F811
    tmp_path,
):
    write_events(tmp_path / "browser.sqlite3")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console.expect_status(422)  # the refused date range below
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        tab = new_context(viewport=viewport).new_page()
        log_in(tab, live_server)
        tab.get_by_role("link", name="Audit log").click()
        expect(heading(tab, "Audit log")).to_be_visible()
        newest = tab.locator(".audit-table tbody tr").first
        expect(newest).to_contain_text("Logged in")  # this login
        expect(newest).to_contain_text("Nora Lindqvist")
        tab.screenshot(path=str(ARTIFACTS / f"audit-{name}.png"), full_page=True)
        assert serious_violations(tab) == [], name

        tab.get_by_label("What happened").select_option(label="Failed login")
        tab.get_by_role("button", name="Show events").click()
        expect(tab.locator(".result-count")).to_have_text("20 events")
        assert parse_qs(urlsplit(tab.url).query, keep_blank_values=True) == {
            "person": [""],
            "kind": ["login.failed"],
            "from": [""],
            "to": [""],
        }
        assert tab.get_by_role("link", name="Download as CSV").get_attribute("href") == f"{CSV_URL}?kind=login.failed"

        tab.get_by_label("From").fill("2026-11-28")
        tab.get_by_label("To (inclusive)").fill("2026-11-01")
        tab.get_by_role("button", name="Show events").click()
        summary = tab.locator(".error-summary")
        expect(summary).to_contain_text("The To date must be the same as or after the From date")
        expect(summary).to_be_focused()
        tab.screenshot(path=str(ARTIFACTS / f"audit-{name}-error.png"), full_page=True)
        assert serious_violations(tab) == [], f"{name}, with an error"


def test_failed_logins_naming_no_account_are_purged_with_old_drafts(app, runner, log, query):
    log.clear()
    with app.app_context():
        sess = db.session()
        for age in (40, 10):
            audit.record(sess, None, None, "login.failed", "user:unknown", datetime.now(UTC) - timedelta(days=age))
        org = sess.scalar(select(Organisation.id).where(Organisation.org_number == "556677-8899"))
        audit.record(sess, org, None, "login.failed", "user:1", datetime.now(UTC) - timedelta(days=40))  # stays
        sess.commit()
    result = runner.invoke(args=["purge-drafts", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 failed login naming no account, older than 30 days." in result.output
    left = query(lambda s: s.execute(select(AuditEvent.organisation_id).order_by(AuditEvent.id)).scalars().all())
    assert left == [None, org]
