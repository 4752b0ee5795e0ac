"""Subs for several people in Chromium: with JavaScript on at 1280 px, adding and removing lines swaps
the form in place, keeps what was typed, moves focus to the line and says so in the live region; with
it off at 390 px, the same batch in plain posts. Every line is a card whose fields wrap, so at 1280 px
and at 390 px, with JavaScript and without, every field and error of a line is in view without
scrolling sideways, and the error summary's link to line 2's ICC lands on it with "Line 2" in view.
Reading a CSV file keeps the choices on screen and says how many lines it read. A bad ICC is named in
the error summary and beside its field; fixed, the batch is reviewed and bought, and the confirmation
lists every line. Every page is screenshotted to test-artifacts/batch/ and checked with axe."""

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
SHARED = ("Fixed call rate", "5 GB", "Independent", "No")  # and a price basis


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
    for label in (basis, *SHARED):
        page.get_by_label(label, exact=True).check()


def expect_shared(page, basis: str):
    for label in (basis, *SHARED):
        expect(page.get_by_label(label, exact=True)).to_be_checked()


def expect_lines(page, *expected: tuple[str, str, str]):
    """The page holds exactly these lines: (person, SIM, ICC) each, in order."""
    expect(page.locator(".batch-line")).to_have_count(len(expected))
    for n, (email, sim, icc) in enumerate(expected, start=1):
        expect(cell(page, n, "Person (e-mail address)")).to_have_value(email)
        expect(cell(page, n, "Number")).to_have_value("new")
        expect(cell(page, n, "SIM")).to_have_value(sim)
        expect(cell(page, n, "SIM card number (ICC)")).to_have_value(icc)


def expect_bad_icc_on_line_2(page):
    """The error summary names line 2's ICC and links to it; the field says why above it."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link", name=re.compile(r"^Line 2, SIM card number \(ICC\)"))
    expect(link).to_have_attribute("href", "#lines-1-icc")
    field = cell(page, 2, "SIM card number (ICC)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(r"^Error:"))
    expect(page.locator(".field-error #lines-1-icc-error")).to_be_visible()
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)  # line 1 is right
    return link


def follow_to_the_bad_icc(page, link):
    """The error summary's link puts the keyboard on line 2's ICC, with its error, its label and the
    line's number in view."""
    link.click()
    expect(cell(page, 2, "SIM card number (ICC)")).to_be_focused()
    for seen in (
        page.locator("#lines-1-icc-error"),
        page.locator("label[for=lines-1-icc]"),
        page.get_by_role("heading", name="Line 2", exact=True),
    ):
        expect(seen).to_be_in_viewport()


def expect_every_field_in_view_sideways(page):
    """No field of any line sticks out past the window's right edge (nor is cut off on the left)."""
    width = page.viewport_size["width"]
    for field in page.locator(".batch-line :is(input, select, .error-message, button)").all():
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (field, box, width)


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


def window_shot(w: Walker, name: str):
    """A screenshot of the window as it is scrolled now (what follows a link shows), numbered as w.look's."""
    w.seen += 1
    w.page.screenshot(path=str(w.folder / f"{w.seen:02d}-{name}.png"))


def start_mobile_batch(page):
    """Subs: "For several people at once" Mobile, then Add Subs for several people."""
    page.get_by_label("For several people at once:").select_option("mobile")
    page.get_by_role("button", name="Add Subs for several people").click()


def walker(page, auditor, js: bool, name: str) -> Walker:
    w = Walker(page, auditor, js, name, errors=True, artifacts=ARTIFACTS.parent / "batch")
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
    expect(cell(page, 2, "Person (e-mail address)")).to_be_focused()  # the new line's first field
    expect(page.locator("#announcer")).to_have_text("Line 2 added")
    fill_line(page, 2, BUYER, "esim")
    page.get_by_role("button", name="Add a line").click()
    expect(cell(page, 3, "Person (e-mail address)")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Line 3 added")
    fill_line(page, 3, ERIK, "physical", BAD_ICC)
    expect(page.locator(".batch-line")).to_have_count(3)
    w.look("batch-three-lines")
    page.get_by_role("button", name="Remove line 2").click()
    expect_lines(page, (ANNA, "esim", ""), (ERIK, "physical", BAD_ICC))
    expect(cell(page, 1, "Person (e-mail address)")).to_be_focused()  # the line before the one removed
    expect(page.locator("#announcer")).to_have_text("Line 2 removed")
    assert_same_document(page, "Add a line and Remove")
    assert page.url == batch_url
    expect_shared(page, "Unbound: current price list")

    page.get_by_role("button", name="Check and continue").click()
    link = expect_bad_icc_on_line_2(page)
    expect(page.locator(".error-summary")).to_be_focused()
    assert_same_document(page, "Check and continue with a problem")
    expect(page).to_have_title(re.compile(rf"^Error: {TITLE} – "))
    w.look("batch-error")
    follow_to_the_bad_icc(page, link)
    window_shot(w, "batch-error-at-the-field")
    cell(page, 2, "SIM card number (ICC)").fill(ICC)

    page.get_by_role("button", name="Check and continue").click()
    expect(heading(page, "Check your answers")).to_be_visible()
    expect(page).to_have_url(batch_url + "/review")
    expect(page.get_by_text("Mobile subscriptions for 2 people")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile(r"^Physical SIM, ICC 8946"))).to_be_visible()
    w.look("review")
    page.get_by_role("button", name="Buy 2 subscriptions").click()
    expect_done(page)
    w.look("done")
    auditor.assert_clean()


def test_removing_the_first_line_with_javascript_puts_focus_on_the_lines_heading(live_server, new_context, console):  # noqa: F811
    page = new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server)
    start_mobile_batch(page)
    fill_line(page, 1, ANNA, "esim")
    page.get_by_role("button", name="Add a line").click()
    fill_line(page, 2, ERIK, "esim")
    page.get_by_role("button", name="Remove line 1").click()
    expect(page.get_by_role("heading", name="One line per person")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Line 1 removed")
    expect_lines(page, (ERIK, "esim", ""))


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
    w.look("batch")  # the page itself does not scroll sideways (Walker.assert_fits)
    expect_every_field_in_view_sideways(page)

    fill_shared(page, "Bound: prices from your contract")
    expect(
        page.get_by_text("Unbound SEK 99.00, bound SEK 79.00 per month · All calls within Sweden included")
    ).to_be_visible()
    fill_line(page, 1, ANNA, "esim")
    post("Add a line")
    expect(cell(page, 2, "Person (e-mail address)")).to_be_focused()  # the page came back at the new line
    fill_line(page, 2, BUYER, "esim")
    post("Add a line")
    fill_line(page, 3, ERIK, "physical", BAD_ICC)
    w.look("batch-three-lines")
    post("Remove line 2")
    expect_lines(page, (ANNA, "esim", ""), (ERIK, "physical", BAD_ICC))
    expect_shared(page, "Bound: prices from your contract")

    post("Check and continue")
    link = expect_bad_icc_on_line_2(page)
    expect(page).to_have_title(re.compile(rf"^Error: {TITLE} – "))
    w.look("batch-error")
    expect_every_field_in_view_sideways(page)
    follow_to_the_bad_icc(page, link)
    window_shot(w, "batch-error-at-the-field")
    cell(page, 2, "SIM card number (ICC)").fill(SECOND_ICC)
    post("Check and continue")
    expect(heading(page, "Check your answers")).to_be_visible()
    expect(page.get_by_text("Fixed call rate, SEK 79.00 per month")).to_be_visible()  # bound, as shown
    w.look("review")
    post("Buy 2 subscriptions")  # the binding period not accepted
    expect(page.locator(".error-summary")).to_contain_text("Accept the binding period")
    w.look("review-error")
    page.get_by_label(re.compile("^I accept the binding period until ")).check()
    post("Buy 2 subscriptions")
    expect_done(page)
    w.look("done")
    auditor.assert_clean()


LAYOUTS = [
    pytest.param(True, DESKTOP, id="js-desktop"),
    pytest.param(False, DESKTOP, id="nojs-desktop"),
    pytest.param(True, PHONE, id="js-390"),
    pytest.param(False, PHONE, id="nojs-390"),
]


@pytest.mark.parametrize(("js", "viewport"), LAYOUTS)
def test_no_line_scrolls_sideways(live_server, new_context, console, request, js, viewport):  # noqa: F811
    """Every field and error of a line is in view without scrolling sideways."""
    console.expect_status(422)
    page = new_context(java_script_enabled=js, viewport=viewport).new_page()
    auditor = Auditor(new_context().new_page())
    w = walker(page, auditor, js, f"layout-{request.node.callspec.id}")
    log_in(page, live_server)
    start_mobile_batch(page)
    expect(heading(page, TITLE)).to_be_visible()
    fill_shared(page, "Unbound: current price list")
    fill_line(page, 1, ANNA, "esim")
    page.get_by_role("button", name="Add a line").click()
    fill_line(page, 2, ERIK, "physical", BAD_ICC)
    cell(page, 2, "Number").select_option("port")  # and the porting columns left empty: more errors
    page.get_by_role("button", name="Check and continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    w.look("errors")  # no sideways scrolling of the page (Walker.assert_fits), axe
    expect_every_field_in_view_sideways(page)
    for error in page.locator(".batch-line .error-message").all():
        expect(error).to_be_visible()
    link = page.locator(".error-summary").get_by_role("link", name=re.compile(r"^Line 2, SIM card number \(ICC\)"))
    follow_to_the_bad_icc(page, link)
    window_shot(w, "at-the-icc")
    auditor.assert_clean()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_reading_a_file_keeps_the_choices_on_screen(live_server, new_context, console, tmp_path, js):  # noqa: F811
    console.expect_status(422)
    page = new_context(java_script_enabled=js, viewport=DESKTOP).new_page()
    auditor = Auditor(new_context().new_page())
    w = walker(page, auditor, js, f"file-{'js' if js else 'nojs'}")
    log_in(page, live_server)
    start_mobile_batch(page)
    expect(heading(page, TITLE)).to_be_visible()
    fill_shared(page, "Bound: prices from your contract")  # ticked, never saved
    page.get_by_role("button", name="Read the file").click()  # no file chosen
    expect(page.locator(".error-summary")).to_contain_text("Choose a CSV file")
    expect_shared(page, "Bound: prices from your contract")
    expect(page.locator(".batch-line")).to_have_count(1)  # the blank line 1, to type in
    w.look("no-file")
    team = tmp_path / "team.csv"
    team.write_text(f"email,number_choice,sim\n{ANNA},new,esim\n{ERIK},new,esim\n{BUYER},new,esim\n")
    page.get_by_label(re.compile("^CSV file")).set_input_files(team)
    page.get_by_role("button", name="Read the file").click()
    notice = page.get_by_role("status").filter(has_text="3 lines read from team.csv")
    expect(notice).to_be_visible()
    if js:
        expect(notice).to_be_focused()
    expect_lines(page, (ANNA, "esim", ""), (ERIK, "esim", ""), (BUYER, "esim", ""))
    expect_shared(page, "Bound: prices from your contract")
    w.look("read")
    auditor.assert_clean()


def test_back_to_subs_keeps_what_was_typed(live_server, new_context, console):  # noqa: F811
    page = new_context(viewport=PHONE).new_page()
    log_in(page, live_server)
    start_mobile_batch(page)
    fill_shared(page, "Unbound: current price list")
    fill_line(page, 1, ERIK, "physical", ICC)
    page.get_by_role("button", name="Back to Subs").click()
    expect(heading(page, "Subs")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Resume")).first.click()
    expect(heading(page, TITLE)).to_be_visible()
    expect_shared(page, "Unbound: current price list")
    expect_lines(page, (ERIK, "physical", ICC))
