"""examples/intranet/: the wizard mounted at /telephony/ in a host app with its own logins and layout.

A person logs in to the intranet (its form, its CSRF token) and uses the wizard as a browser
without JavaScript does, and with htmx's headers; every address the wizard gives them must stay
under /telephony/.
"""

import importlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import TEST_CONFIG
from wizard import db
from wizard.models import Organisation, User

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "intranet"
PREFIX = "/telephony/"
PASSWORD = "intranet-demo-pw"
HTMX = {"HX-Request": "true"}
ADDRESS_ATTRIBUTES = ("href", "action", "src", "formaction", "hx-get", "hx-post", "hx-put", "hx-delete", "hx-patch")
ADDRESS_HEADERS = ("Location", "HX-Push-Url", "HX-Replace-Url", "HX-Location", "HX-Redirect")

# What a buyer answers at each step (the User step's answer is filled in with the buyer's own id).
ANSWERS = {
    "price_basis": {"basis": "unbound"},
    "call_rate": {"code": "rate-fixed"},
    "data_package": {"code": "data-5"},
    "number": {"choice": "new"},
    "sim": {"sim_kind": "esim"},
    "pbx": {"mode": "pbx"},  # a fixed PBX number gets the MEX editor on the Users page
    "top_up": {"top_up": "no"},
}


@pytest.fixture
def intranet(monkeypatch):
    """The example's factory module, imported the way `flask --app examples/intranet/app.py` does."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    return importlib.import_module("intranet")


@pytest.fixture
def host(intranet, database_url, tmp_path):
    """The intranet on a temporary instance folder, its demo data loaded on start, the wizard's
    database on SQLite or PostgreSQL."""
    config = {**TEST_CONFIG, "SECRET_KEY": "intranet-test-secret", "WIZARD_DATABASE_URL": database_url}
    app = intranet.create_app(config, instance_path=str(tmp_path / "instance"))
    yield app
    app.extensions["db_engine"].dispose()


class Page(HTMLParser):
    """A page as a test reads it: every address (and whether it sits in the wizard's part of the
    page), the forms with their fields, and the text."""

    def __init__(self, html: str, fragment: bool):
        super().__init__()
        self.addresses: list[tuple[str, bool]] = []
        self.links: list[str] = []  # <a href> inside the wizard's part
        self.forms: list[dict] = []
        self.text: list[str] = []
        self.title: str | None = None  # the <title>, of a page or of an htmx fragment
        self.wizard_divs = 1 if fragment else 0  # open <div>s since the wizard's own, 0 outside it
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and (self.wizard_divs or "wizard-hosted" in (attrs.get("class") or "").split()):
            self.wizard_divs += 1
        for name in ADDRESS_ATTRIBUTES:
            if attrs.get(name) is not None:
                self.addresses.append((attrs[name], self.wizard_divs > 0))
        if tag == "a" and attrs.get("href") and self.wizard_divs:
            self.links.append(attrs["href"])
        if tag == "title":
            self.title = ""
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method", "get"), "fields": []})
        elif tag in ("input", "select", "textarea", "button") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].append(attrs)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "div" and self.wizard_divs:
            self.wizard_divs -= 1

    def handle_data(self, data):
        self.text.append(data)
        if self.lasttag == "title" and self.title == "":
            self.title = data.strip()

    def form(self, action: str) -> dict:
        return next(f for f in self.forms if f["action"] == action)

    def all_text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text)).replace("\u00a0", " ")


def read(response) -> Page:
    """The page, or the fragment of one htmx asked for (then all of it is the wizard's)."""
    html = response.get_data(as_text=True)
    return Page(html, fragment=not re.search(r"<html[\s>]", html))


class Person:
    """One person's browser on the intranet. Every wizard response it gets is checked: all its
    addresses (links, forms, scripts, htmx requests, redirects, htmx URL headers) stay under /telephony/."""

    def __init__(self, app, email: str):
        self.client = app.test_client()
        page = read(self.client.get("/login"))
        token = next(f["value"] for f in page.form("/login")["fields"] if f["name"] == "csrf_token")
        response = self.client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        # The intranet's own addresses (its layout's links, logout form, stylesheet), from its Home page.
        self.host_addresses = {address for address, _in_wizard in read(self.client.get("/")).addresses}

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.check(url, response)
        return response

    def post(self, url: str, data: dict, **kwargs):
        response = self.client.post(url, data=data, **kwargs)
        self.check(url, response)
        return response

    def page(self, url: str) -> Page:
        """GET a wizard page whole, and as htmx asks for it, checking both; the whole page."""
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        self.get(url, headers=HTMX)
        return read(response)

    def check(self, url: str, response) -> None:
        assert response.status_code < 500, (url, response.status_code)
        if not urlsplit(url).path.startswith(PREFIX):
            return
        for header in ADDRESS_HEADERS:
            if header in response.headers:
                assert self.on_wizard(url, response.headers[header]), (url, header, response.headers[header])
        if response.mimetype == "text/html":
            for address, in_wizard in read(response).addresses:
                host_owned = not in_wizard and address in self.host_addresses
                assert host_owned or self.on_wizard(url, address), (url, address)

    @staticmethod
    def on_wizard(page_url: str, address: str) -> bool:
        """An address the wizard gave: under the prefix once resolved against the page, unless it
        only points into the page (#...) or off this site."""
        if address.startswith("#"):
            return True
        resolved = urlsplit(urljoin("http://localhost" + page_url, address))
        if resolved.scheme not in ("http", "https") or resolved.netloc != "localhost":
            return True
        return resolved.path.startswith(PREFIX)

    def token(self, page: Page, action: str) -> str:
        return next(f["value"] for f in page.form(action)["fields"] if f["name"] == "csrf_token")

    def start(self, kind: str) -> str:
        """Add Subs mobile/fixed; the address of the step it sends the buyer to."""
        subs = self.page(PREFIX + "settings/account/subs")
        action = PREFIX + "settings/account/subs/orders"
        response = self.post(action, {"csrf_token": self.token(subs, action), "kind": kind})
        assert response.status_code == 303
        return response.headers["Location"]

    def answer(self, url: str, answers: dict):
        """Fill in the fields the step shows; when an answer reveals more fields, fill those too."""
        page = self.page(url)
        for _round in range(3):
            fields = page.form(url)["fields"]
            data = {"_shown": [f["value"] for f in fields if f["name"] == "_shown"]}
            data |= {f["name"]: f["value"] for f in fields if f["name"] in ("csrf_token", "version")}
            data |= {name: value for name, value in answers.items() if any(f["name"] == name for f in fields)}
            response = self.post(url, data)
            if response.status_code != 200:
                return response
            page = read(response)
        raise AssertionError(f"{url} kept revealing fields")

    def order(self, kind: str, user_id: int) -> str:
        """A whole order up to Check your answers, step by step as the wizard leads; the order's address."""
        answers = {**ANSWERS, "user": {"user_id": str(user_id)}}
        url = self.start(kind)
        while not url.endswith("/review"):
            response = self.answer(url, answers[url.rsplit("/", 1)[1]])
            assert response.status_code == 303, (url, response.status_code)
            url = response.headers["Location"]
        return url.rsplit("/", 1)[0]

    def save(self, order_url: str):
        review = self.page(order_url + "/review")
        form = review.form(order_url + "/save")
        data = {f["name"]: f["value"] for f in form["fields"] if f["name"] in ("csrf_token", "version")}
        return self.post(order_url + "/save", data)

    def logout(self):
        page = read(self.client.get("/"))
        return self.client.post("/logout", data={"csrf_token": self.token(page, "/logout")})


def crawl(person: Person, start: list[str], limit: int = 40) -> None:
    """Every wizard page the person can reach by a link from these, whole and as htmx asks for it."""
    seen: set[str] = set()
    queue = list(start)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = person.get(url)
        if response.status_code in (301, 302, 303):  # e.g. resume: on to the step it names
            queue.append(response.headers["Location"])
            continue
        for address in person.page(url).links:
            target = urlsplit(urljoin("http://localhost" + url, address))
            if target.path.startswith(PREFIX) and "/static/" not in target.path:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))


def wizard_user_id(app, email: str) -> int:
    with app.app_context():
        return db.session().scalar(select(User.id).where(User.email == email))


def test_every_wizard_address_carries_the_prefix(host):
    buyer = Person(host, "buyer@acme.test")
    me = wizard_user_id(host, "buyer@acme.test")

    mobile = buyer.order("mobile", me)
    done = buyer.save(mobile)
    assert done.status_code == 303 and done.headers["Location"] == mobile + "/done"
    confirmation = buyer.page(done.headers["Location"])
    assert "Subscription ordered" in confirmation.all_text()
    esim = next(a for a, _w in confirmation.addresses if a.endswith("/esim"))
    assert "eSIM" in buyer.page(esim).all_text()

    fixed = buyer.order("fixed", me)
    assert buyer.save(fixed).headers["Location"] == fixed + "/done"
    buyer.page(fixed + "/done")

    unfinished = buyer.order("mobile", me)
    assert buyer.get(unfinished).headers["Location"] == unfinished + "/review"  # resume at its first unanswered step
    crawl(buyer, [PREFIX + "settings/account/subs", unfinished + "/review"])  # Change links, pagers, done pages
    discard = buyer.page(unfinished + "/discard")
    fields = discard.form(unfinished + "/discard")["fields"]
    response = buyer.post(unfinished + "/discard", {f["name"]: f["value"] for f in fields})
    assert response.status_code == 303 and response.headers["Location"] == PREFIX + "settings/account/subs"
    assert "The unfinished order was discarded." in buyer.page(response.headers["Location"]).all_text()

    owner = Person(host, "it@acme.test")
    users = owner.page(PREFIX + "settings/users")
    assert "Bo Ahlgren" in users.all_text() and "Rita Ek" in users.all_text()
    detail = owner.page(f"{PREFIX}settings/users/{me}")
    assert "070-123 40 00" in detail.all_text() and "08-123 457 00" in detail.all_text()

    # The MEX editor, without JavaScript and with htmx: Edit, Done (a preview), then Save.
    preview, save = f"{PREFIX}settings/users/{me}/mex/preview", f"{PREFIX}settings/users/{me}/mex"
    fields = {f["name"]: f["value"] for f in detail.form(preview)["fields"]}
    token, fixed_id = fields["csrf_token"], fields["edit"]
    assert owner.post(preview, {"csrf_token": token, "edit": fixed_id}, headers=HTMX).status_code == 200
    editor = owner.post(preview, {"csrf_token": token, "edit": fixed_id})
    assert f"connected-{fixed_id}" in {f["name"] for f in read(editor).form(preview)["fields"]}
    pending = owner.post(preview, {"csrf_token": token, "done": fixed_id, f"connected-{fixed_id}": "070-123 40 00"})
    carried = {f["name"]: f["value"] for f in read(pending).form(preview)["fields"] if f["name"].startswith("pending-")}
    assert carried == {f"pending-{fixed_id}": "+46701234000"}
    saved = owner.post(save, {"csrf_token": token, **carried})
    assert saved.status_code == 303 and saved.headers["Location"] == f"{PREFIX}settings/users/{me}"
    assert "The MEX connections of Bo Ahlgren are updated." in owner.page(saved.headers["Location"]).all_text()
    crawl(owner, [PREFIX + "settings/users"])


def test_a_person_without_the_account_permission_is_told_which_one_is_missing(host):
    reader = Person(host, "reader@acme.test")
    response = reader.get(PREFIX + "settings/account/subs")
    assert response.status_code == 403
    page = read(response)
    assert "Only the account owner and people with the Account permission can see this page." in page.all_text()
    assert "Ask the owner of Acme AB, Ines Thorsen (it@acme.test), to give you the permission." in page.all_text()
    assert "Telephony" in page.all_text() and "/logout" in {a for a, _w in page.addresses}  # in the intranet's layout


def test_two_host_organisations_never_see_each_others_orders(host):
    acme = Person(host, "buyer@acme.test")
    placed = acme.order("fixed", wizard_user_id(host, "buyer@acme.test"))
    assert acme.save(placed).status_code == 303
    unfinished = acme.start("mobile").rsplit("/", 1)[0]
    globex = Person(host, "buyer@globex.test")
    token = globex.token(globex.page(PREFIX + "settings/account/subs"), PREFIX + "settings/account/subs/orders")

    for order in (placed, unfinished):
        for address in ("", "/price_basis", "/review", "/discard", "/done"):
            assert globex.get(order + address).status_code == 404, order + address
        for address in ("/price_basis", "/save", "/discard"):
            response = globex.post(order + address, {"csrf_token": token, "version": "1", "basis": "unbound"})
            assert response.status_code == 404, order + address
    subs = globex.page(PREFIX + "settings/account/subs").all_text()
    assert "You have no unfinished orders." in subs and "0 subscriptions" in subs
    assert acme.get(unfinished).status_code == 302  # still there, and still Acme's
    assert acme.get(placed + "/done").status_code == 200


def test_host_pages_are_the_hosts_and_logging_out_of_the_intranet_ends_the_wizard(host):
    buyer = Person(host, "buyer@acme.test")
    home = buyer.client.get("/")
    assert home.status_code == 200 and "Welcome, Bo Ahlgren" in read(home).all_text()
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Request-ID"):
        assert header not in home.headers, header
    subs = buyer.get(PREFIX + "settings/account/subs")
    assert "frame-ancestors 'none'" in subs.headers["Content-Security-Policy"]

    assert buyer.logout().headers["Location"] == "/login"
    response = buyer.client.get(PREFIX + "settings/account/subs")
    assert response.status_code == 302
    login = urlsplit(response.headers["Location"])
    assert login.path == "/login" and parse_qs(login.query)["next"] == [PREFIX + "settings/account/subs"]
    assert "Log in to see this page." in read(buyer.client.get(response.headers["Location"])).all_text()


def test_the_intranet_header_on_wizard_pages_shows_the_intranets_own_person(host):
    # `current_user` in the intranet's layout stays the intranet's (its Person has organisation_name;
    # the wizard's user, given to wizard templates as wizard_user, has not).
    page = read(Person(host, "buyer@acme.test").get(PREFIX + "settings/account/subs")).all_text()
    assert "Bo Ahlgren · Acme AB" in page


def test_an_htmx_request_after_logout_loads_the_login_page_whole(host):
    buyer = Person(host, "buyer@acme.test")
    order = buyer.start("mobile")
    buyer.logout()
    response = buyer.client.get(order, headers=HTMX)
    assert response.status_code == 200 and response.get_data() == b""  # nothing to swap into the step
    login = urlsplit(response.headers["HX-Redirect"])  # htmx loads it as a whole page
    assert login.path == "/login" and parse_qs(login.query)["next"] == [urlsplit(order).path]


def test_a_change_in_the_host_shows_in_the_wizard_on_the_next_request(host, intranet):
    buyer = Person(host, "buyer@acme.test")
    order = buyer.start("fixed").rsplit("/", 1)[0]
    directory = intranet.directory

    def change(name, permissions):
        with host.app_context():
            person = next(p for p in directory.everyone() if p.email == "buyer@acme.test")
            directory.change(person.id, name, frozenset(permissions), owner=False)

    change("Bo Ahlgren-Ek", set())
    response = buyer.get(order)
    assert response.status_code == 403 and "people with the Account permission" in read(response).all_text()

    change("Bo Ahlgren-Ek", {"account"})
    for key in ("price_basis", "call_rate", "number", "pbx"):
        buyer.answer(f"{order}/{key}", ANSWERS[key])
    step = read(buyer.get(f"{order}/user", headers=HTMX)).all_text()  # the step only, not the intranet's header
    assert "Bo Ahlgren-Ek" in step and "Ines Thorsen" in step and "Rita Ek" in step
    with host.app_context():
        row = db.session().scalar(select(User).where(User.email == "buyer@acme.test"))
        assert (row.name, row.permissions, row.organisation.name) == ("Bo Ahlgren-Ek", "account", "Acme AB")
        globex = db.session().scalar(select(Organisation).where(Organisation.name == "Globex AB"))
        assert globex.org_number == "559900-4560"  # provisioned on start, before anyone of Globex came


def test_a_host_without_a_base_template_gets_the_wizards_own_layout_without_its_logout(database_url, tmp_path):
    from flask import Flask

    import wizard

    host = Flask("bare_host", instance_path=str(tmp_path))
    host.config.update(TEST_CONFIG)
    organisation = wizard.HostOrganisation("bare:1", "Bare AB", "559123-4561")
    person = wizard.HostPerson("bare:7", "ann@bare.test", "Ann Bare", organisation, frozenset({"account"}))
    wizard.mount(host, identity=lambda: person, database_url=database_url)
    response = host.test_client().get(PREFIX + "settings/account/subs")
    assert response.status_code == 200
    page = read(response)
    assert "Ann Bare · Bare AB" in page.all_text() and "Log out" not in page.all_text()
    assert {a for a, _w in page.addresses if not Person.on_wizard(PREFIX, a)} == set()
    host.extensions["db_engine"].dispose()


def test_under_a_wsgi_script_root_the_addresses_htmx_pushes_keep_it(host):
    """An intranet served under a path of its own (a proxy's SCRIPT_NAME): the URLs htmx puts in the
    address bar must keep that path too, like every url_for address does."""
    owner = Person(host, "it@acme.test")
    step = owner.start("fixed")[len(PREFIX) :]
    me = wizard_user_id(host, "it@acme.test")
    under = {"base_url": "http://localhost/intranet/", "headers": HTMX}
    for page, header in (
        ("settings/account/subs?q=070", "HX-Replace-Url"),
        ("settings/users?q=Rita", "HX-Replace-Url"),
        (step, "HX-Push-Url"),
        (f"settings/users/{me}", "HX-Push-Url"),
    ):
        response = owner.client.get(PREFIX + page, **under)
        assert response.headers[header] == "/intranet" + PREFIX + page
        assert all(a.startswith("/intranet" + PREFIX) for a, _w in read(response).addresses if not a.startswith("#"))


def test_titles_end_with_the_intranets_name_also_when_htmx_swaps_a_step(host):
    owner = Person(host, "it@acme.test")
    step = owner.start("fixed")
    assert read(owner.get(step)).title == "Price basis – New subscription – Acme intranet"
    assert read(owner.get(step, headers=HTMX)).title == "Price basis – New subscription – Acme intranet"
    me = wizard_user_id(host, "it@acme.test")
    panel = read(owner.get(f"{PREFIX}settings/users/{me}", headers=HTMX))
    assert panel.title == "Ines Thorsen – Users – Acme intranet"
