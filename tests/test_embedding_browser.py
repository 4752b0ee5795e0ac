"""The wizard framed in another site, in headless Chromium: an intranet page on one loopback
origin frames the wizard served from another, a buyer buys inside the frame, and the intranet page
hears the wizard's events through the host script; a third origin cannot frame the wizard at all.

127.0.0.1, 127.0.0.2 and 127.0.0.3 are different sites to the browser (so the frame is a
cross-site one, with a SameSite=None; Secure; Partitioned session cookie), and Chromium counts
loopback addresses as secure, so plain HTTP serves: no certificate is needed.
"""

import re
import threading

import pytest
from flask import Flask, request
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.conftest import DEMO, TEST_CONFIG
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    QuietHandler,
    choose,
    chromium,
    console,
    heading,
    new_context,
    select_user,
    shot,
)
from wizard import create_app, db, migrate
from wizard.models import Organisation, Subscription
from wizard.seed import seed_demo

pytestmark = pytest.mark.browser

EVENT_TYPES = ("subs-wizard:step", "subs-wizard:height", "subs-wizard:saved")

# The intranet page: the host script from the wizard's static files, then a recorder of what the page
# hears (loaded second, so for every message the host script has already done its part).
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme intranet</title><link rel="icon" href="data:,">
<script src="{wizard}/static/subs-wizard-host.js"></script>
<script src="/recorder.js"></script></head>
<body><h1>Acme intranet: telephony</h1>
<iframe data-subs-wizard title="New subscription" src="{wizard}{path}" width="960" height="300"></iframe>
</body></html>"""

RECORDER = """
window.heard = [];     // every message event: where from, and what
window.events = [];    // the host script's CustomEvents, as they bubble to the document
window.frameLoads = 0; // load events of the frame (a refused frame loads Chromium's error page)
window.addEventListener("message", function (e) {
  var frame = document.querySelector("iframe");
  window.heard.push({origin: e.origin, fromFrame: !!frame && e.source === frame.contentWindow, data: e.data});
});
["subs-wizard:step", "subs-wizard:height", "subs-wizard:saved"].forEach(function (type) {
  document.addEventListener(type, function (e) {
    window.events.push({type: e.type, target: e.target.tagName, detail: e.detail});
  });
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelector("iframe").addEventListener("load", function () { window.frameLoads += 1; });
});
"""


def intranet(wizard_url: str) -> Flask:
    """A stand-in intranet: a page framing the wizard (as its own origin, or as ?parent=... says)."""
    host = Flask("intranet")

    @host.get("/")
    def page():
        parent = request.args.get("parent") or request.host_url.rstrip("/")
        return HOST_PAGE.format(wizard=wizard_url, path=f"/embed?parent={parent}")

    @host.get("/without-embed")
    def without_embed():
        return HOST_PAGE.format(wizard=wizard_url, path="/login")

    @host.get("/recorder.js")
    def recorder():
        return RECORDER, 200, {"Content-Type": "text/javascript"}

    return host


def serve(app, address: str):
    """Serve a WSGI app on a loopback address and a free port in a daemon thread; returns (url, stop)."""
    server = make_server(address, 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"server-{address}", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return f"http://{address}:{server.server_port}", stop


@pytest.fixture
def sites(tmp_path):
    """The wizard on 127.0.0.1 with EMBEDDING on; intranets on 127.0.0.2 (Nordlys allows it) and
    127.0.0.3 (nobody does). Fresh demo data per test."""
    wizard = create_app(
        {**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "EMBEDDING": True},
        instance_path=str(tmp_path),
    )
    with wizard.app_context():
        migrate.upgrade(db.engine())
        seed_demo(db.session())
    wizard_url, stop_wizard = serve(wizard, "127.0.0.1")
    host = intranet(wizard_url)
    allowed_url, stop_allowed = serve(host, "127.0.0.2")
    other_url, stop_other = serve(host, "127.0.0.3")
    with wizard.app_context():
        sess = db.session()
        nordlys = sess.scalar(select(Organisation).where(Organisation.org_number == "556677-8899"))
        nordlys.embed_origins = f"https://intranet.nordlys.example {allowed_url}"
        sess.commit()
    yield {"app": wizard, "wizard": wizard_url, "allowed": allowed_url, "other": other_url}
    for stop in (stop_other, stop_allowed, stop_wizard):
        stop()
    wizard.extensions["db_engine"].dispose()


def wizard_frame(page):
    """The wizard's frame (the same Frame object through its navigations)."""
    handle = page.locator("iframe[data-subs-wizard]").element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def events_of(page, type_: str) -> list[dict]:
    return [e["detail"] for e in page.evaluate("window.events") if e["type"] == type_]


def frame_fits(page, frame):
    """Wait until the last height the wizard sent is its page's height, then check the frame has it."""
    height = frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
    page.wait_for_function(
        "h => window.events.filter(e => e.type === 'subs-wizard:height').pop()?.detail.height === h", arg=height
    )
    expect(page.locator("iframe[data-subs-wizard]")).to_have_css("height", f"{height}px")


def next_step(frame, title: str):
    frame.get_by_role("button", name="Save and continue").click()
    expect(heading(frame, title)).to_be_visible()


def buy_fixed_for_erik(page, frame):
    """A fixed subscription for Erik Lund through the framed wizard, with htmx swapping the steps."""
    frame.get_by_role("button", name="Add Subs fixed").click()
    expect(heading(frame, "Price basis")).to_be_visible()
    frame.get_by_label("Unbound: current price list").check()
    next_step(frame, "Call rate")
    frame.get_by_label("Variable call rate").check()
    next_step(frame, "Number")
    page.evaluate("history.back()")  # the frame's history (htmx restores the page: a step shown again)
    expect(heading(frame, "Call rate")).to_be_visible()
    page.evaluate("history.forward()")
    expect(heading(frame, "Number")).to_be_visible()
    choose(frame, "A new number")
    next_step(frame, "PBX")
    choose(frame, "Independent")
    next_step(frame, "User")
    select_user(frame, "Erik Lund")
    next_step(frame, "Check your answers")
    frame_fits(page, frame)
    shot(page, "embedded-review")
    frame.get_by_role("button", name="Save", exact=True).click()
    expect(heading(frame, "Subscription ordered")).to_be_visible()


def test_a_buyer_buys_inside_the_frame_and_the_intranet_hears_the_events(sites, new_context):
    page = new_context().new_page()
    page.goto(sites["allowed"] + "/")
    frame = wizard_frame(page)

    email, password = DEMO["buyer"]
    frame.get_by_label("Email address").fill(email)
    frame.get_by_label("Password").fill(password)
    frame.get_by_role("button", name="Log in").click()
    expect(heading(frame, "Subs")).to_be_visible()
    # The embed layout: no portal header or settings menu, but a way to log out.
    expect(frame.get_by_role("navigation", name="Organization Settings")).to_have_count(0)
    expect(frame.locator(".site-header")).to_have_count(0)
    expect(frame.get_by_role("button", name="Log out")).to_be_visible()

    buy_fixed_for_erik(page, frame)
    with sites["app"].app_context():
        bought = db.session().scalars(select(Subscription)).one()
        saved = {"subscription_id": bought.id, "number": bought.number.e164}
    page.wait_for_function("window.events.some(e => e.type === 'subs-wizard:saved')")

    steps = [(e["key"], e["title"], e["index"], e["count"]) for e in events_of(page, "subs-wizard:step")]
    assert steps == [
        ("price_basis", "Price basis", 2, 7),
        ("call_rate", "Call rate", 3, 7),
        ("number", "Number", 4, 7),
        ("call_rate", "Call rate", 3, 7),  # back
        ("number", "Number", 4, 7),  # forward
        ("pbx", "PBX", 5, 7),
        ("user", "User", 6, 7),
        ("review", "Check your answers", 7, 7),
    ]
    assert events_of(page, "subs-wizard:saved") == [{"type": "subs-wizard:saved", **saved, "reference": None}]

    # The frame is as tall as the wizard's page says, and that follows the page.
    heights = [e["height"] for e in events_of(page, "subs-wizard:height")]
    assert heights and all(h > 0 for h in heights)
    frame_fits(page, frame)
    assert len(set(heights)) > 1, "the height was sent once only, though the pages differ in length"

    # Everything the wizard posted reached the page from the wizard's origin, and the host script
    # passed every message on as a CustomEvent on the iframe: it dropped none of them.
    heard = page.evaluate("window.heard")
    assert heard and all(m["origin"] == sites["wizard"] and m["fromFrame"] for m in heard)
    events = page.evaluate("window.events")
    assert [m["data"] for m in heard] == [e["detail"] for e in events]
    assert {e["target"] for e in events} == {"IFRAME"}
    assert {e["type"] for e in events} == set(EVENT_TYPES)

    # A message that looks like the wizard's but comes from elsewhere (here the page itself) is ignored.
    page.evaluate("window.postMessage({type: 'subs-wizard:saved', subscription_id: 666, number: '+46700000000'}, '*')")
    page.wait_for_function("window.heard.some(m => m.data.subscription_id === 666)")
    assert not [e for e in page.evaluate("window.events") if e["detail"].get("subscription_id") == 666]
    shot(page, "embedded-done")


def open_refused(chromium, url: str) -> tuple:
    """Open an intranet page whose frame Chromium must refuse. Waits for Chromium's report of the
    refusal and for the frame's load event (of Chromium's error page); returns (context, page, report)."""
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as report:
        page.goto(url)
    page.wait_for_function("window.frameLoads > 0")
    return context, page, report.value.text


def assert_refused(page, report: str, wizard_url: str, ancestors: str):
    """Chromium blocked the wizard's page by its frame-ancestors, and nothing of the wizard shows."""
    assert re.search(rf"Framing '{re.escape(wizard_url)}/[^']*' violates", report), report
    assert f'"frame-ancestors {ancestors}"' in report and "blocked" in report, report
    frame = wizard_frame(page)
    assert frame.url.startswith("chrome-error://"), frame.url  # Chromium's "refused to connect" page
    assert "Nordic Business Telephony" not in frame.title()
    expect(frame.locator("#main, form")).to_have_count(0)
    assert page.evaluate("window.heard") == []


def test_a_site_that_is_not_allowed_cannot_frame_the_wizard(sites, chromium):
    """127.0.0.3 frames the wizard as itself: /embed refuses it, in a page nobody may frame."""
    context, page, report = open_refused(chromium, sites["other"] + "/")
    try:
        assert_refused(page, report, sites["wizard"], "'none'")
    finally:
        context.close()


def test_a_site_pretending_to_be_the_allowed_one_cannot_frame_the_wizard(sites, chromium):
    """127.0.0.3 names the allowed intranet as the parent: /embed lets it in, but its pages may be
    framed by that intranet (127.0.0.2) alone, so Chromium refuses them here."""
    context, page, report = open_refused(chromium, f"{sites['other']}/?parent={sites['allowed']}")
    try:
        assert_refused(page, report, sites["wizard"], sites["allowed"])
    finally:
        context.close()


def test_without_embed_not_even_the_allowed_site_can_frame_the_wizard(sites, chromium):
    """The wizard's own pages (no parent in the session) may not be framed by anyone."""
    context, page, report = open_refused(chromium, sites["allowed"] + "/without-embed")
    try:
        assert_refused(page, report, sites["wizard"], "'none'")
    finally:
        context.close()
