"""Choosing the language: the browser's Accept-Language, ?lang= for one page, and the header's switch
(a form, so it works without JavaScript) remembered in the session and, once logged in, with the
person, so it holds at their next login from any browser. Money and dates follow the language."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import DEMO, Browser, csrf_token
from tests.pages import page
from wizard.models import User

SUBS = "/settings/account/subs"
SPACES = {0x00A0: " ", 0x202F: " "}


def html_lang(response) -> str:
    return page(response).find("html").attrs["lang"]


def client_speaking(app, accept: str) -> Browser:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    return Browser(client)


def switch(b: Browser, lang: str, on: str):
    """Press the header's button for `lang` on page `on`, as a browser without JavaScript does."""
    shown = page(b.get(on))
    form = shown.find("form", cls="language-switch")
    assert form.find("button", value=lang) is not None, f"no {lang} button on {on}"
    fields = {i.attrs["name"]: i.attrs["value"] for i in form.find_all("input")}
    return b.client.post(form.attrs["action"], data={**fields, "lang": lang})


def saved_locale(query, email):
    return query(lambda s: s.scalar(select(User.locale).where(User.email == email)))


def test_the_browsers_language_decides_until_a_choice_is_made(app):
    assert html_lang(client_speaking(app, "sv-SE,sv;q=0.9,en;q=0.8").get("/login")) == "sv"
    assert html_lang(client_speaking(app, "en-GB,en;q=0.9").get("/login")) == "en"
    assert html_lang(client_speaking(app, "de-DE,de;q=0.9").get("/login")) == "en"  # not ours: the default


def test_lang_in_the_address_shows_that_page_in_that_language(app):
    swedish_browser = client_speaking(app, "sv")
    assert html_lang(swedish_browser.get("/login?lang=en")) == "en"
    assert html_lang(swedish_browser.get("/login")) == "sv"  # for that page only
    assert html_lang(swedish_browser.get("/login?lang=xx")) == "sv"  # not ours: ignored


def test_the_switch_before_logging_in_holds_for_the_session_and_through_the_login(app):
    b = client_speaking(app, "sv")
    response = switch(b, "en", "/login")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    login = page(b.get("/login"))
    assert login.find("html").attrs["lang"] == "en"
    assert login.find("button", value="sv").text() == "Svenska"  # the way back, named in its own language
    assert b.login(*DEMO["owner"]).status_code == 302
    assert html_lang(b.get(SUBS)) == "en"


def test_a_logged_in_persons_choice_is_remembered_at_their_next_login_anywhere(app, query):
    b = client_speaking(app, "en")
    b.login(*DEMO["buyer"])
    assert switch(b, "sv", SUBS).headers["Location"] == SUBS
    assert saved_locale(query, "buyer@nordlys.test") == "sv"
    subs = b.get(SUBS)
    assert html_lang(subs) == "sv"
    b.logout()

    elsewhere = client_speaking(app, "en-US,en;q=0.9")  # another browser, in English
    assert html_lang(elsewhere.get("/login")) == "en"  # nobody is known yet
    elsewhere.login(*DEMO["buyer"])
    assert html_lang(elsewhere.get(SUBS)) == "sv"
    switch(elsewhere, "en", SUBS)
    assert saved_locale(query, "buyer@nordlys.test") == "en"
    assert html_lang(elsewhere.get(SUBS)) == "en"


def test_the_switch_returns_to_the_page_it_was_pressed_on_without_its_lang(app):
    b = client_speaking(app, "sv")
    b.login(*DEMO["owner"])
    response = switch(b, "en", f"{SUBS}?q=070&lang=sv")
    assert response.headers["Location"] == f"{SUBS}?q=070"
    assert html_lang(b.get(response.headers["Location"])) == "en"


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\t/evil.test", "javascript:alert(1)"])
def test_the_switch_never_sends_anyone_off_the_site(app, target):
    b = client_speaking(app, "sv")
    token = csrf_token(b.get("/login").get_data(as_text=True))
    response = b.client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == SUBS


def test_a_language_we_do_not_have_or_a_missing_token_is_refused(app):
    b = client_speaking(app, "sv")
    token = csrf_token(b.get("/login").get_data(as_text=True))
    assert b.client.post("/language", data={"csrf_token": token, "lang": "xx"}).status_code == 400
    assert b.client.post("/language", data={"lang": "en"}).status_code == 400
    assert html_lang(b.get("/login")) == "sv"  # nothing changed


def test_money_and_dates_follow_the_language(app, buyer_as):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    b = buyer_as("owner")
    b.start("mobile")
    b.answer("price_basis", {"basis": "bound"})
    for accept, price, day in (("sv", "79,00 kr", "27 nov. 2026"), ("en", "SEK 79.00", "Nov 27, 2026")):
        b.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
        assert price in page(b.get(b.step_url("call_rate"))).text().translate(SPACES)  # the bound fixed call rate
        assert day in page(b.get(SUBS)).text().translate(SPACES)  # the unfinished order's last change
