"""The API tokens page and the API's readable description in Chromium, JavaScript on and off, on a
desktop and a 390 px phone: a token made, shown in a read-only input that selects whole, the reload
that posts the form again making no second token, a revocation confirmed on its own page; axe on
every page (serious findings, and moderate ones about landmarks), screenshots to test-artifacts/tokens/."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    DESKTOP,
    chromium,
    console,
    heading,
    live_server,
    log_in,
    new_context,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "tokens"
PHONE = {"width": 390, "height": 844}
VIEWS = [
    pytest.param(True, DESKTOP, id="js-1280"),
    pytest.param(False, DESKTOP, id="nojs-1280"),
    pytest.param(True, PHONE, id="js-390"),
    pytest.param(False, PHONE, id="nojs-390"),
]


class Looker:
    """Screenshots a page and runs axe on it (JavaScript off: on its HTML, opened in a second,
    scripting page); collects what axe finds."""

    def __init__(self, page, viewer, js: bool, folder: Path):
        self.page, self.viewer, self.js, self.folder = page, viewer, js, folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.findings: list = []

    def look(self, name: str):
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name}: the page is {overflow}px wider than the screen"
        audited = self.page
        if not self.js:
            html, url = self.page.content(), self.page.url
            self.viewer.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
            self.viewer.goto(url)
            self.viewer.unroute(url)
            audited = self.viewer
        for v in Axe().run(audited).response["violations"]:
            about_landmarks = v["id"] == "region" or v["id"].startswith("landmark")
            if v["impact"] in {"serious", "critical"} or (v["impact"] == "moderate" and about_landmarks):
                self.findings.append((name, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]))


@pytest.fixture
def looked(new_context, request):  # noqa: F811
    def _open(js: bool, viewport: dict):
        page = new_context(java_script_enabled=js, viewport=viewport).new_page()
        viewer = new_context(viewport=viewport).new_page()
        return page, Looker(page, viewer, js, ARTIFACTS / request.node.callspec.id)

    return _open


@pytest.mark.parametrize(("js", "viewport"), VIEWS)
def test_a_token_is_made_shown_whole_and_revoked_after_asking(live_server, looked, js, viewport):  # noqa: F811
    page, looker = looked(js, viewport)
    log_in(page, live_server, "buyer")
    page.get_by_role("link", name="API tokens").click()
    expect(heading(page, "API tokens")).to_be_visible()
    looker.look("01-empty")

    page.get_by_label("Token name").fill("Intranet sync")
    page.get_by_role("button", name="Make token").click()
    shown = page.get_by_role("textbox", name="Token", exact=True)
    expect(shown).to_be_visible()
    expect(shown).not_to_be_editable()
    token = shown.input_value()
    assert token.startswith("nbt_") and len(token) == 47
    shown.click()
    page.keyboard.press("Control+A")  # a double-click would stop at a "-"; select-all takes it whole
    selected = shown.evaluate("e => e.value.slice(e.selectionStart, e.selectionEnd)")
    assert selected == token
    looker.look("02-new-token")

    page.reload()  # the browser posts the form again
    expect(page.get_by_text("This token was made already; it is shown only once.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Token", exact=True)).to_have_count(0)
    expect(page.locator(".tokens-table tbody tr")).to_have_count(1)
    assert token not in page.content()
    looker.look("03-after-reload")

    page.get_by_role("link", name="Revoke token “Intranet sync”").click()
    expect(heading(page, "Revoke token “Intranet sync”?")).to_be_visible()
    expect(page.get_by_text("Scripts using it stop working at once.")).to_be_visible()
    looker.look("04-confirm-revoke")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".tokens-table tbody tr")).to_contain_text("Active")

    page.get_by_role("link", name="Revoke token “Intranet sync”").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token “Intranet sync” revoked. It no longer works.")).to_be_visible()
    expect(page.locator(".tokens-table tbody tr")).to_contain_text("Revoked")
    looker.look("05-revoked")
    assert looker.findings == []


@pytest.mark.parametrize(("js", "viewport"), VIEWS)
def test_the_api_description_reads_and_links_within_itself(live_server, looked, js, viewport):  # noqa: F811
    page, looker = looked(js, viewport)
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subs wizard API v1")
    looker.look("01-docs")
    page.get_by_role("link", name="POST /api/v1/orders").click()
    assert page.url.endswith("#op-post-api-v1-orders")
    expect(page.locator("#op-post-api-v1-orders")).to_be_in_viewport()
    page.locator("#op-post-api-v1-orders").locator("xpath=..").get_by_role("link", name="OrderRequest").click()
    expect(page.get_by_role("heading", name="OrderRequest", exact=True)).to_be_in_viewport()
    page.get_by_role("button", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert page.url.split("#")[0].endswith("/api/v1/docs")
    looker.look("02-docs-swedish")
    described = page.get_by_role("link", name="openapi.json")  # not opened: a JSON tab asks for /favicon.ico
    assert page.request.get(live_server + described.get_attribute("href")).json()["openapi"] == "3.1.0"
    page.get_by_role("link", name="Tillbaka till Abonnemang").click()
    expect(page.get_by_role("heading", name="Logga in")).to_be_visible()  # Subs, after logging in
    assert looker.findings == []
