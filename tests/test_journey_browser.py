"""The journey in Chromium, with JavaScript on and off, on a desktop and a 390 px phone: a ported
mobile with a physical SIM and a fixed PBX number with MEX, every page and every error state
screenshotted to test-artifacts/journey/ and checked with axe; Back and "Save and finish later"
keep what was typed; the two-tab conflict page is readable.

Without JavaScript every follow-up question is in the page (one post per step, counted); with it,
each opens beneath its option without a request."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_accessibility import Auditor
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    DESKTOP,
    ICC,
    PORTABLE,
    chromium,
    console,
    earliest_port_date,
    heading,
    live_server,
    log_in,
    new_context,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "journey"
PHONE = {"width": 390, "height": 844}
STEP_POST = re.compile(r"/orders/[^/]+/[a-z_]+$")


class Walker:
    """Walks one browser page through the wizard: looks at each page (a screenshot and axe) and
    counts the POSTs each step took."""

    def __init__(self, page, auditor: Auditor, js: bool, name: str, errors: bool, artifacts: Path = ARTIFACTS):
        """Screenshots go to `artifacts`/`name` (test-artifacts/journey/ unless another folder is named)."""
        self.page, self.auditor, self.js, self.errors = page, auditor, js, errors
        self.folder = artifacts / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seen = 0
        self.posts: list[str] = []
        page.on("request", self._count)

    def _count(self, request):
        if request.method == "POST" and STEP_POST.search(request.url):
            self.posts.append(request.url.rsplit("/", 1)[-1])

    def look(self, name: str):
        self.seen += 1
        self.page.screenshot(path=str(self.folder / f"{self.seen:02d}-{name}.png"), full_page=True)
        if self.js:
            self.auditor.check(self.page, f"{self.folder.name}/{name}")
        else:
            self.auditor.check_static(self.page, f"{self.folder.name}/{name}")
        self.assert_fits()

    def assert_fits(self):
        """Nothing sticks out sideways (a phone must not scroll the page horizontally)."""
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{self.folder.name}: the page is {overflow}px wider than the screen"

    def at(self, key: str):
        expect(self.page.locator(f"#step[data-step-key={key}]")).to_be_visible()

    def save_and_continue(self, key: str):
        self.page.get_by_role("button", name="Save and continue").click()
        self.at(key)

    def error_state(self, name: str):
        """Save and continue with what is on the page now: an error summary, looked at."""
        if not self.errors:
            return
        self.page.get_by_role("button", name="Save and continue").click()
        expect(self.page.locator(".error-summary")).to_be_visible()
        self.look(f"{name}-error")
        self.posts.pop()  # an error state is extra, not part of the step's one post

    def choose(self, label: str):
        """Tick an option; with JavaScript its follow-up block opens at once (no request)."""
        option = self.page.get_by_label(label, exact=True)
        option.check()
        controls = option.get_attribute("data-controls")
        if controls:
            expect(self.page.locator(f"#{controls}")).to_be_visible()


CONFIGS = [
    pytest.param(True, DESKTOP, True, id="js-desktop"),
    pytest.param(False, DESKTOP, True, id="nojs-desktop"),
    pytest.param(True, PHONE, False, id="js-390"),
    pytest.param(False, PHONE, False, id="nojs-390"),
]


@pytest.mark.parametrize(("js", "viewport", "errors"), CONFIGS)
def test_ported_mobile_then_fixed_pbx_with_mex(live_server, new_context, console, request, js, viewport, errors):  # noqa: F811
    console.expect_status(409, 422)
    name = request.node.callspec.id
    page = new_context(java_script_enabled=js, viewport=viewport).new_page()
    auditor = Auditor(new_context().new_page())
    w = Walker(page, auditor, js, name, errors)
    log_in(page, live_server)
    w.look("subs")

    # A ported mobile with a physical SIM, for Anna, PBX-integrated (MEX off).
    page.get_by_role("button", name="Add Subs mobile").click()
    w.at("price_basis")
    w.look("price-basis")
    w.error_state("price-basis")
    w.choose("Bound: prices from your contract")
    w.save_and_continue("call_rate")
    w.look("call-rate")
    w.error_state("call-rate")
    w.choose("Fixed call rate")
    w.save_and_continue("data_package")
    w.look("data-package")
    w.choose("20 GB")
    w.save_and_continue("number")
    w.look("number")
    w.error_state("number")
    w.choose("Move (port) an existing number")
    w.save_and_continue("porting")
    w.look("porting")
    w.error_state("porting")

    # Back keeps what was typed: the number step, then the same page with it filled in again.
    page.get_by_label("Number to move").fill(PORTABLE)
    page.get_by_label("Current operator").select_option("Telia")
    page.get_by_role("button", name="Back", exact=True).click()
    w.at("number")
    w.save_and_continue("porting")
    expect(page.get_by_label("Number to move")).to_have_value(PORTABLE)
    expect(page.get_by_label("Current operator")).to_have_value("Telia")
    expect(page.locator(".notice", has_text="This is what you typed here last time")).to_be_visible()
    w.look("porting-kept")
    page.get_by_label("Wanted porting date").fill(earliest_port_date())
    w.choose("Another organisation")
    page.get_by_label("The other organisation's organisation number").fill("556036-0793")
    w.save_and_continue("sim")
    w.look("sim")
    w.choose("Physical SIM card")
    page.get_by_label("SIM card number (ICC)").fill("8946 0712")
    w.error_state("sim")

    # "Save and finish later" keeps what was typed, and the order waits on Subs.
    page.get_by_role("button", name="Save and finish later").click()
    expect(heading(page, "Subs")).to_be_visible()
    expect(page.locator(".notice", has_text="Your order is saved")).to_be_visible()
    w.look("subs-later")
    page.get_by_role("link", name=re.compile("^Resume")).first.click()
    w.at("sim")
    expect(page.get_by_label("SIM card number (ICC)")).to_have_value("8946 0712")
    expect(page.get_by_label("Physical SIM card")).to_be_checked()
    page.get_by_label("SIM card number (ICC)").fill(ICC)
    w.save_and_continue("pbx")
    w.look("pbx")
    w.error_state("pbx")
    w.choose("PBX-integrated")
    w.save_and_continue("user")
    w.look("user")
    w.error_state("user")
    user = page.get_by_label("Who will use the number?")
    user.select_option(label=user.locator("option", has_text="Anna Berg").text_content().strip())
    w.save_and_continue("top_up")
    w.look("top-up")
    w.choose("No")
    w.save_and_continue("review")
    w.look("review")
    if errors:
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".error-summary")).to_be_visible()
        w.look("review-error")
    page.get_by_label(re.compile("^I accept the binding period")).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    w.look("done")
    # One post per step, and one for each Back and "Save and finish later" pressed (on Porting details
    # and on SIM): no step needed a second post to show its follow-up questions.
    assert [p for p in w.posts if p != "save"] == [
        "price_basis",
        "call_rate",
        "data_package",
        "number",
        "porting",  # Back, keeping what was typed
        "number",
        "porting",
        "sim",  # Save and finish later
        "sim",
        "pbx",
        "user",
        "top_up",
    ]

    # A fixed number, PBX-integrated with MEX, paired with Anna's new mobile.
    w.posts.clear()
    page.goto(f"{live_server}/settings/account/subs")
    page.get_by_role("button", name="Add Subs fixed").click()
    w.at("price_basis")
    w.choose("Unbound: current price list")
    w.save_and_continue("call_rate")
    w.choose("Variable call rate")
    w.save_and_continue("number")
    w.choose("A new number")
    w.save_and_continue("pbx")
    expect(page.locator(".held")).to_contain_text("It is held for you until")  # the new number, named
    w.look("fixed-pbx-held-number")
    w.choose("PBX-integrated")
    page.get_by_label(re.compile("^Turn on MEX")).check()
    w.save_and_continue("user")
    user = page.get_by_label("Who will use the number?")
    if errors:  # Erik has no PBX mobile to pair with: said beside the user
        user.select_option(label=user.locator("option", has_text="Erik Lund").text_content().strip())
        w.error_state("fixed-user-no-partner")
    user.select_option(label=user.locator("option", has_text="Anna Berg").text_content().strip())
    w.save_and_continue("mex")
    w.look("mex")
    w.error_state("mex")
    page.locator("input[name=mex_partner]").first.check()
    w.save_and_continue("review")
    w.look("fixed-review")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    assert [p for p in w.posts if p != "save"] == ["price_basis", "call_rate", "number", "pbx", "user", "mex"]
    auditor.assert_clean()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_two_tab_conflict_page_is_readable(live_server, new_context, console, js):  # noqa: F811
    console.expect_status(409)
    context = new_context(java_script_enabled=js)
    first, second = context.new_page(), context.new_page()
    auditor = Auditor(new_context().new_page())
    w = Walker(first, auditor, js, f"conflict-{'js' if js else 'nojs'}", errors=True)
    log_in(first, live_server)
    first.get_by_role("button", name="Add Subs fixed").click()
    w.at("price_basis")
    second.goto(first.url)
    second.get_by_label("Unbound: current price list").check()
    second.get_by_role("button", name="Save and continue").click()
    expect(heading(second, "Call rate")).to_be_visible()
    first.get_by_label("Unbound: current price list").check()
    first.get_by_role("button", name="Save and continue").click()
    expect(first.get_by_role("heading", name="This order was changed in another tab or window")).to_be_visible()
    w.look("conflict")
    reload = first.get_by_role("link", name="Reload this step")
    colours = reload.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours[0] != colours[1]
    reload.click()
    expect(heading(first, "Price basis")).to_be_visible()
    auditor.assert_clean()
