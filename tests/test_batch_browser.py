"""Subs for several people in Chromium: with JavaScript on at 1280 px, adding and removing lines swaps
the form in place and keeps what was typed; with it off at 390 px, the same batch in plain posts, the
lines table scrolling sideways inside its own region and never the page. A bad ICC is named in the
error summary and beside its cell; fixed, the batch is reviewed and bought, and the confirmation lists
every line. Every page is screenshotted to test-artifacts/batch/ and checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from tests.test_accessibility import Auditor
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    DESKTOP,
    ICC,
    assert_same_document,
    chromium,
    console,
    heading,
    live_server,
    log_in,
    mark_document,
    new_context,
)
from tests.test_journey_browser import ARTIFACTS, PHONE, Walker

pytestmark = pytest.mark.browser

TITLE = "Mobile subscriptions for several people"
BAD_ICC = ICC[:-1] + "1"  # the Luhn check digit is 0
SECOND_ICC = "89460712345678901248"
ANNA, ERIK, BUYER = "anna@nordlys.test", "erik@nordlys.test", "buyer@nordlys.test"


def cell(page, line: int, column: str):
    """The field of a line (1-based) and column, by its label ("Line 2: SIM card number (ICC)")."""
    return page.get_by_label(f"Line {line}: {column}", exact=True)


def fill_line(page, line: int, email: str, sim: str, icc: str = ""):
    """A person with a new number and a SIM card (physical, with its ICC) or an eSIM."""
    cell(page, line, "Person (e-mail address)").select_option(email)
    cell(page, line, "Number").select_option("new")
    cell(page, line, "SIM").select_option(sim)
    cell(page, line, "SIM card number (ICC)").fill(icc)


def fill_shared(page, basis: str):
    for label in (basis, "Fixed call rate", "5 GB", "Independent", "No"):
        page.get_by_label(label, exact=True).check()


def expect_lines(page, *expected: tuple[str, str, str]):
    """The table holds exactly these lines: (person, SIM, ICC) each, in order."""
    expect(page.locator("table.batch-lines tbody tr")).to_have_count(len(expected))
    for n, (email, sim, icc) in enumerate(expected, start=1):
        expect(cell(page, n, "Person (e-mail address)")).to_have_value(email)
        expect(cell(page, n, "Number")).to_have_value("new")
        expect(cell(page, n, "SIM")).to_have_value(sim)
        expect(cell(page, n, "SIM card number (ICC)")).to_have_value(icc)


def expect_bad_icc_on_line_2(page):
    """The error summary names line 2's ICC and links to it; the cell says why beside the field."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link", name=re.compile(r"^Line 2, SIM card number \(ICC\)"))
    expect(link).to_have_attribute("href", "#lines-1-icc")
    field = cell(page, 2, "SIM card number (ICC)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(r"^Error:"))
    expect(page.locator("td.field-error #lines-1-icc-error")).to_be_visible()
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)  # line 1 is right
    return link


def expect_done(page):
    """The confirmation lists both people, each with a number of their own."""
    expect(heading(page, "Subscriptions ordered")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td[data-label=User]")).to_have_text("Anna Berg")
    expect(rows.nth(1).locator("td[data-label=User]")).to_have_text("Erik Lund")
    numbers = rows.locator("a.number").all_text_contents()
    assert len(set(numbers)) == 2 and all(re.fullmatch(r"07\d-\d{3}\s\d{2}\s\d{2}", n) for n in numbers), numbers
    expect(page.get_by_role("link", name=re.compile("^eSIM QR code"))).to_have_count(1)  # Anna's


def start_mobile_batch(page):
    """Subs: "For several people at once" Mobile, then Add Subs for several people."""
    page.get_by_label("For several people at once:").select_option("mobile")
    page.get_by_role("button", name="Add Subs for several people").click()


def walker(page, auditor, js: bool, name: str) -> Walker:
    w = Walker(page, auditor, js, name, errors=True)
    w.folder = ARTIFACTS.parent / "batch" / name
    w.folder.mkdir(parents=True, exist_ok=True)
    for old in w.folder.glob("*.png"):  # only this run's pages
        old.unlink()
    return w


def test_a_batch_with_javascript_adds_and_removes_lines_in_place(live_server, new_context, console):  # noqa: F811
    console.expect_status(422)
    page = new_context(viewport=DESKTOP).new_page()
    auditor = Auditor(new_context().new_page())
    w = walker(page, auditor, True, "js-desktop")
    log_in(page, live_server)
    start_mobile_batch(page)
    expect(heading(page, TITLE)).to_be_visible()
    batch_url = page.url
    w.look("batch")

    # Line 1, then two more lines added in place: one to remove again, one with a bad ICC.
    fill_shared(page, "Unbound: current price list")
    fill_line(page, 1, ANNA, "esim")
    mark_document(page)
    page.get_by_role("button", name="Add a line").click()
    expect(cell(page, 2, "Person (e-mail address)")).to_have_value("")
    expect(page.get_by_role("button", name="Add a line")).to_be_focused()  # the keyboard keeps its place
    fill_line(page, 2, BUYER, "esim")
    page.get_by_role("button", name="Add a line").click()
    fill_line(page, 3, ERIK, "physical", BAD_ICC)
    expect(page.locator("table.batch-lines tbody tr")).to_have_count(3)
    w.look("batch-three-lines")
    page.get_by_role("button", name="Remove line 2").click()
    expect_lines(page, (ANNA, "esim", ""), (ERIK, "physical", BAD_ICC))
    assert_same_document(page, "Add a line and Remove")
    assert page.url == batch_url
    for label in ("Unbound: current price list", "Fixed call rate", "5 GB", "Independent", "No"):
        expect(page.get_by_label(label, exact=True)).to_be_checked()

    page.get_by_role("button", name="Check and continue").click()
    link = expect_bad_icc_on_line_2(page)
    expect(page.locator(".error-summary")).to_be_focused()
    assert_same_document(page, "Check and continue with a problem")
    expect(page).to_have_title(re.compile(rf"^{TITLE} – "))
    w.look("batch-error")
    link.click()
    expect(cell(page, 2, "SIM card number (ICC)")).to_be_focused()
    expect(page.locator("#lines-1-icc-error")).to_be_in_viewport()  # the table scrolled to it
    w.look("batch-error-at-the-cell")
    cell(page, 2, "SIM card number (ICC)").fill(ICC)

    page.get_by_role("button", name="Check and continue").click()
    expect(heading(page, "Check your answers")).to_be_visible()
    expect(page).to_have_url(batch_url + "/review")
    expect(page.get_by_text("Mobile subscriptions for 2 people")).to_be_visible()
    w.look("review")
    page.get_by_role("button", name="Buy 2 subscriptions").click()
    expect_done(page)
    w.look("done")
    auditor.assert_clean()


def test_a_batch_in_plain_posts_on_a_phone_without_javascript(live_server, new_context, console):  # noqa: F811
    console.expect_status(422)
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    auditor = Auditor(new_context().new_page())
    w = walker(page, auditor, False, "nojs-390")
    log_in(page, live_server)

    def post(button: str):
        """Press a button: a plain post, answered by a whole page."""
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()

    with page.expect_navigation():
        start_mobile_batch(page)
    expect(heading(page, TITLE)).to_be_visible()
    region = page.get_by_role("region", name="One line per person")
    expect(region).to_have_attribute("tabindex", "0")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth"), "the lines fit: nothing to scroll"
    w.look("batch")  # the page itself does not scroll sideways (Walker.assert_fits)

    fill_shared(page, "Bound: prices from your contract")
    fill_line(page, 1, ANNA, "esim")
    post("Add a line")
    fill_line(page, 2, BUYER, "esim")
    post("Add a line")
    fill_line(page, 3, ERIK, "physical", BAD_ICC)
    w.look("batch-three-lines")
    post("Remove line 2")
    expect_lines(page, (ANNA, "esim", ""), (ERIK, "physical", BAD_ICC))
    expect(page.get_by_label("Bound: prices from your contract", exact=True)).to_be_checked()

    post("Check and continue")
    expect_bad_icc_on_line_2(page)
    w.look("batch-error")
    cell(page, 2, "SIM card number (ICC)").fill(SECOND_ICC)
    post("Check and continue")
    expect(heading(page, "Check your answers")).to_be_visible()
    w.look("review")
    post("Buy 2 subscriptions")  # the binding period not accepted
    expect(page.locator(".error-summary")).to_contain_text("Accept the binding period")
    w.look("review-error")
    page.get_by_label(re.compile("^I accept the binding period until ")).check()
    post("Buy 2 subscriptions")
    expect_done(page)
    w.look("done")
    auditor.assert_clean()
