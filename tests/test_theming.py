"""Theming (docs/theming.md): THEME adds its stylesheet after app.css on every layout, an unknown
theme stops start-up, a theme sets only app.css's custom properties with colours at WCAG AA, and
in a real browser axe finds no serious violation under either theme."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, render_template
from playwright.sync_api import expect

from tests.conftest import DEMO, TEST_CONFIG, Browser
from tests.test_browser import (  # noqa: F401  (fixtures are used by name)
    SCREENSHOTS,
    choose,
    chromium,
    console,
    heading,
    live_server,
    log_in,
    new_context,
    page,
    select_user,
    start_order,
)
from wizard import HostOrganisation, HostPerson, config, create_app, db, mount
from wizard.seed import seed_demo

STATIC = Path(__file__).resolve().parent.parent / "static"
THEMES = ["ember", "fjord"]
SUBS = "/settings/account/subs"


# --------------------------------------------------------------------------- reading pages and CSS


class Stylesheets(HTMLParser):
    """The addresses of a page's <link rel="stylesheet">, in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.hrefs.append(attrs["href"])


def stylesheets(html: str) -> list[str]:
    return Stylesheets(html).hrefs


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) of each rule of a flat stylesheet (no @media), comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = [d.split(":", 1) for d in body.split(";") if d.strip()]
        found.append((selector.strip(), {name.strip(): value.strip() for name, value in declarations}))
    return found


def app_css_properties() -> dict[str, str]:
    """The custom properties app.css declares on :root, with their defaults."""
    selector, declarations = rules((STATIC / "app.css").read_text())[0]
    assert selector == ":root"
    return declarations


def theme_properties(theme: str | None) -> dict[str, str]:
    """What the browser ends up with: app.css's defaults, then the theme's values."""
    values = app_css_properties()
    if theme:
        values.update(rules((STATIC / "themes" / f"{theme}.css").read_text())[0][1])
    return values


# --------------------------------------------------------------------------- apps


@pytest.fixture(autouse=True)
def no_theme_in_environment(monkeypatch):
    """A THEME in the environment of the test run must not choose the theme of these tests."""
    monkeypatch.delenv("THEME", raising=False)


@pytest.fixture
def database(sqlite_template, tmp_path):
    """A migrated SQLite file holding the demo data (theming is not database behaviour: SQLite only)."""
    path = tmp_path / "theming.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def standalone(database: str, tmp_path, **settings):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database, **settings}, instance_path=str(tmp_path))
    with app.app_context():
        seed_demo(db.session())
    return app


HOST_BASE = """<!doctype html><html><head><title>{% block title %}{% endblock %} · Acme</title>
<link rel="stylesheet" href="/acme.css">{% block head %}{% endblock %}</head><body>
{% block content %}{% endblock %}</body></html>"""
ALICE = HostPerson(
    key="u-1",
    email="alice@acme.test",
    name="Alice Ek",
    organisation=HostOrganisation(key="org-1", name="Acme AB", org_number="556036-0793"),
    permissions=frozenset({"account"}),
)


def host(database: str, tmp_path, **settings) -> Flask:
    """A bare host app with the wizard mounted at /telephony inside its own layout, Alice logged in."""
    templates = tmp_path / "host-templates"
    templates.mkdir(exist_ok=True)
    (templates / "host_base.html").write_text(HOST_BASE)
    app = Flask("host", instance_path=str(tmp_path / "host"), template_folder=str(templates))
    app.config.update({k: v for k, v in TEST_CONFIG.items() if k != "SECRET_KEY"}, SECRET_KEY="host", **settings)
    mount(app, identity=lambda: ALICE, base_template="host_base.html", database_url=database)
    return app


# --------------------------------------------------------------------------- THEME and the layouts


def test_the_theme_stylesheet_follows_app_css_on_every_portal_page(database, tmp_path):
    app = standalone(database, tmp_path, THEME="fjord")
    browser = Browser(app.test_client())
    pages = {"login": browser.get("/login")}
    browser.login(*DEMO["buyer"])
    pages["subs"] = browser.get(SUBS)
    pages["404"] = browser.get("/settings/no-such-page")
    assert [r.status_code for r in pages.values()] == [200, 200, 404]
    for name, response in pages.items():
        assert stylesheets(response.get_data(as_text=True)) == ["/static/app.css", "/static/themes/fjord.css"], name
    sheet = browser.get("/static/themes/fjord.css")
    sheet.close()  # a file response: close it, as a server would
    assert sheet.status_code == 200 and sheet.mimetype == "text/css"


@pytest.mark.parametrize(
    "template",
    [
        "wizard/embed.html",  # framed in another site: no chrome
        "wizard/errors/500.html",  # base.html alone: renders even when the database is down
    ],
)
def test_the_theme_stylesheet_is_on_the_chromeless_layouts_too(database, tmp_path, template):
    app = standalone(database, tmp_path, THEME="ember")
    with app.test_request_context(SUBS):
        html = render_template(template)
    assert stylesheets(html) == ["/static/app.css", "/static/themes/ember.css"]


def test_without_a_theme_only_app_css_is_loaded(database, tmp_path):
    client = standalone(database, tmp_path).test_client()
    assert stylesheets(client.get("/login").get_data(as_text=True)) == ["/static/app.css"]


def test_a_mounted_wizard_adds_the_theme_after_the_hosts_stylesheet_and_app_css(database, tmp_path):
    client = host(database, tmp_path, THEME="ember").test_client()
    subs = client.get("/telephony" + SUBS)
    assert subs.status_code == 200
    assert stylesheets(subs.get_data(as_text=True)) == [
        "/acme.css",
        "/telephony/static/app.css",
        "/telephony/static/themes/ember.css",
    ]
    sheet = client.get("/telephony/static/themes/ember.css")
    sheet.close()
    assert sheet.status_code == 200


def test_the_theme_can_come_from_the_environment(database, tmp_path, monkeypatch):
    monkeypatch.setenv("THEME", "fjord")
    client = standalone(database, tmp_path).test_client()
    assert stylesheets(client.get("/login").get_data(as_text=True))[-1] == "/static/themes/fjord.css"


@pytest.mark.parametrize("theme", ["fjrod", "Fjord", "fjord.css", "../app", "themes/ember"])
def test_an_unknown_theme_stops_the_app_at_start_up(tmp_path, theme):
    with pytest.raises(RuntimeError) as refused:
        create_app({**TEST_CONFIG, "THEME": theme}, instance_path=str(tmp_path))
    assert str(refused.value).startswith(f"THEME {theme!r} is not a theme. Set THEME to one of: ember, fjord ")


def test_an_unknown_theme_stops_the_host_at_mount(database, tmp_path):
    with pytest.raises(RuntimeError, match="THEME 'dark' is not a theme"):
        host(database, tmp_path, THEME="dark")


# --------------------------------------------------------------------------- the stylesheets


def test_the_themes_are_the_files_in_static_themes():
    assert config.themes() == THEMES == sorted(p.stem for p in (STATIC / "themes").glob("*.css"))


@pytest.mark.parametrize("theme", THEMES)
def test_a_theme_sets_only_app_css_custom_properties(theme):
    found = rules((STATIC / "themes" / f"{theme}.css").read_text())
    assert [selector for selector, _ in found] == [":root"]
    assert set(found[0][1]) <= set(app_css_properties())
    assert {"--wizard-brand", "--wizard-text", "--wizard-background", "--wizard-radius", "--wizard-font"} <= set(
        found[0][1]
    )


def test_app_css_uses_only_the_custom_properties_it_declares():
    used = set(re.findall(r"var\((--[\w-]+)\)", (STATIC / "app.css").read_text()))
    assert used == set(app_css_properties())


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), f"{colour}: write theme colours as #rrggbb"
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Text colour on background colour, as app.css pairs them (docs/theming.md); WCAG AA wants 4.5:1.
TEXT_PAIRS = [
    ("--wizard-text", "--wizard-background"),
    ("--wizard-text", "--wizard-surface"),
    ("--wizard-text-muted", "--wizard-background"),
    ("--wizard-text-muted", "--wizard-surface"),
    ("--wizard-brand", "--wizard-background"),  # links
    ("--wizard-brand", "--wizard-surface"),  # the current nav item
    ("--wizard-brand-contrast", "--wizard-brand"),  # buttons, the header
    ("--wizard-error", "--wizard-background"),
    ("#ffffff", "--wizard-error"),  # the warning button
    ("#ffffff", "--wizard-success"),  # the "Subscription ordered" panel
    ("#000000", "--wizard-focus"),  # the skip link
]


@pytest.mark.parametrize("theme", [None, *THEMES], ids=["default", *THEMES])
def test_every_text_colour_meets_wcag_aa(theme):
    values = theme_properties(theme)
    ratios = {(fg, bg): contrast(values.get(fg, fg), values.get(bg, bg)) for fg, bg in TEXT_PAIRS}
    assert {pair: round(r, 2) for pair, r in ratios.items() if r < 4.5} == {}


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(params=THEMES)
def theme(request, monkeypatch):
    """Each theme in turn, through the environment (the live server's app reads THEME from it)."""
    monkeypatch.setenv("THEME", request.param)
    return request.param


@pytest.fixture
def themed_server(theme, live_server):  # noqa: F811  (live_server is the imported fixture)
    """The live server, started after `theme` set THEME."""
    return live_server


def rgb(colour: str) -> str:
    """#rrggbb as getComputedStyle gives it."""
    return "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))


class Audit:
    """axe on each page; collects its serious and critical violations, and checks it tested contrast."""

    def __init__(self):
        self.failures: list = []
        self.audited: list[str] = []

    def check(self, browser_page, where: str):
        results = Axe().run(browser_page).response
        self.audited.append(where)
        assert "color-contrast" in {rule["id"] for rule in results["passes"]}, f"{where}: axe checked no contrast"
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        if serious:
            self.failures.append((where, serious))


@pytest.mark.browser
def test_axe_finds_no_serious_violation_under_the_theme(themed_server, theme, page, console):  # noqa: F811
    console.expect_status(422)
    values = theme_properties(theme)
    audit = Audit()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, themed_server)
    # to_have_css waits for the page's stylesheets (the click's navigation may still be loading the theme)
    expect(page.locator("body")).to_have_css("background-color", rgb(values["--wizard-background"]))
    audit.check(page, "subs")
    start_order(page, "mobile")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".error-summary")).to_be_focused()
    audit.check(page, "price basis with an error")
    page.screenshot(path=str(SCREENSHOTS / f"theme-{theme}-step.png"), full_page=True)
    page.get_by_label("Unbound: current price list").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Call rate")).to_be_visible()
    page.get_by_label("Fixed call rate").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Data package")).to_be_visible()
    page.get_by_label("20 GB").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Number")).to_be_visible()
    choose(page, "Move (port) an existing number")
    audit.check(page, "number with the porting fields")
    choose(page, "A new number")
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "SIM")).to_be_visible()
    choose(page, "eSIM")
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "PBX")).to_be_visible()
    choose(page, "Independent")
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "User")).to_be_visible()
    select_user(page, "Erik Lund")
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Top-up")).to_be_visible()
    page.get_by_label("No").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(heading(page, "Check your answers")).to_be_visible()
    audit.check(page, "check your answers")
    page.screenshot(path=str(SCREENSHOTS / f"theme-{theme}-check.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(heading(page, "Subscription ordered")).to_be_visible()
    audit.check(page, "subscription ordered")
    assert audit.failures == []
    assert audit.audited == [
        "subs",
        "price basis with an error",
        "number with the porting fields",
        "check your answers",
        "subscription ordered",
    ]
