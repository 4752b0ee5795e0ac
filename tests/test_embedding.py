"""The wizard framed in another site, without a browser: who may frame which response (CSP
frame-ancestors), the /embed entry and its refusals, the cookie, the embed-origins command, CSRF
and the layout. Chromium's side is tests/test_embedding_browser.py."""

import pytest
from sqlalchemy import select

from tests.conftest import DEMO, TEST_CONFIG, Browser
from tests.pages import h1, page
from wizard import create_app, db
from wizard.models import Draft, Organisation
from wizard.seed import seed_demo

NORDLYS, FJORD = "556677-8899", "923609016"
NORDLYS_INTRANET = "https://intranet.nordlys.example"
NORDLYS_PORTAL = "https://portal.nordlys.example:8443"
FJORD_INTRANET = "https://intranet.fjord.example"
SUBS = "/settings/account/subs"


def set_origins(app, org_number: str, origins: str) -> None:
    with app.app_context():
        sess = db.session()
        sess.scalar(select(Organisation).where(Organisation.org_number == org_number)).embed_origins = origins
        sess.commit()


@pytest.fixture
def embedding_app(database_url, tmp_path):
    """The demo data with EMBEDDING on; Nordlys allows two origins, Fjord one."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "EMBEDDING": True}, instance_path=str(tmp_path))
    with app.app_context():
        seed_demo(db.session())
    set_origins(app, NORDLYS, f"{NORDLYS_INTRANET} {NORDLYS_PORTAL}")
    set_origins(app, FJORD, FJORD_INTRANET)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def visitor(embedding_app):
    """A browser of the embedding app, nobody logged in."""
    return Browser(embedding_app.test_client())


def frame_ancestors(response) -> str:
    """The value of the response's CSP frame-ancestors directive."""
    directives = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    return directives["frame-ancestors"]


def framed_by(response, origin: str) -> bool:
    """Only `origin` may frame the response, and no X-Frame-Options says otherwise."""
    return frame_ancestors(response) == origin and "X-Frame-Options" not in response.headers


def framed_by_nobody(response) -> bool:
    return frame_ancestors(response) == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def enter(browser, parent: str):
    return browser.get("/embed", query_string={"parent": parent})


def log_in(browser, who: str):
    response = browser.login(*DEMO[who])
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


# --------------------------------------------------------------------------- frame-ancestors


def test_embed_remembers_the_parent_and_only_it_may_frame_the_pages(visitor):
    entry = enter(visitor, NORDLYS_INTRANET)
    assert entry.status_code == 302 and entry.headers["Location"] == SUBS
    assert framed_by(entry, NORDLYS_INTRANET)

    to_login = visitor.get(SUBS)  # nobody logged in yet
    assert to_login.status_code == 302 and framed_by(to_login, NORDLYS_INTRANET)
    login_page = visitor.get("/login")
    assert framed_by(login_page, NORDLYS_INTRANET)

    assert framed_by(log_in(visitor, "buyer"), NORDLYS_INTRANET)
    subs = visitor.get(SUBS)
    assert subs.status_code == 200 and h1(page(subs)) == "Subs"
    assert framed_by(subs, NORDLYS_INTRANET)  # one origin: not Nordlys's other one, nor Fjord's


def test_the_allowed_origin_is_the_persons_organisations(visitor):
    """Before login some organisation allowed Nordlys's intranet; a Fjord person logging in there
    is not framed by it (Fjord allows only its own), and cannot enter through it either."""
    enter(visitor, NORDLYS_INTRANET)
    assert framed_by(visitor.get("/login"), NORDLYS_INTRANET)
    assert framed_by_nobody(log_in(visitor, "fjord"))
    subs = visitor.get(SUBS)
    assert subs.status_code == 200 and framed_by_nobody(subs)
    refused = enter(visitor, NORDLYS_INTRANET)
    assert refused.status_code == 403 and framed_by_nobody(refused)

    fjord = enter(visitor, FJORD_INTRANET)
    assert fjord.status_code == 302
    assert framed_by(visitor.get(SUBS), FJORD_INTRANET)


def test_an_organisation_without_origins_is_framed_by_nobody(embedding_app, visitor):
    enter(visitor, NORDLYS_INTRANET)
    log_in(visitor, "buyer")
    assert framed_by(visitor.get(SUBS), NORDLYS_INTRANET)
    set_origins(embedding_app, NORDLYS, "")  # the operator takes the permission back
    assert framed_by_nobody(visitor.get(SUBS))
    assert framed_by_nobody(visitor.get("/no/such/page"))


def test_without_embed_nobody_may_frame_the_wizard(login_as):
    """The default: EMBEDDING off and no allowed origins."""
    browser = login_as("buyer")
    assert framed_by_nobody(browser.get(SUBS))
    assert framed_by_nobody(browser.get("/login"))


def test_with_embedding_on_but_no_embed_entry_nobody_may_frame_the_wizard(visitor):
    assert framed_by_nobody(visitor.get("/login"))
    log_in(visitor, "buyer")
    assert framed_by_nobody(visitor.get(SUBS))


def test_static_files_may_be_framed_by_nobody(visitor):
    enter(visitor, NORDLYS_INTRANET)
    with visitor.get("/static/subs-wizard-host.js") as response:
        assert response.status_code == 200 and framed_by_nobody(response)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("parent", "reason"),
    [
        ("https://evil.example", "https://evil.example may not show the wizard."),
        ("https://intranet.nordlys.example.evil.example", "may not show the wizard."),
        ("http://intranet.nordlys.example", "http://intranet.nordlys.example may not show the wizard."),
        ("https://intranet.nordlys.example/intranet", "does not name the site"),
        ("javascript:alert(1)", "does not name the site"),
        ("", "does not name the site"),
    ],
)
def test_embed_refuses_a_parent_nobody_allows(visitor, parent, reason):
    refused = enter(visitor, parent)
    assert refused.status_code == 403 and framed_by_nobody(refused)
    doc = page(refused)
    assert h1(doc) == "The wizard cannot be shown here"
    assert reason in doc.text()
    assert framed_by_nobody(visitor.get("/login"))  # nothing remembered


def test_embed_is_refused_while_embedding_is_off(client):
    refused = client.get("/embed", query_string={"parent": NORDLYS_INTRANET})
    assert refused.status_code == 403 and framed_by_nobody(refused)
    assert "switched off" in page(refused).text()


def test_a_refused_parent_does_not_frame_the_refusal_even_after_an_allowed_one(visitor):
    enter(visitor, NORDLYS_INTRANET)
    refused = enter(visitor, "https://evil.example")
    assert refused.status_code == 403 and framed_by_nobody(refused)


def test_the_embed_parent_is_normalised_like_a_browsers_origin(visitor):
    """Browsers give origins in lower case without the default port."""
    enter(visitor, "HTTPS://Intranet.Nordlys.Example:443")
    assert framed_by(visitor.get("/login"), NORDLYS_INTRANET)
    enter(visitor, NORDLYS_PORTAL)
    assert framed_by(visitor.get("/login"), NORDLYS_PORTAL)


# --------------------------------------------------------------------------- the session


def test_the_session_cookie_works_in_a_cross_site_frame(visitor):
    cookie = enter(visitor, NORDLYS_INTRANET).headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"samesite", "secure", "partitioned", "httponly"} <= attributes
    assert "SameSite=None" in cookie


def test_the_default_session_cookie_is_lax_and_not_partitioned(browser):
    cookie = browser.login(*DEMO["buyer"]).headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "Partitioned" not in cookie


def test_the_parent_is_kept_over_login_and_logout(visitor):
    enter(visitor, NORDLYS_INTRANET)
    log_in(visitor, "buyer")
    subs = page(visitor.get(SUBS))
    assert subs.find("main", data_embed_parent=NORDLYS_INTRANET) is not None
    logged_out = visitor.logout()
    assert logged_out.status_code == 302 and framed_by(logged_out, NORDLYS_INTRANET)
    login = visitor.get("/login")
    assert framed_by(login, NORDLYS_INTRANET)
    assert "You are logged out." in page(login).text()


def test_csrf_is_still_required_in_the_frame(embedding_app, visitor):
    enter(visitor, NORDLYS_INTRANET)
    log_in(visitor, "buyer")
    posted = visitor.client.post(f"{SUBS}/orders", data={"kind": "mobile"})
    assert posted.status_code == 400
    assert "not sent from this site" in page(posted).text()
    forged = visitor.client.post(f"{SUBS}/orders", data={"kind": "mobile", "csrf_token": "forged"})
    assert forged.status_code == 400
    with embedding_app.app_context():
        assert db.session().scalars(select(Draft)).all() == []
    started = visitor.submit(SUBS, {"kind": "mobile"}, action=f"{SUBS}/orders")
    assert started.status_code in (302, 303)


# --------------------------------------------------------------------------- the layout


def test_the_embed_layout_has_no_portal_chrome(visitor):
    enter(visitor, NORDLYS_INTRANET)
    log_in(visitor, "buyer")
    doc = page(visitor.get(SUBS))
    body = doc.find("body")
    assert body is not None and body.has_class("embedded")
    assert doc.find("nav", aria_label="Organization Settings") is None and doc.find("header") is None
    scripts = [s.attrs["src"] for s in doc.find_all("script")]
    assert "/static/embed.js" in scripts
    assert [b.text() for b in doc.find_all("button", type="submit", cls="link-button")] == ["Svenska", "Log out"]


def test_the_portal_layout_has_its_chrome_and_no_embed_script(login_as):
    doc = page(login_as("buyer").get(SUBS))
    assert doc.find("nav", aria_label="Organization Settings") is not None
    assert doc.find("main", data_embed_parent=True) is None
    assert "/static/embed.js" not in [s.attrs["src"] for s in doc.find_all("script")]


# --------------------------------------------------------------------------- flask embed-origins


def origins_in_db(app, org_number: str) -> str:
    with app.app_context():
        return db.session().scalar(select(Organisation.embed_origins).where(Organisation.org_number == org_number))


def test_embed_origins_command_sets_shows_and_clears(app, runner):
    result = runner.invoke(
        args=["embed-origins", NORDLYS, "https://Intranet.Nordlys.example:443", "http://127.0.0.2:8080/"]
    )
    assert result.exit_code == 0, result.output
    assert origins_in_db(app, NORDLYS) == "https://intranet.nordlys.example http://127.0.0.2:8080"
    assert "Nordlys AB (556677-8899): https://intranet.nordlys.example http://127.0.0.2:8080." in result.output
    assert "EMBEDDING is off" in result.output

    shown = runner.invoke(args=["embed-origins", NORDLYS])
    assert shown.exit_code == 0 and "https://intranet.nordlys.example http://127.0.0.2:8080" in shown.output
    assert origins_in_db(app, FJORD) == ""

    cleared = runner.invoke(args=["embed-origins", NORDLYS, "--clear"])
    assert cleared.exit_code == 0 and "no site may frame the wizard" in cleared.output
    assert origins_in_db(app, NORDLYS) == ""


@pytest.mark.parametrize(
    "origin",
    [
        "intranet.nordlys.example",
        "https://intranet.nordlys.example/path",
        "https://intranet.nordlys.example?x=1",
        "ftp://intranet.nordlys.example",
        "https://*.nordlys.example",
        "https://user:pw@intranet.nordlys.example",
        "https://intranet.nordlys.example:99999",
        "'self'",
    ],
)
def test_embed_origins_command_refuses_what_is_not_an_origin(app, runner, origin):
    runner.invoke(args=["embed-origins", NORDLYS, NORDLYS_INTRANET])
    result = runner.invoke(args=["embed-origins", NORDLYS, FJORD_INTRANET, origin])
    assert result.exit_code != 0
    assert origin in result.output and "Nothing was changed" in result.output
    assert origins_in_db(app, NORDLYS) == NORDLYS_INTRANET


def test_embed_origins_command_needs_a_known_organisation(runner):
    result = runner.invoke(args=["embed-origins", "000000-0000", NORDLYS_INTRANET])
    assert result.exit_code != 0 and "No organisation with organisation number 000000-0000" in result.output


def test_embed_opened_as_a_page_of_its_own_does_not_enter_the_framed_mode(visitor):
    """A link or the address bar (Sec-Fetch-Dest: document) would only hide the portal's navigation."""
    opened = visitor.get("/embed", query_string={"parent": NORDLYS_INTRANET}, headers={"Sec-Fetch-Dest": "document"})
    assert opened.status_code == 403 and framed_by_nobody(opened)
    assert "only works inside the page of your intranet" in page(opened).text()
    assert framed_by_nobody(visitor.get("/login"))  # nothing remembered
    framed = visitor.get("/embed", query_string={"parent": NORDLYS_INTRANET}, headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 302 and framed_by(visitor.get("/login"), NORDLYS_INTRANET)
