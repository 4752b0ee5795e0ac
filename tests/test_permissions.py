"""Who may see what: permission pages, tenant scoping, and a guard on every route."""

import pytest

from wizard.permissions import requires

# Open to anyone: logging in and out, the language switch (a choice of the session before logging in),
# the start of a framed visit, static files.
PUBLIC_ENDPOINTS = {
    "wizard.static",
    "wizard.auth.login",
    "wizard.auth.logout",
    "wizard.auth.choose_language",
    "wizard.embed.start",
    "api-docs.openapi_json",  # the API's description, public like any published API's
    "api_docs.human_docs",
}
# The JSON API's operations: guarded by its bearer token on every request (api.authenticate), not by a login.
TOKEN_ENDPOINTS = "api."


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("owner", "/settings/account/subs", 200),
        ("buyer", "/settings/account/subs", 200),
        ("staff", "/settings/account/subs", 403),
        ("owner", "/settings/users", 200),
        ("buyer", "/settings/users", 403),
        ("staff", "/settings/users", 403),
        ("fjord", "/settings/account/subs", 200),
    ],
)
def test_pages_by_permission(login_as, who, url, status):
    assert login_as(who).get(url).status_code == status


def test_forbidden_page_names_the_permission_and_the_owner(login_as):
    html = login_as("staff").get("/settings/account/subs").get_data(as_text=True)
    assert "Account" in html and "permission" in html
    assert "Nora Lindqvist" in html and "owner@nordlys.test" in html


def test_forbidden_users_page_names_the_users_permission(login_as):
    html = login_as("buyer").get("/settings/users").get_data(as_text=True)
    assert "people with the Users permission can see this page" in html


def _example_url(app, rule):
    from werkzeug.routing import IntegerConverter

    def example(arg):
        converter = rule._converters.get(arg)
        if isinstance(converter, IntegerConverter):
            return 1
        return getattr(converter, "example", "x" * 16)  # a converter with a fixed set of values names one

    values = {arg: example(arg) for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_checks_login_and_permission(app):
    """A new view without @requires(...) fails here before it can leak tenant data."""
    unguarded = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(TOKEN_ENDPOINTS):
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "required_permission"):
            unguarded.append(rule.endpoint)
    assert unguarded == []


def test_every_guarded_route_sends_anonymous_users_to_login(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        response = client.open(_example_url(app, rule), method=method)
        if rule.endpoint.startswith(TOKEN_ENDPOINTS):  # no token: 401 with problem details, never data
            assert response.status_code == 401 and response.mimetype == "application/problem+json", rule.endpoint
            checked += 1
            continue
        assert response.status_code in (302, 400), rule.endpoint
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], rule.endpoint
        checked += 1
    assert checked >= 2


def test_requires_records_the_permission():
    @requires("users")
    def view():
        return "ok"

    assert view.required_permission == "users"
