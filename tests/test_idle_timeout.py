"""A login ends after LOGIN_IDLE_MINUTES without a request (default 30), beside the 12-hour limit;
time moves by the injected clock, on SQLite and PostgreSQL. Mounted, the host's login decides."""

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import DEMO, TEST_CONFIG, Browser, csrf_token
from tests.test_numbers import Clock
from tests.wizard_client import form_html, hidden
from wizard import HostOrganisation, HostPerson, create_app, db, mount
from wizard.models import Draft
from wizard.seed import seed_demo

SUBS = "/settings/account/subs"
LOGGED_OUT = "You were logged out after 30 minutes without activity."


@pytest.fixture
def clock(app):
    app.config["CLOCK"] = Clock()
    return app.config["CLOCK"]


@pytest.fixture
def owner(clock, login_as):
    """The owner, logged in at the clock's time."""
    return login_as("owner")


def logged_in(browser) -> bool:
    response = browser.get(SUBS)
    assert response.status_code in (200, 302), response.status
    return response.status_code == 200


def sets_session_cookie(response) -> bool:
    return any(value.startswith("session=") for value in response.headers.getlist("Set-Cookie"))


def test_idle_for_30_minutes_the_login_holds_and_a_minute_more_it_ends(clock, owner):
    clock.advance(minutes=30)
    assert logged_in(owner)
    clock.advance(minutes=30, seconds=1)
    response = owner.get(SUBS)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert LOGGED_OUT in page
    clock.advance(minutes=-40)  # the login left the cookie: turning the clock back does not bring it back
    assert not logged_in(owner)


def test_working_keeps_the_login_for_hours(clock, owner):
    for _ in range(3 * 60 // 25):
        clock.advance(minutes=25)
        assert logged_in(owner)


def test_the_login_page_says_why_once(clock, owner):
    clock.advance(minutes=31)
    first = owner.get("/login").get_data(as_text=True)
    assert LOGGED_OUT in first
    assert 'name="password"' in first
    assert LOGGED_OUT not in owner.get("/login").get_data(as_text=True)


def test_the_cookie_is_renewed_at_most_once_a_minute(clock, owner):
    owner.get(SUBS)  # the first page after login puts a CSRF token in the session
    assert not sets_session_cookie(owner.get(SUBS))
    clock.advance(seconds=59)
    assert not sets_session_cookie(owner.get(SUBS))
    clock.advance(seconds=2)
    assert sets_session_cookie(owner.get(SUBS))
    clock.advance(seconds=30)
    assert not sets_session_cookie(owner.get(SUBS))


def test_an_old_copy_of_the_cookie_is_idle_even_while_the_browser_works(clock, owner):
    copy = owner.client.get_cookie("session").value
    for _ in range(4):
        clock.advance(minutes=10)
        assert logged_in(owner)
    thief = Browser(owner.client.application.test_client())
    thief.client.set_cookie("session", copy)
    assert not logged_in(thief)
    assert logged_in(owner)


def test_htmx_is_sent_to_the_login_page_which_says_why(clock, owner):
    clock.advance(minutes=45)
    response = owner.get(SUBS, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")
    assert LOGGED_OUT in owner.get(response.headers["HX-Redirect"]).get_data(as_text=True)


def test_a_step_posted_after_the_idle_time_is_not_saved(clock, buyer_as, query):
    buyer = buyer_as("owner")
    step = buyer.start("mobile")
    html = buyer.get(step).get_data(as_text=True)
    form = form_html(html)
    assert "price_basis" in step
    clock.advance(minutes=31)
    response = buyer.client.post(
        step,
        data={
            "csrf_token": csrf_token(html),
            "version": hidden(form, "version")[0],
            "_shown": hidden(form, "_shown"),
            "basis": "unbound",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    answers = query(lambda s: s.scalars(select(Draft.answers)).one())
    assert "price_basis" not in answers and answers["type"] == {"kind": "mobile"}


@pytest.mark.parametrize(("minutes", "message"), [(1, "after 1 minute without"), (5, "after 5 minutes without")])
def test_the_idle_time_is_configurable(app, clock, owner, minutes, message):
    app.config["LOGIN_IDLE_MINUTES"] = minutes
    clock.advance(minutes=minutes)
    assert logged_in(owner)
    clock.advance(minutes=minutes, seconds=1)
    response = owner.get(SUBS)
    assert message in owner.get(response.headers["Location"]).get_data(as_text=True)


def test_zero_switches_the_idle_timeout_off(app, clock, owner):
    app.config["LOGIN_IDLE_MINUTES"] = 0
    clock.advance(hours=11)
    assert logged_in(owner)


def test_the_idle_time_comes_from_the_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("LOGIN_IDLE_MINUTES", "7")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}, instance_path=str(tmp_path))
    assert app.config["LOGIN_IDLE_MINUTES"] == 7
    app.extensions["db_engine"].dispose()


def test_mounted_the_hosts_login_decides(database_url, tmp_path):
    host = Flask("host", instance_path=str(tmp_path / "host"))
    host.config.update(TEST_CONFIG, CLOCK=Clock())
    acme = HostOrganisation(key="org-1", name="Acme AB", org_number="556036-0793")
    alice = HostPerson(key="u-1", email="alice@acme.test", name="Alice Ek", organisation=acme, permissions={"account"})
    mount(host, identity=lambda: alice, database_url=database_url)
    with host.app_context():
        seed_demo(db.session())
    client = host.test_client()
    assert client.get("/telephony" + SUBS).status_code == 200
    host.config["CLOCK"].advance(hours=3)
    assert client.get("/telephony" + SUBS).status_code == 200
    host.extensions["db_engine"].dispose()


def test_the_demo_password_still_logs_in_after_an_idle_logout(clock, owner):
    clock.advance(hours=1)
    assert not logged_in(owner)
    assert owner.login(*DEMO["owner"]).status_code == 302
    assert logged_in(owner)
