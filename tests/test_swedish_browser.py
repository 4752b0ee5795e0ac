"""Swedish in a real browser: Chromium with a Swedish locale (Accept-Language sv-SE) walks every page
and every step of both kinds of order, with JavaScript on. Each is photographed into
test-artifacts/sv/, checked with axe (no serious or critical violation) and read: every visible word
must be Swedish (from the catalogue), data or Babel's Swedish dates and money. Then, without JavaScript,
the header switch goes to English and back, and the choice outlives logging out and in again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import catalogue
from tests.conftest import DEMO
from tests.test_accessibility import serious_violations
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    DESKTOP,
    chromium,
    console,
    live_server,
    new_context,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "sv"
SWEDISH = {"locale": "sv-SE", "viewport": DESKTOP}
TYPED = {"colour", "blue"}  # the deep link's unknown parameter, shown back as the visitor typed it
# The title and every rendered text node (screen-reader-only text included), less what is marked
# translate="no" (a language's own name on the switch, an eSIM's codes).
READABLE_TEXT = """() => {
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("[translate=no], script, style, template") || !parent.checkVisibility()) continue;
    out.push(node.textContent);
  }
  return out.join("\\n");
}"""


class Reader:
    """Photographs, audits and reads every page it is shown."""

    def __init__(self, page):
        self.page = page
        self.seen: list[str] = []
        self.problems: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def check(self, name: str):
        page = self.page
        self.seen.append(name)
        page.screenshot(path=str(ARTIFACTS / f"{len(self.seen):02d}-{name}.png"), full_page=True)
        lang = page.evaluate("document.documentElement.lang")
        if lang != "sv":
            self.problems.append(f"{name}: <html lang={lang!r}>")
        stray = catalogue.foreign_words(page.evaluate(READABLE_TEXT)) - TYPED
        if stray:
            self.problems.append(f"{name}: not Swedish: {sorted(stray)}")
        violations = serious_violations(page)
        if violations:
            self.problems.append(f"{name}: axe: {violations}")

    def assert_clean(self):
        assert self.problems == [], "\n".join(self.problems)


def step(page, key: str):
    expect(page.locator(f"#step[data-step-key={key}]")).to_be_visible()


def submit(page, key: str):
    """Save and continue, then wait for the step `key` (swapped in by htmx)."""
    page.locator("#step-submit").click()
    step(page, key)


def pick(page, selector: str):
    """Tick a radio; the follow-up questions beneath it (if any) open in place, without a request."""
    option = page.locator(selector)
    option.check()
    controls = option.get_attribute("data-controls")
    if controls:
        expect(page.locator(f"#{controls}")).to_be_visible()


def choose_user(page, name: str):
    """Pick the user whose option ("Name (email)") holds `name`, whatever the page's language."""
    select = page.locator("select[name=user_id]")
    select.select_option(label=select.locator("option", has_text=name).first.text_content().strip())


def log_in(page, base: str, who: str = "owner"):
    email, password = DEMO[who]
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("button[value=mobile]")).to_be_visible()


def test_every_page_and_step_in_swedish(live_server, new_context, console):
    console.expect_status(403, 404, 422)
    page = new_context(**SWEDISH).new_page()
    reader = Reader(page)
    page.goto(f"{live_server}/login")
    reader.check("logga-in")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    reader.check("logga-in-fel")
    log_in(page, live_server)
    reader.check("abonnemang")

    page.locator("button[value=mobile]").click()
    step(page, "price_basis")
    reader.check("prisunderlag")
    submit(page, "price_basis")
    reader.check("prisunderlag-fel")
    page.locator("input[name=basis][value=bound]").check()
    submit(page, "call_rate")
    reader.check("samtalstaxa")
    page.locator("input[name=code][value=rate-fixed]").check()
    submit(page, "data_package")
    reader.check("datapaket")
    page.locator("input[name=code][value=data-20]").check()
    submit(page, "number")
    for choice in ("reserved", "specific", "port"):
        pick(page, f"input[name=choice][value={choice}]")
        if choice == "specific":  # the free numbers are looked up as the block opens
            expect(page.locator("input[name=specific_number]").first).to_be_visible()
        reader.check(f"nummer-{choice}")
    submit(page, "porting")
    reader.check("nummerflytt")
    page.locator("#step-submit").click()
    expect(page.locator(".error-summary")).to_be_visible()
    reader.check("nummerflytt-fel")
    page.locator("button[name=_go][value=back]").click()
    step(page, "number")
    pick(page, "input[name=choice][value=new]")
    reader.check("nummer-nytt")
    submit(page, "sim")
    expect(page.locator(".held")).to_be_visible()  # the new number and until when, named after the Number step
    pick(page, "input[name=sim_kind][value=physical]")
    reader.check("sim-fysiskt")
    pick(page, "input[name=sim_kind][value=esim]")
    reader.check("sim-esim")
    submit(page, "pbx")
    pick(page, "input[name=mode][value=pbx]")
    reader.check("vaxel")
    page.locator("input[name=mex]").check()
    submit(page, "user")
    choose_user(page, "Anna Berg")
    reader.check("anvandare")
    submit(page, "mex")
    reader.check("mex-koppling")
    page.locator("input[name=mex_partner]").first.check()
    submit(page, "top_up")
    reader.check("tankning")
    page.locator("input[name=top_up][value=yes]").check()
    submit(page, "review")
    reader.check("kontrollera")
    page.locator("input[name=accept_binding]").check()  # bound: the binding period accepted
    page.locator("form[action$='/save'] button[type=submit]").click()
    expect(page.locator("a[href$='/esim']")).to_be_visible()
    reader.check("klart")
    page.locator("a[href$='/esim']").click()
    expect(page.locator("svg.qr")).to_be_visible()
    reader.check("esim")

    page.goto(f"{live_server}/settings/account/subs")
    page.locator("button[value=fixed]").click()
    step(page, "price_basis")
    page.locator("input[name=basis][value=unbound]").check()
    submit(page, "call_rate")
    page.locator("input[name=code][value=rate-variable]").check()
    submit(page, "number")
    pick(page, "input[name=choice][value=new]")
    submit(page, "pbx")
    reader.check("fast-vaxel")
    page.locator("input[name=mode][value=independent]").check()
    submit(page, "user")
    choose_user(page, "Erik Lund")
    submit(page, "review")
    reader.check("fast-kontrollera")
    page.goto(page.url.rsplit("/", 1)[0] + "/discard")
    reader.check("kasta")
    page.goto(f"{live_server}/settings/account/subs")
    reader.check("abonnemang-med-bestallning")
    page.goto(f"{live_server}/settings/account/subs/orders/new?type=mobile&colour=blue")
    reader.check("djuplank")
    page.goto(f"{live_server}/settings/users")
    reader.check("anvandare-lista")
    page.locator("a", has_text="Anna Berg").first.click()
    expect(page.locator(".user-details, [id^=user-][id$=-details]").first).to_be_visible()
    reader.check("anvandare-panel")
    page.locator("button[name=edit]").first.click()
    expect(page.locator("button[name=done]").first).to_be_visible()
    reader.check("mex-redigera")
    page.goto(f"{live_server}/settings/no-such-page")
    reader.check("404")
    page.goto(f"{live_server}/settings/account/subs")
    page.locator("form[action='/logout'] button").click()
    expect(page.locator("input[name=email]")).to_be_visible()
    reader.check("utloggad")

    staff = new_context(**SWEDISH).new_page()
    staff_reader = Reader(staff)
    staff_reader.seen = reader.seen  # one numbering for the artifacts
    staff.goto(f"{live_server}/login")
    staff.locator("input[name=email]").fill(DEMO["staff"][0])
    staff.locator("input[name=password]").fill(DEMO["staff"][1])
    staff.locator("form[action='/login'] button[type=submit]").click()
    expect(staff.locator("h1")).to_be_visible()
    staff_reader.check("403")

    reader.problems += staff_reader.problems
    reader.assert_clean()
    assert len(reader.seen) >= 30


def header_button(page, lang: str):
    return page.locator(f"form.language-switch button[value={lang}]")


def test_switching_to_english_and_back_without_javascript_is_remembered_at_the_next_login(live_server, new_context):
    page = new_context(java_script_enabled=False, **SWEDISH).new_page()
    log_in(page, live_server, "buyer")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    header_button(page, "en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subs")
    assert page.url == f"{live_server}/settings/account/subs"

    page.get_by_role("button", name="Log out").click()
    fresh = new_context(java_script_enabled=False, **SWEDISH).new_page()  # another browser, Swedish
    log_in(fresh, live_server, "buyer")
    expect(fresh.locator("html")).to_have_attribute("lang", "en")  # the person's choice, not the browser's

    header_button(fresh, "sv").click()
    expect(fresh.locator("html")).to_have_attribute("lang", "sv")
    expect(header_button(fresh, "en")).to_have_text("English")
    fresh.locator("form[action='/logout'] button").click()
    log_in(fresh, live_server, "buyer")
    expect(fresh.locator("html")).to_have_attribute("lang", "sv")
