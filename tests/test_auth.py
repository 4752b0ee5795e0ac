"""Logging in and out as a user would, and what an attacker with a copied cookie gets."""

import pytest

from wizard import db
from wizard.auth import end_login_sessions
from wizard.models import User


def test_owner_logs_in_and_lands_on_subs(browser):
    response = browser.login("owner@nordlys.test", "demo-owner-pw")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200
    assert "<h1>Subs</h1>" in page.get_data(as_text=True)
    assert "Nordlys AB" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("owner@nordlys.test", "wrong"),
        ("nobody@nordlys.test", "demo-owner-pw"),
        ("anna@nordlys.test", ""),  # a user without a password cannot log in
    ],
)
def test_wrong_credentials_are_refused_with_a_message(browser, email, password):
    response = browser.login(email, password)
    assert response.status_code in (401, 422)
    assert "There is a problem" in response.get_data(as_text=True)
    assert browser.get("/settings/account/subs").status_code == 302


def test_login_page_keeps_the_typed_email(browser):
    html = browser.login("owner@nordlys.test", "wrong").get_data(as_text=True)
    assert 'value="owner@nordlys.test"' in html
    assert "Email or password is wrong." in html
    assert "<title>Error:" in html


def test_repeated_wrong_passwords_are_rate_limited(browser):
    statuses = [browser.login("buyer@nordlys.test", f"guess-{i}").status_code for i in range(10)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    page = browser.login("buyer@nordlys.test", "demo-buyer-pw")
    assert page.status_code == 429, "even the right password waits out the limit"
    text = page.get_data(as_text=True)
    assert "Too many attempts" in text
    assert "(limit: 5 attempts in 15 minutes)" in text  # LOGIN_RATE_LIMIT in words, not Flask-Limiter's


def test_replaying_the_cookie_after_logout_does_not_authenticate(app, login_as):
    owner = login_as("owner")
    cookie = owner.client.get_cookie("session").value
    assert owner.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/settings/account/subs")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_rotates_the_session(app, browser):
    browser.get("/login")
    before = browser.client.get_cookie("session").value
    browser.login("owner@nordlys.test", "demo-owner-pw")
    after = browser.client.get_cookie("session").value
    assert before != after
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/settings/account/subs").status_code == 302


def test_disabling_a_user_ends_their_sessions(app, login_as):
    buyer = login_as("buyer")
    assert buyer.get("/settings/account/subs").status_code == 200
    with app.app_context():
        sess = db.session()
        user = sess.query(User).filter_by(email="buyer@nordlys.test").one()
        user.active = False
        sess.commit()
        end_login_sessions(user.id)
    assert buyer.get("/settings/account/subs").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/%09/evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_parameter_cannot_redirect_off_site(browser, target):
    from tests.conftest import csrf_token

    page = browser.get(f"/login?next={target}")
    response = browser.client.post(
        f"/login?next={target}",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "owner@nordlys.test",
            "password": "demo-owner-pw",
        },
    )
    assert response.headers["Location"] == "/settings/account/subs"


def test_next_parameter_returns_to_the_page_asked_for(browser):
    from tests.conftest import csrf_token

    page = browser.get("/login?next=/settings/users")
    response = browser.client.post(
        "/login?next=/settings/users",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "owner@nordlys.test",
            "password": "demo-owner-pw",
        },
    )
    assert response.headers["Location"] == "/settings/users"


def test_a_login_ends_after_the_configured_hours(app, login_as):
    owner = login_as("owner")
    assert owner.get("/settings/account/subs").status_code == 200
    app.config["LOGIN_SESSION_HOURS"] = 0
    assert owner.get("/settings/account/subs").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"email": "owner@nordlys.test", "password": "demo-owner-pw"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_session_cookie_flags(browser):
    response = browser.login("owner@nordlys.test", "demo-owner-pw")
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    assert cookies, "login sets the session cookie"
    for header in cookies:
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" in header


def test_logout_needs_a_post_with_csrf(login_as):
    owner = login_as("owner")
    assert owner.get("/logout").status_code == 405
    assert owner.client.post("/logout").status_code == 400
    assert owner.get("/settings/account/subs").status_code == 200


def test_an_htmx_request_without_a_login_loads_the_login_page_whole(login_as):
    buyer = login_as("buyer")
    buyer.logout()
    response = buyer.get("/settings/account/subs?q=070", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data() == b""  # nothing swapped into the page
    assert response.headers["HX-Redirect"].startswith("/login?next=")
