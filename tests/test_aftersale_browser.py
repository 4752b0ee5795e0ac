"""A subscription's page and its port cancellation in Chromium, JavaScript on and off, desktop and
phone: screenshots to test-artifacts/aftersale/ and axe on each page."""

import pytest
from playwright.sync_api import expect

from tests.test_accessibility import Auditor
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    DESKTOP,
    chromium,
    console,
    earliest_port_date,
    heading,
    live_server,
    log_in,
    new_context,
)
from tests.test_journey_browser import ARTIFACTS, PHONE, Walker

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("js", "viewport"), [(True, DESKTOP), (False, PHONE)], ids=["js-desktop", "nojs-390"])
def test_a_port_is_followed_and_cancelled_from_its_page(live_server, new_context, console, js, viewport, request):  # noqa: F811
    page = new_context(java_script_enabled=js, viewport=viewport).new_page()
    auditor = Auditor(new_context().new_page())
    w = Walker(page, auditor, js, request.node.callspec.id, errors=False, artifacts=ARTIFACTS.parent / "aftersale")
    log_in(page, live_server)
    page.get_by_role("button", name="Add Subs mobile").click()
    w.at("price_basis")
    for label, key in [
        ("Unbound: current price list", "call_rate"),
        ("Fixed call rate", "data_package"),
        ("5 GB", "number"),
        ("Move (port) an existing number", "porting"),
    ]:
        w.choose(label)
        w.save_and_continue(key)
    page.get_by_label("Number to move").fill("070-111 22 33")
    page.get_by_label("Current operator").select_option("Telia")
    page.get_by_label("Wanted porting date").fill(earliest_port_date())
    w.choose("Our organisation")
    w.save_and_continue("sim")
    w.choose("eSIM")
    w.save_and_continue("pbx")
    w.choose("Independent")
    w.save_and_continue("user")
    user = page.get_by_label("Who will use the number?")
    user.select_option(label=user.locator("option", has_text="Erik Lund").text_content().strip())
    w.save_and_continue("top_up")
    w.choose("No")
    w.save_and_continue("review")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()

    page.get_by_role("link", name="Back to Subs").click()
    page.get_by_role("link", name="070-111 22 33", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_text("Port submitted, wanted date")).to_be_visible()
    w.look("subscription")
    page.get_by_role("link", name="Cancel the port request").click()
    expect(heading(page, "Cancel the port request for 070-111 22 33?")).to_be_visible()
    w.look("cancel-confirm")
    page.get_by_role("button", name="Yes, cancel the port request").click()
    expect(page.get_by_text("The port request for 070-111 22 33 is cancelled.")).to_be_visible()
    expect(page.get_by_text("Port request cancelled")).to_be_visible()
    w.look("subscription-cancelled")
    auditor.assert_clean()
