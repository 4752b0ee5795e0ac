"""The wizard mounted in a bare host Flask app (wizard.mount): the host's person comes through the
identity adapter and is provisioned just in time; the host's own pages stay the host's.
(examples/intranet, a whole host with Flask-Login, is tested in tests/test_intranet.py.)"""

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench.sqlcount import SqlCounter
from tests.conftest import TEST_CONFIG
from wizard import HostOrganisation, HostPerson, db, mount
from wizard.models import Draft, Organisation, User
from wizard.seed import seed_demo

SUBS = "/telephony/settings/account/subs"
ACME = HostOrganisation(key="org-1", name="Acme AB", org_number="556036-0793")
ALICE = HostPerson(
    key="u-1", email="Alice@Acme.test", name="Alice Ek", organisation=ACME, permissions=frozenset({"account"})
)

WHERE = {"url_prefix": "/telephony", "base_template": "host_base.html"}
HOST_BASE = """<!doctype html><html><head><title>{% block title %}{% endblock %} · Acme intranet</title>
{% block head %}{% endblock %}</head><body><nav class="host-nav">Acme intranet</nav>
{% block content %}{% endblock %}</body></html>"""


@pytest.fixture
def host(database_url, tmp_path):
    """A host app whose logged-in person is whatever the test puts in `host.person`."""
    templates = tmp_path / "host-templates"
    templates.mkdir()
    (templates / "host_base.html").write_text(HOST_BASE)
    app = Flask("host", instance_path=str(tmp_path / "host"), template_folder=str(templates))
    app.config.update({k: v for k, v in TEST_CONFIG.items() if k != "SECRET_KEY"}, SECRET_KEY="host-secret")
    app.person = None

    @app.route("/")
    def home():
        return "Acme intranet home"

    @app.errorhandler(404)
    def host_not_found(_exc):
        return "Acme intranet: no such page", 404

    # The person, or a function making one (to see what happens when the host's adapter fails).
    mount(
        app, identity=lambda: app.person() if callable(app.person) else app.person, **WHERE, database_url=database_url
    )
    with app.app_context():
        seed_demo(db.session())
    yield app
    app.extensions["db_engine"].dispose()


def rows(app, model, *where):
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model).where(*where))


def subs_page_sql(app, client):
    """The SQL of one GET of Subs (bench.sqlcount's RequestStats)."""
    counter = SqlCounter(app.extensions["db_engine"])
    try:
        with counter.request("GET", SUBS) as stats:
            assert client.get(SUBS).status_code == 200
    finally:
        counter.close()
    return stats


def writes(stats) -> list[str]:
    return [s for s in stats.statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_nobody_logged_in_gets_401_from_a_host_without_flask_login(host):
    response = host.test_client().get(SUBS)
    assert response.status_code == 401
    assert "Acme intranet" in response.get_data(as_text=True)  # the styled page, in the host's layout


def test_the_first_visit_provisions_the_person_and_renders_in_the_host_layout(host):
    host.person = ALICE
    page = host.test_client().get(SUBS)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<nav class="host-nav">Acme intranet</nav>' in html  # the host's layout
    assert "Acme AB" in html and 'href="/telephony/static/app.css"' in html
    assert "settings-nav" not in html  # not the standalone portal's chrome
    assert rows(host, User, User.external_key == "u-1", User.email == "alice@acme.test") == 1
    assert rows(host, Organisation, Organisation.external_key == "org-1", Organisation.name == "Acme AB") == 1


def test_a_known_person_costs_one_statement_and_no_write(host):
    host.person = ALICE
    client = host.test_client()
    client.get(SUBS)  # provisions
    stats = subs_page_sql(host, client)
    assert writes(stats) == [] and not stats.get_in_transaction
    assert "external_key" in stats.statements[0]  # who is asking: one statement, as for a login


def test_changes_in_the_host_reach_the_wizard_on_the_next_request(host):
    host.person = ALICE
    client = host.test_client()
    assert client.get(SUBS).status_code == 200
    host.person = HostPerson(
        key="u-1", email="alice.ek@acme.test", name="Alice Ek-Berg", organisation=ACME, permissions=frozenset()
    )
    refused = client.get(SUBS)
    assert refused.status_code == 403
    assert "Account" in refused.get_data(as_text=True)  # names the missing permission
    assert rows(host, User, User.external_key == "u-1", User.name == "Alice Ek-Berg", User.permissions == "") == 1


def test_host_pages_keep_their_own_headers(host):
    host.person = ALICE
    client = host.test_client()
    assert "Content-Security-Policy" not in client.get("/").headers
    assert "frame-ancestors" in client.get(SUBS).headers["Content-Security-Policy"]


def test_a_clash_with_an_existing_account_is_a_clear_409_and_changes_nothing(host):
    # The demo's buyer@nordlys.test exists already (a standalone login), not under this host key.
    host.person = HostPerson(key="u-2", email="buyer@nordlys.test", name="Not Buyer", organisation=ACME)
    before = rows(host, User), rows(host, Organisation)
    response = host.test_client().get(SUBS)
    assert response.status_code == 409
    assert "already used by another account" in response.get_data(as_text=True)
    assert (rows(host, User), rows(host, Organisation)) == before


def test_a_person_switched_off_in_the_wizard_is_not_let_in(host):
    host.person = ALICE
    client = host.test_client()
    assert client.get(SUBS).status_code == 200
    with host.app_context():
        sess = db.session()
        sess.scalar(select(User).where(User.external_key == "u-1")).active = False
        sess.commit()
    refused = client.get(SUBS)
    assert refused.status_code == 403  # not the host's login page: they are logged in there, it would loop
    assert "Your access is switched off" in refused.get_data(as_text=True)


def test_what_the_host_hands_over_is_normalised_so_a_known_person_is_not_written_again(host):
    host.person = HostPerson(key=7, email=" Bo@Acme.test ", name="Bo", organisation=ACME, owner=1)  # type: ignore[arg-type]
    client = host.test_client()
    assert client.get(SUBS).status_code == 200
    assert rows(host, User, User.external_key == "7", User.email == "bo@acme.test", User.is_owner.is_(True)) == 1
    assert writes(subs_page_sql(host, client)) == []


@pytest.mark.parametrize("email", ["", "no address at all"])
def test_a_person_the_host_describes_without_an_e_mail_address_is_told_and_nothing_is_written(host, email):
    host.person = lambda: HostPerson(key="u-9", email=email, name="No Mail", organisation=ACME)
    before = rows(host, User), rows(host, Organisation)
    response = host.test_client().get(SUBS)
    assert response.status_code == 403
    assert "Your account cannot be used here yet" in response.get_data(as_text=True)
    assert (rows(host, User), rows(host, Organisation)) == before


def test_a_person_the_host_moves_to_another_organisation_is_not_carried_across_tenants(host):
    host.person = ALICE
    client = host.test_client()
    assert client.get(SUBS).status_code == 200
    globex = HostOrganisation(key="org-2", name="Globex AB", org_number="556016-0680")
    host.person = HostPerson(key="u-1", email=ALICE.email, name=ALICE.name, organisation=globex)
    assert client.get(SUBS).status_code == 409
    with host.app_context():
        alice = db.session().scalar(select(User).where(User.external_key == "u-1"))
        assert alice.organisation.external_key == "org-1"  # still Acme's, with Acme's orders


def test_state_changes_need_the_csrf_token(host):
    host.person = ALICE
    response = host.test_client().post("/telephony/settings/account/subs/orders", data={"kind": "mobile"})
    assert response.status_code == 400
    assert rows(host, Draft) == 0


def test_addresses_under_the_prefix_that_match_no_view_get_the_wizards_pages_and_others_the_hosts(host):
    host.person = ALICE
    client = host.test_client()
    wrong_method = client.get("/telephony/settings/account/subs/orders")  # a POST-only address
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert "This address cannot be opened like that" in wrong_method.get_data(as_text=True)
    unknown = client.get("/telephony/no-such-page")
    assert unknown.status_code == 404 and '<nav class="host-nav">' in unknown.get_data(as_text=True)
    for response in (wrong_method, unknown):
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    hosts_own = client.get("/no-such-page")
    assert hosts_own.status_code == 404 and hosts_own.get_data(as_text=True) == "Acme intranet: no such page"


def test_a_mounted_wizard_has_no_api_so_no_api_tokens_page(host):
    """The JSON API is the standalone app's (api.init_app); mounted, its tokens would open nothing."""
    host.person = ALICE  # holds `account`, who may make tokens in the standalone app
    client = host.test_client()
    assert client.get("/telephony/settings/account/api-tokens").status_code == 404
    assert client.get("/telephony/api/v1/openapi.json").status_code == 404
    assert "API tokens" not in client.get(SUBS).get_data(as_text=True)
    assert not [rule.rule for rule in host.url_map.iter_rules() if "/api" in rule.rule]


def test_mounting_leaves_the_hosts_locale_time_zone_and_csrf_settings_alone(database_url, tmp_path):
    app = Flask("host", instance_path=str(tmp_path / "host"))
    app.config.update(SECRET_KEY="host-secret")
    mount(app, identity=lambda: None, database_url=database_url)
    assert app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC") == "UTC"  # Flask-Babel's default, not Stockholm
    assert app.config.get("WTF_CSRF_TIME_LIMIT", 3600) == 3600  # the host's tokens still expire
    assert app.config["NUMBER_HOLD_MINUTES"] == 30  # the wizard's own settings are there
    app.extensions["db_engine"].dispose()


def test_a_host_filter_of_the_same_name_stops_the_mount_with_a_clear_message(database_url, tmp_path):
    app = Flask("host", instance_path=str(tmp_path / "host"))
    app.config.update(SECRET_KEY="host-secret")
    app.jinja_env.filters["money"] = lambda value: f"${value}"  # the host's own, used by its templates
    with pytest.raises(RuntimeError, match="already has money"):
        mount(app, identity=lambda: None, database_url=database_url)
    assert app.jinja_env.filters["money"](5) == "$5"  # the host's filter is untouched


def test_a_host_with_its_own_flask_babel_chooses_the_language_and_gets_the_wizards_swedish(database_url, tmp_path):
    """The host's Flask-Babel decides the language; the wizard's catalogue is merged after the host's
    own, and the header's switch (the wizard's choice) is not offered."""
    from flask_babel import Babel

    app = Flask("host", instance_path=str(tmp_path / "host"))
    app.config.update({k: v for k, v in TEST_CONFIG.items() if k != "SECRET_KEY"}, SECRET_KEY="host-secret")
    Babel(app, locale_selector=lambda: "sv")  # the host's own instance, its own rule: always Swedish
    mount(app, identity=lambda: ALICE, url_prefix="/telephony", database_url=database_url)
    with app.app_context():
        seed_demo(db.session())
    html = app.test_client().get(SUBS, headers={"Accept-Language": "en"}).get_data(as_text=True)
    app.extensions["db_engine"].dispose()
    assert '<html lang="sv">' in html
    assert "Köpta abonnemang" in html and "Lägg till mobilabonnemang" in html
    assert "language-switch" not in html


def test_a_host_without_flask_babel_gets_the_wizards_choice_from_the_browser(host):
    host.person = ALICE
    html = host.test_client().get(SUBS, headers={"Accept-Language": "sv-SE,sv"}).get_data(as_text=True)
    assert "Köpta abonnemang" in html
    assert "language-switch" not in html  # mounted: no switch, the host's layout has none of ours
