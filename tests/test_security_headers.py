"""The security headers are on every kind of response, set in one place."""

import pytest
from flask import abort

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CSP_PARTS = ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]


def assert_secure(response):
    csp = response.headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value


@pytest.fixture
def boom_app(app):
    @app.route("/__boom")
    def boom():
        raise RuntimeError("boom")

    @app.route("/__gone")
    def gone():
        abort(404)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_page_headers_and_no_store(login_as):
    response = login_as("owner").get("/settings/account/subs")
    assert_secure(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_fragment_headers(login_as):
    response = login_as("owner").get("/settings/account/subs", headers={"HX-Request": "true"})
    assert_secure(response)


def test_redirect_headers(client):
    response = client.get("/settings/account/subs")
    assert response.status_code == 302
    assert_secure(response)


def test_error_page_headers(boom_app, login_as):
    owner = login_as("owner")
    for url, status in [("/__gone", 404), ("/no/such/page", 404), ("/__boom", 500)]:
        response = owner.get(url)
        assert response.status_code == status
        assert_secure(response)
    assert "something went wrong" in owner.get("/__boom").get_data(as_text=True).lower()


def test_forbidden_and_rate_limited_headers(login_as, browser):
    assert_secure(login_as("staff").get("/settings/account/subs"))
    for i in range(10):
        response = browser.login("staff@nordlys.test", f"bad{i}")
    assert response.status_code == 429
    assert_secure(response)


def test_static_files_are_cached_but_not_sniffed(client):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_nobody_may_frame_the_wizard_by_default(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(login_as):
    html = login_as("owner").get("/settings/account/subs").get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "<style" not in html
