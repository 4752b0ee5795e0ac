"""Real-browser tests: headless Chromium (Debian's, through Playwright) against a live server.

They check what only a browser shows: htmx swapping steps in place and pushing their URLs,
follow-up questions shown beneath their option without asking the server, focus after a swap and
on a chosen option, the 409 of a second tab shown in the page, a double-clicked Save, and the same
purchase with JavaScript off (every follow-up question in the page, one post per step). Every page fails its
test on a console error, an uncaught exception or a CSP violation. Screenshots of the steps go
to test-artifacts/screenshots/ (git-ignored).

Browser tests run on SQLite only: the database behaviour is covered on both databases elsewhere.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import DEMO, IN_CI, TEST_CONFIG
from wizard import clock, create_app, db, migrate
from wizard.porting import earliest_porting_date
from wizard.seed import seed_demo

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

ICC = "89460712345678901230"
ANNA_FIXED = "08-123 456 70"
MEX_LABEL = "Turn on MEX"
PORTABLE = "070-111 22 33"  # in the seed's porting register, its binding ended: it may move here


# --------------------------------------------------------------------------- live server and browser


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors and tracebacks are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture
def live_server(tmp_path):
    """The app on a fresh, migrated and seeded SQLite file, served over HTTP in a daemon thread.

    One per test (it takes about 0.1 s), so every test starts from the demo data alone: a purchase
    uses up its ICC and Anna's number for MEX, which the next test wants again.
    """
    app = create_app(
        {**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}", "SESSION_COOKIE_SECURE": False},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        migrate.upgrade(db.engine())
        seed_demo(db.session())
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium (Playwright cannot download its own here); missing: skip, or fail under CI."""
    if not os.path.isfile(CHROMIUM) or not os.access(CHROMIUM, os.X_OK):
        message = f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")
# Pages report CSP violations to the console as errors; this makes sure they also arrive as
# console errors when Chromium words them differently (runs before any page script; not
# subject to the page's CSP).
REPORT_CSP = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));"""


class Console:
    """Console errors, uncaught exceptions and CSP violations of every page it watches."""

    def __init__(self):
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()

    def expect_status(self, *statuses: int):
        """The test provokes these HTTP statuses on purpose (422 validation, 409 conflict): Chromium
        logs each as "Failed to load resource", which is not a fault of the page."""
        self.expected_statuses.update(statuses)

    def watch(self, page):
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        return page

    def _on_console(self, message):
        if message.type != "error":
            return
        url = message.location.get("url", "") if message.location else ""
        failed = FAILED_LOAD.match(message.text)
        if failed and int(failed.group(1)) in self.expected_statuses:
            return
        self.problems.append(f"console error: {message.text} ({url})")


@pytest.fixture
def console():
    """Collects problems from every page of the test; the test fails if any were seen."""
    watcher = Console()
    yield watcher
    assert watcher.problems == [], "\n".join(watcher.problems)


@pytest.fixture
def new_context(chromium, console):
    """new_context(**options): a browser context whose pages are all watched by `console`."""
    contexts = []

    def _new(**options):
        context = chromium.new_context(**{"viewport": DESKTOP, **options})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP)
        context.on("page", console.watch)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page with JavaScript on. Like every page of the test it is watched by `console`, which
    fails the test afterwards if any console error, uncaught exception or CSP violation was seen."""
    return new_context().new_page()


@pytest.fixture
def nojs_page(new_context):
    """A page with JavaScript off (a new context)."""
    return new_context(java_script_enabled=False).new_page()


# --------------------------------------------------------------------------- helpers


def shot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def heading(page, name):
    return page.get_by_role("heading", level=1, name=name, exact=True)


def log_in(page, base, who="owner"):
    email, password = DEMO[who]
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(heading(page, "Subs")).to_be_visible()


def start_order(page, kind: str) -> str:
    """Add Subs mobile/fixed from the Subs page; returns the order's URL (without a step)."""
    page.get_by_role("button", name=f"Add Subs {kind}").click()
    expect(heading(page, "Price basis")).to_be_visible()
    assert page.url.endswith("/price_basis"), page.url
    return page.url.rsplit("/", 1)[0]


def title_of(step_title: str):
    """The document title of a step without errors: "<step> – New subscription – <site>"."""
    return re.compile(rf"^{re.escape(step_title)} – ")


def step_path(key: str):
    return re.compile(rf"/orders/[^/]+/{key}$")


def mark_document(page):
    """Tag the current document: a full page load would lose the tag."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page, what: str):
    assert page.evaluate("window.__sameDocument === true"), f"{what} loaded a new page instead of swapping in place"


def swapped(page, action):
    """Do something that makes htmx replace #step, and wait until the new #step is in the page."""
    page.evaluate("document.getElementById('step').dataset.stale = 'yes'")
    action()
    expect(page.locator("#step[data-stale]")).to_have_count(0)
    expect(page.locator("#step")).to_have_count(1)


def choose(page, label: str):
    """Tick an option; with JavaScript, an option that has follow-up questions shows them beneath it
    (its data-controls block), in place: wait until they are visible."""
    option = page.get_by_label(label, exact=True)
    option.check()
    controls = option.get_attribute("data-controls")
    if controls:
        expect(page.locator(f"#{controls}")).to_be_visible()


def reveal(page, label: str):
    """With JavaScript, choosing an option that has follow-up questions shows their block beneath
    it at once: hidden before, shown after, the radio naming it (aria-controls), in the same document
    at the same address, and without asking the server for the step (a step whose options change the
    price may still update its order summary). Returns the block."""
    option = page.get_by_label(label, exact=True)
    controls = option.get_attribute("data-controls")
    block = page.locator(f"#{controls}")
    expect(block).to_be_hidden()
    expect(option).to_have_attribute("aria-controls", controls)
    step_url = page.url
    asked = []

    def record(request):
        if request.url.split("?")[0] == step_url:
            asked.append(f"{request.method} {request.url}")

    page.on("request", record)
    mark_document(page)
    option.check()
    expect(block).to_be_visible()
    page.remove_listener("request", record)
    assert asked == [], f"choosing {label} asked the server for the step: {asked}"
    assert_same_document(page, f"choosing {label}")
    assert page.url == step_url
    return block


def follow_up_shown_without_js(page, option_label: str, field):
    """Without JavaScript every follow-up question is in the page and visible from the start, under
    a line that says which option it belongs to."""
    expect(field).to_be_visible()
    expect(page.get_by_text(f"Only if you chose “{option_label}”:", exact=True)).to_be_visible()


def select_user(page, name: str):
    """Choose the user whose option text contains `name` (options read "Name (email)")."""
    select = page.get_by_label("Who will use the number?")
    label = select.locator("option", has_text=name).first.text_content().strip()
    select.select_option(label=label)


def earliest_port_date(kind: str = "mobile") -> str:
    """The first porting date the Porting details step accepts today (yyyy-mm-dd, as a date input takes it)."""
    return earliest_porting_date(kind, clock.today()).isoformat()


def fill_porting_details(page, number: str = PORTABLE, kind: str = "mobile"):
    """The Porting details step: the number to move, its operator, the date, owned by this organisation."""
    page.get_by_label("Number to move").fill(number)
    page.get_by_label("Current operator").select_option(label="Telia")
    page.get_by_label("Wanted porting date").fill(earliest_port_date(kind))
    page.get_by_label("Our organisation", exact=True).check()


def continue_with_htmx(page, previous: tuple[str, str], following: tuple[str, str]):
    """Save and continue with htmx: the next step is swapped in, its URL pushed; Back returns."""
    (prev_key, prev_title), (next_key, next_title) = previous, following
    mark_document(page)
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, next_title)).to_be_visible()
    expect(page).to_have_url(step_path(next_key))
    expect(page).to_have_title(title_of(next_title))
    assert_same_document(page, f"Save and continue on {prev_key}")
    page.go_back()
    expect(page).to_have_url(step_path(prev_key))
    expect(heading(page, prev_title)).to_be_visible()
    expect(page).to_have_title(title_of(prev_title))
    page.go_forward()
    expect(page).to_have_url(step_path(next_key))
    expect(heading(page, next_title)).to_be_visible()
    expect(page).to_have_title(title_of(next_title))


def continue_without_js(page, next_key: str, next_title: str):
    """Save and continue as a plain form post: 303 to the next step, which loads as a page."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save and continue").click()
    response = navigation.value
    assert response.status == 200 and response.request.redirected_from is not None, response.status
    expect(page).to_have_url(step_path(next_key))
    expect(heading(page, next_title)).to_be_visible()


def accept_binding(page):
    """Tick Check your answers' "I accept the binding period until …" (a bound order needs it to Save)."""
    page.get_by_label(re.compile(r"^I accept the binding period until ")).check()


def subscription_rows(page):
    return page.locator("section[aria-labelledby='subs-heading'] tbody tr")


# --------------------------------------------------------------------------- 1 and 2: the mobile purchase


def test_mobile_purchase_with_javascript(live_server, page):
    log_in(page, live_server)
    start_order(page, "mobile")

    page.get_by_label("Bound: prices from your contract").check()
    continue_with_htmx(page, ("price_basis", "Price basis"), ("call_rate", "Call rate"))
    page.get_by_label("Fixed call rate").check()
    continue_with_htmx(page, ("call_rate", "Call rate"), ("data_package", "Data package"))
    page.get_by_label("20 GB").check()
    continue_with_htmx(page, ("data_package", "Data package"), ("number", "Number"))
    choose(page, "A new number")
    continue_with_htmx(page, ("number", "Number"), ("sim", "SIM"))
    expect(page.locator("#step .held")).to_contain_text("It is held for you until")

    # Choosing the physical SIM shows the ICC field beneath it, in place: no request for the step.
    icc = page.get_by_label("SIM card number (ICC)")
    expect(icc).to_be_hidden()
    reveal(page, "Physical SIM card")
    expect(icc).to_be_visible()
    expect(page.get_by_label("Physical SIM card")).to_be_checked()
    icc.fill(ICC)
    continue_with_htmx(page, ("sim", "SIM"), ("pbx", "PBX"))

    mex = page.get_by_label(MEX_LABEL)
    expect(mex).to_be_hidden()
    reveal(page, "PBX-integrated")
    expect(mex).to_be_visible()
    choose(page, "Independent")
    expect(mex).to_be_hidden()
    reveal(page, "PBX-integrated")
    mex.check()
    continue_with_htmx(page, ("pbx", "PBX"), ("user", "User"))

    select_user(page, "Anna Berg")
    continue_with_htmx(page, ("user", "User"), ("mex", "MEX pairing"))
    page.get_by_role("radio", name=ANNA_FIXED).check()
    continue_with_htmx(page, ("mex", "MEX pairing"), ("top_up", "Top-up"))
    page.get_by_label("Yes", exact=True).check()
    continue_with_htmx(page, ("top_up", "Top-up"), ("review", "Check your answers"))

    expect(page.locator("dl.summary").first).to_contain_text("Anna Berg")
    expect(page.locator("dl.summary").first).to_contain_text(f"MEX with {ANNA_FIXED}")
    accept_binding(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    assert page.url.endswith("/done")


def test_mobile_purchase_without_javascript(live_server, nojs_page):
    page = nojs_page
    log_in(page, live_server)
    start_order(page, "mobile")

    page.get_by_label("Bound: prices from your contract").check()
    continue_without_js(page, "call_rate", "Call rate")
    page.get_by_label("Fixed call rate").check()
    continue_without_js(page, "data_package", "Data package")
    page.get_by_label("20 GB").check()
    continue_without_js(page, "number", "Number")
    page.get_by_label("A new number", exact=True).check()
    continue_without_js(page, "sim", "SIM")

    # The ICC field is in the page from the start: choose, type and save in one post.
    icc = page.get_by_label("SIM card number (ICC)")
    follow_up_shown_without_js(page, "Physical SIM card", icc)
    page.get_by_label("Physical SIM card").check()
    icc.fill(ICC)
    continue_without_js(page, "pbx", "PBX")

    mex = page.get_by_label(MEX_LABEL)
    follow_up_shown_without_js(page, "PBX-integrated", mex)
    page.get_by_label("PBX-integrated").check()
    mex.check()
    continue_without_js(page, "user", "User")

    select_user(page, "Anna Berg")
    continue_without_js(page, "mex", "MEX pairing")
    page.get_by_role("radio", name=ANNA_FIXED).check()
    continue_without_js(page, "top_up", "Top-up")
    page.get_by_label("Yes", exact=True).check()
    continue_without_js(page, "review", "Check your answers")

    expect(page.locator("dl.summary").first).to_contain_text(f"MEX with {ANNA_FIXED}")
    accept_binding(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    assert page.url.endswith("/done")


# --------------------------------------------------------------------------- 3: fixed


def test_fixed_purchase_with_javascript(live_server, page):
    log_in(page, live_server)
    start_order(page, "fixed")
    progress = page.get_by_role("navigation", name="Order progress")
    for absent in ("Data package", "SIM", "Top-up"):
        expect(progress.get_by_text(absent, exact=True)).to_have_count(0)

    page.get_by_label("Unbound: current price list").check()
    continue_with_htmx(page, ("price_basis", "Price basis"), ("call_rate", "Call rate"))
    page.get_by_label("Variable call rate").check()
    continue_with_htmx(page, ("call_rate", "Call rate"), ("number", "Number"))
    choose(page, "A new number")
    continue_with_htmx(page, ("number", "Number"), ("pbx", "PBX"))
    choose(page, "Independent")
    continue_with_htmx(page, ("pbx", "PBX"), ("user", "User"))
    select_user(page, "Erik Lund")
    continue_with_htmx(page, ("user", "User"), ("review", "Check your answers"))

    summary = page.locator("dl.summary").first
    for absent in ("Data package", "SIM", "Top-up"):
        expect(summary.locator("dt", has_text=re.compile(rf"^{absent}$"))).to_have_count(0)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    expect(page.get_by_text("for Erik Lund")).to_be_visible()


# --------------------------------------------------------------------------- 4: two tabs


def test_second_tab_is_told_in_the_page_that_the_order_changed(live_server, page, console):
    console.expect_status(409)
    log_in(page, live_server)
    order = start_order(page, "mobile")
    other = page.context.new_page()
    other.goto(f"{order}/price_basis")
    expect(heading(other, "Price basis")).to_be_visible()

    page.get_by_label("Bound: prices from your contract").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Call rate")).to_be_visible()

    mark_document(other)
    other.get_by_label("Unbound: current price list").check()
    other.get_by_role("button", name="Save and continue").click()
    alert = other.locator("#step [role=alert]")
    expect(alert).to_contain_text("This order was changed in another tab")
    expect(alert.get_by_role("link", name="Reload this step")).to_be_visible()
    assert_same_document(other, "the 409 answer")
    expect(other).to_have_url(step_path("price_basis"))

    # Nothing was overwritten: reloading shows the first tab's answer.
    other.reload()
    expect(other.get_by_label("Bound: prices from your contract")).to_be_checked()


# --------------------------------------------------------------------------- 5: focus after a swap


def test_focus_moves_to_the_new_heading_or_to_the_error_summary(live_server, page, console):
    console.expect_status(422)
    log_in(page, live_server)
    start_order(page, "mobile")

    page.get_by_label("Unbound: current price list").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Call rate")).to_be_visible()
    expect(page.locator("#step h1")).to_be_focused()
    expect(page).not_to_have_title(re.compile(r"^Error:"))

    page.get_by_role("button", name="Save and continue").click()  # nothing chosen
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Choose a call rate")
    expect(page.locator(".error-summary:focus-within")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^Error: Call rate"))


def test_focus_stays_on_the_chosen_option_when_it_reveals_fields(live_server, page):
    """Extra: a keyboard user choosing an option with follow-up questions keeps their place: the
    questions appear beneath it, focus stays on the radio, and nothing is asked of the server."""
    log_in(page, live_server)
    start_order(page, "fixed")
    page.get_by_label("Unbound: current price list").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Fixed call rate").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("A new number", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "PBX")).to_be_visible()

    option = page.get_by_label("PBX-integrated", exact=True)
    mex = page.get_by_label(MEX_LABEL)
    expect(mex).to_be_hidden()
    requests = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    mark_document(page)
    option.focus()
    page.keyboard.press("Space")
    expect(option).to_be_checked()
    expect(mex).to_be_visible()
    expect(option).to_be_focused()
    assert requests == []
    assert_same_document(page, "choosing PBX-integrated")


# --------------------------------------------------------------------------- 6: double-clicked Save


def test_double_clicking_save_buys_one_subscription(live_server, new_context):
    # The order is filled in without JavaScript, so that this test is about Save alone.
    setup = new_context(java_script_enabled=False).new_page()
    log_in(setup, live_server)
    expect(setup.get_by_text("No subscriptions yet.")).to_be_visible()
    order = start_order(setup, "fixed")
    setup.get_by_label("Unbound: current price list").check()
    continue_without_js(setup, "call_rate", "Call rate")
    setup.get_by_label("Fixed call rate").check()
    continue_without_js(setup, "number", "Number")
    setup.get_by_label("A new number", exact=True).check()
    continue_without_js(setup, "pbx", "PBX")
    setup.get_by_label("Independent").check()
    continue_without_js(setup, "user", "User")
    select_user(setup, "Erik Lund")
    continue_without_js(setup, "review", "Check your answers")

    page = new_context(storage_state=setup.context.storage_state()).new_page()
    page.goto(f"{order}/review")
    expect(heading(page, "Check your answers")).to_be_visible()
    saves = []
    page.on("request", lambda r: saves.append(r) if r.method == "POST" and r.url.endswith("/save") else None)
    page.get_by_role("button", name="Save", exact=True).dblclick()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    assert saves, "Save sent no POST"

    page.get_by_role("link", name="Back to Subs").click()
    expect(heading(page, "Subs")).to_be_visible()
    expect(subscription_rows(page)).to_have_count(1)
    expect(subscription_rows(page).locator("a.number[href*='/subscriptions/']")).to_have_count(1)  # its page


# --------------------------------------------------------------------------- 7: screenshots


def test_screenshots_of_every_step(live_server, new_context, console):
    """Desktop (1280x900) screenshots of every step of a mobile order (its number moved here, so the
    Porting details step is in it, and MEX on, so the MEX pairing step is), with follow-up questions
    and an error; phone-width (375px) ones of a few. The steps are answered without JavaScript (the
    pages are the same server-rendered HTML and CSS, every follow-up question shown), so the pictures
    do not depend on htmx."""
    console.expect_status(422)
    page = new_context(java_script_enabled=False, viewport=DESKTOP).new_page()
    log_in(page, live_server)
    shot(page, "desktop-00-subs")
    order = start_order(page, "mobile")

    page.get_by_role("button", name="Save and continue").click()  # nothing chosen: an error
    expect(page.locator(".error-summary")).to_be_visible()
    shot(page, "desktop-01-price_basis-error")
    page.get_by_label("Bound: prices from your contract").check()
    shot(page, "desktop-01-price_basis")
    continue_without_js(page, "call_rate", "Call rate")
    shot(page, "desktop-02-call_rate")
    page.get_by_label("Fixed call rate").check()
    continue_without_js(page, "data_package", "Data package")
    shot(page, "desktop-03-data_package")
    page.get_by_label("20 GB").check()
    continue_without_js(page, "number", "Number")
    page.get_by_label("Move (port) an existing number").check()
    shot(page, "desktop-04-number")
    continue_without_js(page, "porting", "Porting details")
    fill_porting_details(page)
    shot(page, "desktop-05-porting")
    continue_without_js(page, "sim", "SIM")
    page.get_by_label("Physical SIM card").check()
    page.get_by_label("SIM card number (ICC)").fill(ICC)
    shot(page, "desktop-06-sim-physical")
    continue_without_js(page, "pbx", "PBX")
    page.get_by_label("PBX-integrated").check()
    page.get_by_label(MEX_LABEL).check()
    shot(page, "desktop-07-pbx-mex")
    continue_without_js(page, "user", "User")
    select_user(page, "Anna Berg")
    shot(page, "desktop-08-user")
    continue_without_js(page, "mex", "MEX pairing")
    page.get_by_role("radio", name=ANNA_FIXED).check()
    shot(page, "desktop-09-mex")
    continue_without_js(page, "top_up", "Top-up")
    page.get_by_label("Yes", exact=True).check()
    shot(page, "desktop-10-top_up")
    continue_without_js(page, "review", "Check your answers")
    shot(page, "desktop-11-review")
    page.goto(f"{order}/type")  # answered by the Add button, so only reached through the progress list
    expect(heading(page, "Subscription type")).to_be_visible()
    shot(page, "desktop-00-type")

    phone = new_context(viewport=PHONE, storage_state=page.context.storage_state()).new_page()
    for key, title in [
        ("price_basis", "Price basis"),
        ("porting", "Porting details"),
        ("sim", "SIM"),
        ("user", "User"),
        ("mex", "MEX pairing"),
        ("review", "Check your answers"),
    ]:
        phone.goto(f"{order}/{key}")
        expect(heading(phone, title)).to_be_visible()
        shot(phone, f"phone-{key}")

    page.goto(f"{order}/review")
    expect(page.locator("dl.summary").first).to_contain_text("070-111 22 33")
    accept_binding(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    shot(page, "desktop-12-done")
    phone.goto(f"{live_server}/settings/account/subs")
    expect(heading(phone, "Subs")).to_be_visible()
    shot(phone, "phone-subs")
