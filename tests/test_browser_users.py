"""Users & Teams → Users in headless Chromium: live search, expand, edit pen, Done, Save, with JavaScript on and off.

Uses the live server, browser and console-watching fixtures of test_browser.py: any console error,
uncaught exception or CSP violation fails the test. Screenshots go to test-artifacts/screenshots/.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    PHONE,
    accept_binding,
    assert_same_document,
    choose,
    chromium,
    console,
    heading,
    live_server,
    log_in,
    mark_document,
    new_context,
    nojs_page,
    page,
    select_user,
    shot,
    start_order,
)
from wizard.db import make_engine
from wizard.models import PhoneNumber, User

pytestmark = pytest.mark.browser

ANNA_FIXED = "08-123 456 70"
FIRST_FREE_MOBILE = "070-123 40 00"  # what "A new number" gives the first mobile order
MEX_LINE = "MEX: +46 70 123 40 00 ↔ +46 8 123 456 70"


def next_step(page, title):
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, title)).to_be_visible()


def buy_pbx_mobile_for_anna(page):
    """A mobile subscription for Anna Berg through the wizard: PBX-integrated, MEX left off."""
    start_order(page, "mobile")
    page.get_by_label("Bound: prices from your contract").check()
    next_step(page, "Call rate")
    page.get_by_label("Fixed call rate").check()
    next_step(page, "Data package")
    page.get_by_label("20 GB").check()
    next_step(page, "Number")
    choose(page, "A new number")
    next_step(page, "SIM")
    choose(page, "eSIM")
    next_step(page, "PBX")
    choose(page, "PBX-integrated")
    next_step(page, "User")
    select_user(page, "Anna Berg")
    next_step(page, "Top-up")  # MEX is off: no MEX pairing step
    expect(page.get_by_role("navigation", name="Order progress").get_by_text("MEX pairing")).to_have_count(0)
    page.get_by_label("No", exact=True).check()
    next_step(page, "Check your answers")
    accept_binding(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "Subscription ordered")).to_be_visible()


def insert_pbx_mobile_for_anna(tmp_path):
    """The same number inserted straight into the live server's database (as if bought earlier)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    with engine.begin() as conn:
        anna = conn.execute(select(User.id, User.organisation_id).where(User.email == "anna@nordlys.test")).one()
        conn.execute(
            PhoneNumber.__table__.update()
            .where(PhoneNumber.e164 == "+46701234000")
            .values(status="assigned", organisation_id=anna.organisation_id, user_id=anna.id, pbx=True)
        )
    engine.dispose()


def panel_of(page):
    return page.locator("form.user-panel")


def test_mex_on_a_user_with_javascript(live_server, page, console):
    console.expect_status(422)
    log_in(page, live_server)
    buy_pbx_mobile_for_anna(page)

    page.get_by_role("navigation", name="Organization Settings").get_by_role("link", name="Users").click()
    expect(heading(page, "Users")).to_be_visible()
    mark_document(page)
    page.get_by_label("Search users").press_sequentially("Anna", delay=30)
    expect(page.locator(".user-item")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/settings/users\?q=Anna$"))
    shot(page, "users-01-search")

    page.get_by_role("link", name="Anna Berg").click()
    panel = panel_of(page)
    expect(panel.get_by_role("heading", name=re.compile("Subscriptions & Numbers"))).to_be_focused()
    expect(page).to_have_url(re.compile(r"/settings/users/\d+$"))
    expect(panel.get_by_role("cell", name="20 GB")).to_be_visible()
    expect(panel.get_by_text(FIRST_FREE_MOBILE).first).to_be_visible()

    panel.get_by_role("button", name=f"Edit {ANNA_FIXED}").click()
    connected = panel.get_by_label("Connected")
    expect(connected).to_be_focused()
    connected.fill("08-123 457 00")  # a fixed number in the mobile field
    panel.get_by_role("button", name="Done").click()
    expect(panel.locator(".error-message")).to_contain_text("That is not a mobile number")
    expect(connected).to_have_attribute("aria-invalid", "true")
    shot(page, "users-02-editor-error")

    connected.fill("0701234000")
    connected.press("Enter")  # Enter in the field means Done
    pending = panel.get_by_text(f"Pending: connect {FIRST_FREE_MOBILE} to {ANNA_FIXED} (not saved)")
    expect(pending).to_be_visible()
    expect(page.locator("[data-unsaved]")).to_have_count(1)
    shot(page, "users-03-pending")

    # Leaving now asks first (beforeunload); staying keeps the pending change.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Subs").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    expect(pending).to_be_visible()

    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_text("Saved. The MEX connections of Anna Berg are updated.")).to_be_visible()
    expect(panel.get_by_text(MEX_LINE)).to_be_visible()
    expect(page.locator("[data-unsaved]")).to_have_count(0)
    assert_same_document(page, "Users: search, expand, edit, Done and Save")
    shot(page, "users-04-saved")

    page.reload()  # the pushed URL is the user's own page
    expect(panel_of(page).get_by_text(MEX_LINE)).to_be_visible()
    page.get_by_role("link", name="Subs").click()  # nothing pending: no question
    expect(heading(page, "Subs")).to_be_visible()


def test_mex_on_a_user_without_javascript(live_server, nojs_page, tmp_path):
    page = nojs_page
    insert_pbx_mobile_for_anna(tmp_path)
    log_in(page, live_server)
    page.goto(f"{live_server}/settings/users")
    page.get_by_label("Search users").fill("anna")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/users\?q=anna$"))
    expect(page.locator(".user-item")).to_have_count(1)

    page.get_by_role("link", name="Anna Berg").click()
    expect(page).to_have_url(re.compile(r"/settings/users/\d+$"))
    panel = panel_of(page)
    panel.get_by_role("button", name=f"Edit {ANNA_FIXED}").click()
    panel.get_by_label("Connected").fill("+46 70 123 40 00")
    panel.get_by_role("button", name="Done").click()
    expect(panel.get_by_text(f"Pending: connect {FIRST_FREE_MOBILE} to {ANNA_FIXED} (not saved)")).to_be_visible()
    shot(page, "users-nojs-01-pending")

    panel.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/users/\d+$"))
    expect(page.get_by_text("Saved. The MEX connections of Anna Berg are updated.")).to_be_visible()
    expect(panel.get_by_text(MEX_LINE)).to_be_visible()
    shot(page, "users-nojs-02-saved")

    # Removing: clear Connected, Done, Save.
    panel.get_by_role("button", name=f"Edit {ANNA_FIXED}").click()
    expect(panel.get_by_label("Connected")).to_have_value(re.compile(r"^070-123\s40\s00$"))
    panel.get_by_label("Connected").fill("")
    panel.get_by_role("button", name="Done").click()
    expect(panel.get_by_text(f"Pending: remove the MEX connection of {ANNA_FIXED} (not saved)")).to_be_visible()
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_text(MEX_LINE)).to_have_count(0)
    expect(panel.get_by_text("No MEX connection")).to_be_visible()


def test_users_page_on_a_phone(live_server, new_context, tmp_path):
    insert_pbx_mobile_for_anna(tmp_path)
    page = new_context(viewport=PHONE).new_page()
    log_in(page, live_server)
    page.goto(f"{live_server}/settings/users")
    page.get_by_role("link", name="Anna Berg").click()
    panel = panel_of(page)
    panel.get_by_role("button", name=f"Edit {ANNA_FIXED}").click()
    panel.get_by_label("Connected").fill("070-123 40 00")
    panel.get_by_role("button", name="Done").click()
    expect(panel.get_by_text("(not saved)")).to_be_visible()
    shot(page, "users-phone-pending")
