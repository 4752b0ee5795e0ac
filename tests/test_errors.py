"""Every HTTP error is a styled page that says what happened and what to do: in the portal's
layout, without its chrome when framed in another site, inside the host's layout when mounted,
and never Werkzeug's bare text."""

import pytest
from flask import Flask, abort
from sqlalchemy import update

from tests.pages import h1, links, page, title
from wizard import mount
from wizard.embedding import EMBED_KEY
from wizard.models import Organisation

WERKZEUG_405 = "The method is not allowed for the requested URL."
SUBS = "/settings/account/subs"
INTRANET = "https://intranet.nordlys.test"


def portal_chrome(doc) -> list:
    """The portal's header and settings navigation, as found in the page."""
    return doc.find_all("header", cls="site-header") + doc.find_all("nav", cls="settings-nav")


@pytest.mark.parametrize("address", ["/logout", "/settings/account/subs/orders"])
def test_a_get_to_a_post_only_address_is_a_styled_405(login_as, address):
    response = login_as("owner").get(address)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    doc = page(response)
    assert title(doc).startswith("This address cannot be opened like that")
    assert h1(doc) == "This address cannot be opened like that"
    assert links(doc)["Go to Subs"] == SUBS
    assert portal_chrome(doc)  # the page is the portal's, logged in
    assert WERKZEUG_405 not in response.get_data(as_text=True)


def test_a_get_to_an_orders_save_address_is_a_styled_405(buyer_as):
    buyer = buyer_as("owner")
    buyer.start("mobile")
    response = buyer.get(f"{buyer.draft_url}/save")
    assert response.status_code == 405
    assert h1(page(response)) == "This address cannot be opened like that"


def test_405_when_logged_out_is_styled_too(client):
    response = client.get("/logout")
    assert response.status_code == 405
    doc = page(response)
    assert h1(doc) == "This address cannot be opened like that"
    assert links(doc)["Go to Subs"] == SUBS


@pytest.fixture
def framed(app, login_as, query):
    """The owner logged in inside a frame on Nordlys' intranet (which Nordlys allows)."""
    app.config["EMBEDDING"] = True
    query(lambda s: (s.execute(update(Organisation).values(embed_origins=INTRANET)), s.commit()))
    owner = login_as("owner")
    with owner.client.session_transaction() as session:
        session[EMBED_KEY] = INTRANET
    return owner


def test_405_in_embed_mode_has_no_portal_chrome(framed):
    response = framed.get("/logout")
    assert response.status_code == 405
    doc = page(response)
    assert h1(doc) == "This address cannot be opened like that"
    assert portal_chrome(doc) == []
    assert doc.find("body", cls="embedded") is not None
    assert f"frame-ancestors {INTRANET}" in response.headers["Content-Security-Policy"]


def test_404_in_embed_mode_has_no_portal_chrome(framed):
    response = framed.get("/settings/account/subs/orders/no-such-order")
    assert response.status_code == 404
    doc = page(response)
    assert h1(doc) == "Page not found"
    assert portal_chrome(doc) == []


@pytest.fixture
def aborting_app(app):
    """A view that answers with any status, as a view of the wizard would with abort()."""

    @app.route("/__abort/<int:code>")
    def aborting(code):
        abort(code)

    return app


@pytest.mark.parametrize(
    "code, heading",
    [
        (401, "You need to log in"),
        (409, "That clashed with another change"),
        (410, "This page is gone"),
        (418, "The request could not be completed"),  # no words of its own: the general page
    ],
)
def test_other_client_errors_are_styled_pages_in_the_layout(aborting_app, login_as, code, heading):
    response = login_as("owner").get(f"/__abort/{code}")
    assert response.status_code == code
    doc = page(response)
    assert h1(doc) == heading
    assert title(doc).startswith(heading)
    assert f"Error code: {code}" in doc.text()
    assert links(doc)["Go to Subs"] == SUBS
    assert portal_chrome(doc)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_server_error_other_than_500_is_styled_without_the_layout(aborting_app, login_as):
    response = login_as("owner").get("/__abort/503")
    assert response.status_code == 503
    doc = page(response)
    assert h1(doc) == "The service is not available right now"
    assert portal_chrome(doc) == []  # like the 500 page: it must render when the database is down
    assert "Content-Security-Policy" in response.headers


def test_a_form_too_large_is_a_styled_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    response = client.post("/login", data={"email": "x" * 5_000, "password": "pw"})
    assert response.status_code == 413
    doc = page(response)
    assert h1(doc) == "What you sent is too large"
    assert "Request Entity Too Large" not in doc.text()


def test_mounted_a_401_renders_inside_the_hosts_layout(tmp_path):
    """A host without Flask-Login: nobody logged in gets the wizard's 401 inside the host's page."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "host.html").write_text(
        "<!doctype html><html><head><title>Host</title>{% block head %}{% endblock %}</head>"
        '<body><nav class="host-nav">Intranet</nav>{% block content %}{% endblock %}</body></html>'
    )
    host = Flask("host", root_path=str(tmp_path))
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    mount(host, lambda: None, base_template="host.html", database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}")
    response = host.test_client().get("/telephony/settings/account/subs")
    assert response.status_code == 401
    doc = page(response)
    assert doc.find("nav", cls="host-nav") is not None
    assert h1(doc) == "You need to log in"
    assert portal_chrome(doc) == []
