"""The security headers are on every kind of response, set in one place."""

import http.client
import os
import shutil
import ssl
import subprocess
import threading

import pytest
from flask import Flask, abort
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.conftest import IN_CI, TEST_CONFIG, Browser
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, QuietHandler
from wizard import create_app, db, mount
from wizard.security import DENIED_FEATURES
from wizard.seed import seed_demo

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


# --- Permissions-Policy, and HSTS over HTTPS (directly, through a proxy, and over real TLS) ---

POWERFUL_FEATURES = [
    "camera",
    "microphone",
    "geolocation",
    "payment",
    "usb",
    "serial",
    "hid",
    "midi",
    "display-capture",
]


def denied_features(response) -> set[str]:
    """The features a Permissions-Policy header allows to nobody: `name=()`."""
    directives = [part.strip() for part in response.headers.get("Permissions-Policy", "").split(",")]
    return {name for name, _, allow in (d.partition("=") for d in directives) if allow == "()"}


def test_permissions_policy_denies_the_powerful_features_on_every_kind_of_response(boom_app, login_as, client):
    owner = login_as("owner")
    responses = [
        owner.get("/settings/account/subs"),  # page
        owner.get("/settings/account/subs", headers={"HX-Request": "true"}),  # fragment
        client.get("/settings/account/subs"),  # redirect to the login page
        owner.get("/no/such/page"),  # 404
        owner.get("/__boom"),  # 500
        client.get("/static/app.css"),
    ]
    for response in responses:
        assert set(POWERFUL_FEATURES) <= denied_features(response), response.status
        assert "*" not in response.headers["Permissions-Policy"]
        response.close()


def test_no_hsts_over_plain_http(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_over_https(boom_app, client):
    for url in ("/login", "/settings/account/subs", "/no/such/page", "/__boom", "/static/app.css"):
        with client.get(url, base_url="https://wizard.example") as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", url


def test_hsts_can_be_configured_or_switched_off(app, client):
    app.config["STRICT_TRANSPORT_SECURITY"] = "max-age=600"
    assert client.get("/login", base_url="https://wizard.example").headers["Strict-Transport-Security"] == "max-age=600"
    app.config["STRICT_TRANSPORT_SECURITY"] = ""
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://wizard.example").headers


@pytest.fixture
def make_app(database_url, tmp_path):
    """make_app(**settings): the app with demo data and these settings (several per test allowed)."""
    made = []

    def _make(**settings):
        app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **settings}, instance_path=str(tmp_path))
        if not made:
            with app.app_context():
                seed_demo(db.session())
        made.append(app)
        return app

    yield _make
    for app in made:
        app.extensions["db_engine"].dispose()


FROM_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def test_behind_a_tls_proxy_with_proxy_fix_the_forwarded_scheme_gets_hsts(make_app):
    app = make_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    response = app.test_client().get("/login", headers=FROM_PROXY)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers  # the proxy said http


def test_without_proxy_fix_forwarded_headers_are_not_believed(make_app):
    app = make_app()
    assert "Strict-Transport-Security" not in app.test_client().get("/login", headers=FROM_PROXY).headers


def login_attempts(app, forwarded_for: str, n: int) -> list[int]:
    browser = Browser(app.test_client())
    statuses = []
    for i in range(n):  # a different address each time: only the per-client limit applies
        response = browser.submit(
            "/login",
            {"email": f"nobody{i}@{forwarded_for}.test", "password": "a wrong password"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        statuses.append(response.status_code)
    return statuses


def test_with_proxy_fix_each_client_has_its_own_login_limit(make_app):
    app = make_app(PROXY_FIX_X_FOR=1, LOGIN_IP_RATE_LIMIT="3 per minute")
    assert login_attempts(app, "203.0.113.7", 4) == [401, 401, 401, 429]
    assert login_attempts(app, "198.51.100.9", 1) == [401]  # another person behind the same proxy


def test_without_proxy_fix_a_forged_client_address_does_not_escape_the_login_limit(make_app):
    app = make_app(LOGIN_IP_RATE_LIMIT="3 per minute")
    assert login_attempts(app, "203.0.113.7", 3) == [401, 401, 401]
    assert login_attempts(app, "198.51.100.9", 1) == [429]


def test_proxy_fix_settings_come_from_the_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("PROXY_FIX_X_PROTO", "1")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}, instance_path=str(tmp_path))
    response = app.test_client().get("/login", headers=FROM_PROXY)
    assert "Strict-Transport-Security" in response.headers
    app.extensions["db_engine"].dispose()


def test_with_trusted_hosts_a_forged_host_gets_400_in_plain_words_and_the_wizards_name_works(make_app):
    """A forged Host header would otherwise become the host of links in e-mails written in that request."""
    app = make_app(TRUSTED_HOSTS=["wizard.example.test"])
    client = app.test_client()
    for path in ("/login", "/settings/account/subs", "/api/v1/subscriptions"):
        forged = client.get(path, headers={"Host": "evil.test"})
        assert forged.status_code == 400, path
        assert "evil.test" not in forged.get_data(as_text=True)
    page = client.get("/login", headers={"Host": "evil.test"})
    assert page.mimetype == "text/plain" and page.get_data(as_text=True) == "This site is not served at this address."
    assert client.get("/login", base_url="https://wizard.example.test").status_code == 200
    assert make_app().test_client().get("/login", headers={"Host": "evil.test"}).status_code == 200  # default: any


def test_trusted_hosts_come_from_the_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("TRUSTED_HOSTS", "wizard.example.test, .intranet.example")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}, instance_path=str(tmp_path))
    assert app.config["TRUSTED_HOSTS"] == ["wizard.example.test", ".intranet.example"]
    client = app.test_client()
    assert client.get("/login", base_url="http://tele.intranet.example").status_code == 200  # a subdomain
    assert client.get("/login", base_url="http://localhost").status_code == 400
    app.extensions["db_engine"].dispose()


def test_mounted_the_host_decides_on_hsts_and_proxies(database_url, tmp_path):
    host = Flask("host", instance_path=str(tmp_path / "host"))
    host.config.update(TEST_CONFIG)
    mount(host, identity=lambda: None, database_url=database_url)
    client = host.test_client()
    response = client.get("/telephony/settings/account/subs", base_url="https://intranet.example")
    assert response.status_code == 401
    assert "Strict-Transport-Security" not in response.headers  # the host's whole site: its call
    assert set(POWERFUL_FEATURES) <= denied_features(response)  # the wizard's own pages: its policy
    assert host.wsgi_app.__self__ is host  # no ProxyFix put in front of the host's app
    host.config["STRICT_TRANSPORT_SECURITY"] = "max-age=86400"
    response = client.get("/telephony/settings/account/subs", base_url="https://intranet.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=86400"
    host.extensions["db_engine"].dispose()


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if IN_CI:
            pytest.fail("the openssl command is required under CI=true")
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_served_over_real_tls_the_headers_and_cookie_are_those_of_https(app, certificate):
    cert, key = certificate
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(str(cert), str(key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", server.server_port, context=ssl.create_default_context(cafile=str(cert)), timeout=30
        )
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
        assert set(POWERFUL_FEATURES) <= denied_features(response)
        cookie = response.getheader("Set-Cookie") or ""
        assert cookie.startswith("session=") and "Secure" in cookie and "HttpOnly" in cookie
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_chromium_knows_every_feature_the_policy_names_and_denies_each(app):
    """An unknown name is a console warning on every page (not an error, so the other browser tests
    would not notice); document.featurePolicy shows what the page may use."""
    if not os.access(CHROMIUM, os.X_OK):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    messages = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.goto(f"http://127.0.0.1:{server.server_port}/login")
            allowed = page.evaluate(
                "(names) => names.filter((name) => document.featurePolicy.allowsFeature(name))", DENIED_FEATURES
            )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert [m for m in messages if "Permissions-Policy" in m] == []
    assert allowed == []
