"""Accessibility in a real browser: axe-core on every page and step (JavaScript on and off),
a purchase with the keyboard alone, and the polite "Saved" announcement after an htmx save."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    MEX_LABEL,
    accept_binding,
    choose,
    chromium,
    console,
    fill_porting_details,
    heading,
    live_server,
    log_in,
    new_context,
    nojs_page,
    page,
    select_user,
    start_order,
)

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


def serious_violations(page) -> list:
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


class Auditor:
    """Runs axe on pages; a page seen with JavaScript off is re-opened as captured HTML in a
    scripting page (axe needs JavaScript; the markup is what the no-JS visitor got)."""

    def __init__(self, viewer):
        self.viewer = viewer
        self.failures = []
        self.audited = []

    def check(self, page, where: str):
        self.audited.append(where)
        found = serious_violations(page)
        if found:
            self.failures.append((where, found))

    def check_static(self, nojs, where: str):
        html, url = SCRIPT.sub("", nojs.content()), nojs.url
        self.viewer.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        self.viewer.goto(url)
        self.viewer.unroute(url)
        self.check(self.viewer, where + " (no JS)")

    def assert_clean(self):
        assert self.failures == [], "\n".join(f"{w}: {v}" for w, v in self.failures)


@pytest.fixture
def auditor(new_context):
    return Auditor(new_context().new_page())


def save_and_continue(page, title):
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, title)).to_be_visible()


def test_every_page_and_step_with_javascript_has_no_serious_axe_violations(live_server, page, auditor, console):
    console.expect_status(404, 422)
    page.goto(f"{live_server}/login")
    auditor.check(page, "login")
    log_in(page, live_server)
    auditor.check(page, "subs")
    start_order(page, "mobile")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".error-summary")).to_be_focused()
    auditor.check(page, "price_basis with an error")
    page.get_by_label("Bound: prices from your contract").check()
    save_and_continue(page, "Call rate")
    auditor.check(page, "call_rate")
    page.get_by_label("Fixed call rate").check()
    save_and_continue(page, "Data package")
    auditor.check(page, "data_package")
    page.get_by_label("20 GB").check()
    save_and_continue(page, "Number")
    for option in ("One of our reserved numbers", "A specific number", "Move (port) an existing number"):
        choose(page, option)
        if option == "A specific number":  # its free numbers are looked up as the block opens
            expect(page.locator("#specific-results input[type=radio]").first).to_be_visible()
        auditor.check(page, f"number: {option}")
    save_and_continue(page, "Porting details")
    auditor.check(page, "porting")
    page.get_by_role("button", name="Save and continue").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_be_focused()
    auditor.check(page, "porting with errors")
    choose(page, "Another organisation")
    auditor.check(page, "porting: another organisation")
    fill_porting_details(page)
    save_and_continue(page, "SIM")
    choose(page, "Physical SIM card")
    auditor.check(page, "sim: physical")
    choose(page, "eSIM")
    auditor.check(page, "sim: eSIM instructions")
    save_and_continue(page, "PBX")
    choose(page, "PBX-integrated")
    auditor.check(page, "pbx with MEX toggle")
    page.get_by_label(MEX_LABEL).check()
    save_and_continue(page, "User")
    select_user(page, "Anna Berg")
    auditor.check(page, "user")
    save_and_continue(page, "MEX pairing")
    auditor.check(page, "mex pairing")
    page.get_by_label("08-123 456 70").check()
    save_and_continue(page, "Top-up")
    auditor.check(page, "top_up")
    page.get_by_label("Yes").check()
    save_and_continue(page, "Check your answers")
    auditor.check(page, "check your answers")
    accept_binding(page)
    page.get_by_role("button", name="Save").click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    auditor.check(page, "done")
    page.goto(f"{live_server}/settings/account/subs")
    auditor.check(page, "subs with a subscription")
    page.goto(f"{live_server}/settings/no-such-page")
    auditor.check(page, "404")
    auditor.assert_clean()
    assert len(auditor.audited) == 21


def test_every_page_and_step_without_javascript_has_no_serious_axe_violations(
    live_server, nojs_page, new_context, auditor, console, tmp_path
):
    from tests.test_browser_users import insert_pbx_mobile_for_anna

    console.expect_status(403, 422)
    insert_pbx_mobile_for_anna(tmp_path)  # a mobile PBX number of Anna's, for this fixed one to pair with
    page = nojs_page
    log_in(page, live_server, "buyer")
    auditor.check_static(page, "subs")
    start_order(page, "fixed")
    auditor.check_static(page, "price_basis")
    page.get_by_label("Unbound: current price list").check()
    save_and_continue(page, "Call rate")
    auditor.check_static(page, "call_rate")
    page.get_by_label("Variable call rate").check()
    save_and_continue(page, "Number")
    auditor.check_static(page, "number with every follow-up question")
    page.get_by_label("Move (port) an existing number").check()
    save_and_continue(page, "Porting details")
    auditor.check_static(page, "porting")
    page.get_by_label("Number to move").fill("070-111 22 33")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    auditor.check_static(page, "porting with errors")
    page.get_by_role("button", name="Back", exact=True).click()
    expect(heading(page, "Number")).to_be_visible()
    page.get_by_label("A new number").check()
    save_and_continue(page, "PBX")
    auditor.check_static(page, "pbx")
    page.get_by_label("PBX-integrated").check()
    page.get_by_label(MEX_LABEL).check()
    save_and_continue(page, "User")
    auditor.check_static(page, "user")
    page.get_by_label("Who will use the number?").select_option(label="Anna Berg (anna@nordlys.test)")
    save_and_continue(page, "MEX pairing")
    auditor.check_static(page, "mex pairing")
    page.get_by_label("070-123 40 00").check()
    save_and_continue(page, "Check your answers")
    auditor.check_static(page, "check your answers")
    discard_url = page.url.rsplit("/", 1)[0] + "/discard"
    page.goto(discard_url)
    auditor.check_static(page, "discard")
    staff = new_context(java_script_enabled=False).new_page()
    log_in_staff(staff, live_server)
    auditor.check_static(staff, "403")
    auditor.assert_clean()
    assert len(auditor.audited) == 12


def log_in_staff(page, base):
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill("staff@nordlys.test")
    page.get_by_label("Password").fill("demo-staff-pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have permission to see this page")


def tab_to(page, selector: str, limit: int = 60):
    """Press Tab until the focused element matches `selector` (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def press_continue(page, title):
    tab_to(page, "button[type=submit].button")
    page.keyboard.press("Enter")
    expect(heading(page, title)).to_be_visible()
    expect(heading(page, title)).to_be_focused()


def test_a_whole_purchase_with_the_keyboard_alone(live_server, page):
    log_in(page, live_server)
    tab_to(page, "button[value=fixed]")
    page.keyboard.press("Enter")
    expect(heading(page, "Price basis")).to_be_visible()
    for title in ("Call rate", "Number"):
        tab_to(page, "input[type=radio]")  # Tab enters the group at its first option
        page.keyboard.press("Space")
        press_continue(page, title)
    tab_to(page, "input[type=radio]")
    page.keyboard.press("Space")  # the first option: a new number (nothing to reveal, focus stays)
    expect(page.locator("#choice-0")).to_be_checked()
    expect(page.locator("#choice-0")).to_be_focused()
    press_continue(page, "PBX")
    tab_to(page, "input[type=radio]")
    page.keyboard.press("ArrowDown")  # Independent
    expect(page.get_by_label("Independent")).to_be_checked()
    press_continue(page, "User")
    tab_to(page, "select")
    page.keyboard.press("ArrowDown")
    expect(page.locator("select")).not_to_have_value("")
    press_continue(page, "Check your answers")
    tab_to(page, "input[name=accept_binding]")  # the first price basis was Bound: accept its binding period
    page.keyboard.press("Space")
    tab_to(page, "form[action$='/save'] button")
    page.keyboard.press("Enter")
    expect(heading(page, "Subscription ordered")).to_be_visible()


def test_saving_a_step_is_announced_politely(live_server, page):
    log_in(page, live_server)
    start_order(page, "mobile")
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    page.get_by_label("Unbound: current price list").check()
    save_and_continue(page, "Call rate")
    expect(announcer).to_have_text("Saved")


def test_users_pages_have_no_serious_axe_violations(live_server, page, nojs_page, auditor, console, tmp_path):
    """Users & Teams: list, search, expanded user, MEX editor with an error, pending change."""
    from tests.test_browser_users import ANNA_FIXED, insert_pbx_mobile_for_anna, panel_of

    console.expect_status(422)
    insert_pbx_mobile_for_anna(tmp_path)
    log_in(page, live_server)
    page.goto(f"{live_server}/settings/users")
    auditor.check(page, "users list")
    page.get_by_label("Search users").press_sequentially("Anna", delay=30)
    expect(page.locator(".user-item")).to_have_count(1)
    auditor.check(page, "users search")
    page.get_by_role("link", name="Anna Berg").click()
    panel = panel_of(page)
    expect(panel).to_be_visible()
    auditor.check(page, "user panel")
    panel.get_by_role("button", name=f"Edit {ANNA_FIXED}").click()
    panel.get_by_label("Connected").fill("08-123 457 00")
    panel.get_by_role("button", name="Done").click()
    expect(panel.locator(".error-message")).to_be_visible()
    auditor.check(page, "MEX editor with an error")
    panel.get_by_label("Connected").fill("0701234000")
    panel.get_by_role("button", name="Done").click()
    expect(panel.get_by_text("(not saved)")).to_be_visible()
    auditor.check(page, "pending MEX change")
    log_in(nojs_page, live_server)
    nojs_page.goto(f"{live_server}/settings/users?q=anna")
    auditor.check_static(nojs_page, "users search")
    nojs_page.get_by_role("link", name="Anna Berg").click()
    auditor.check_static(nojs_page, "user page")
    auditor.assert_clean()


def test_esim_page_has_no_serious_axe_violations(live_server, page, auditor):
    from tests.test_esim import buy_esim_in_browser

    log_in(page, live_server)
    buy_esim_in_browser(page)
    auditor.check(page, "done with eSIM")
    page.get_by_role("link", name="Show the eSIM QR code").click()
    expect(page.locator("svg.qr")).to_be_visible()
    auditor.check(page, "eSIM page")
    auditor.assert_clean()
