"""Prices in Chromium: "Your order" follows an option in place (no page load, focus kept, the new
monthly total announced), sits beside the form on a desktop and above it, collapsible, on a phone,
passes axe on every step; an unticked binding acknowledgement is refused with the error summary
focused. Expected amounts come from the seed's PRICES table."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.test_accessibility import serious_violations
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    PHONE,
    accept_binding,
    assert_same_document,
    chromium,
    console,
    heading,
    live_server,
    log_in,
    mark_document,
    new_context,
    page,
    select_user,
    shot,
    start_order,
)
from wizard.seed import PRICES

pytestmark = pytest.mark.browser

BOUND_MONTHLY = {row[0]: row[7] for row in PRICES}  # code -> the contract's monthly fee in öre


def amount(text: str) -> int:
    """'SEK 1,234.50' -> 123450 (öre)."""
    return int(Decimal(re.sub(r"[^\d.]", "", text)) * 100)


def monthly_total(page) -> int:
    return amount(page.locator("#order-summary tfoot td").first.text_content())


def next_step(page, title):
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, title)).to_be_visible()


def test_the_summary_follows_the_data_package_in_place(live_server, page):
    log_in(page, live_server)
    start_order(page, "mobile")
    page.get_by_label("Bound: prices from your contract").check()
    next_step(page, "Call rate")
    page.get_by_label("Fixed call rate").check()
    next_step(page, "Data package")
    so_far = BOUND_MONTHLY["base-mobile"] + BOUND_MONTHLY["rate-fixed"]
    assert monthly_total(page) == so_far

    summary = page.locator("#order-summary")
    box, form = summary.bounding_box(), page.locator("#step-form").bounding_box()
    assert box["x"] > form["x"] + form["width"] - 1, "on a desktop the summary stands beside the form"
    mark_document(page)
    for label, code in (("20 GB", "data-20"), ("Unlimited", "data-unlimited")):
        option = page.get_by_label(label, exact=True)
        option.check()
        total = so_far + BOUND_MONTHLY[code]
        expect(summary.locator("tbody th").last).to_have_text(label)
        expect(summary.locator("tfoot td").first).to_have_text(re.compile(rf"{total // 100}\.00"))
        expect(option).to_be_focused()
        expect(page.locator("#announcer")).to_have_text(re.compile(rf"^Monthly total: .*{total // 100}\.00"))
    assert_same_document(page, "changing the data package")
    expect(page.get_by_label("Unlimited", exact=True)).to_be_checked()


def test_on_a_phone_the_summary_is_a_closed_block_above_the_form_and_passes_axe_open(live_server, new_context):
    """Every step with the summary is audited on a desktop, with and without JavaScript, by
    test_accessibility; here the phone's collapsible block, opened, before and after a step swaps in."""
    page = new_context(viewport=PHONE).new_page()
    log_in(page, live_server)
    start_order(page, "mobile")
    details = page.locator("#order-summary details")
    expect(details).not_to_have_attribute("open", "")
    assert page.locator("#order-summary").bounding_box()["y"] < page.locator("#step h1").bounding_box()["y"]
    page.locator("#order-summary summary").click()
    expect(details).to_have_attribute("open", "")
    failures = serious_violations(page)
    for label, title in [("Bound: prices from your contract", "Call rate"), ("Fixed call rate", "Data package")]:
        page.get_by_label(label, exact=True).check()
        next_step(page, title)
    expect(details).to_have_attribute("open", "")  # opened, it stays open from step to step
    expect(page.locator("#order-summary tbody th")).to_have_text(["Mobile subscription", "Fixed call rate"])
    failures += serious_violations(page)
    shot(page, "phone-order-summary")
    assert failures == []


def test_an_unticked_binding_acknowledgement_is_refused_with_the_error_summary_focused(live_server, page, console):
    console.expect_status(422)
    log_in(page, live_server)
    start_order(page, "fixed")
    for label, title in [
        ("Bound: prices from your contract", "Call rate"),
        ("Fixed call rate", "Number"),
        ("A new number", "PBX"),
        ("Independent", "User"),
    ]:
        page.get_by_label(label, exact=True).check()
        next_step(page, title)
    select_user(page, "Erik Lund")
    next_step(page, "Check your answers")
    acknowledgement = page.get_by_label(re.compile(r"^I accept the binding period until "))
    expect(acknowledgement).not_to_be_checked()

    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Accept the binding period to save this order")
    expect(page).to_have_title(re.compile(r"^Error: Check your answers"))
    expect(heading(page, "Check your answers")).to_be_visible()

    accept_binding(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
