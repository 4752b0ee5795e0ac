"""Fixtures: an app per test on SQLite and on PostgreSQL, a browser-like client, and login helpers."""

import os
import re
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from wizard import create_app, db, migrate
from wizard.config import ENV_SETTINGS
from wizard.db import Base, make_engine
from wizard.seed import seed_demo

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
}

# Everything the apps under test read from the environment: the wizard's settings (config.py), the
# intranet example's, and Flask's debug switch (it relaxes the cookie flags). None of it may come from
# the shell that starts the tests (e.g. SESSION_COOKIE_SECURE=false exported for local http); a test
# that means to set one does so with monkeypatch.setenv, after this has cleared them.
APP_ENVIRONMENT = (*ENV_SETTINGS, "WIZARD_DATABASE_URL", "FLASK_DEBUG")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch):
    """Each test starts from an environment without the apps' settings (subprocesses inherit it too)."""
    for name in APP_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def _postgres_or_skip():
    """A reachable PostgreSQL admin engine; without one, skip, except in CI where it must fail."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        engine.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return engine


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A throw-away PostgreSQL database for this test run, migrated to head."""
    admin = _postgres_or_skip()
    name = f"wizard_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    """The application on a fresh database holding SPEC's demo data."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}, instance_path=str(tmp_path))
    with app.app_context():
        seed_demo(db.session())
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page, as a browser would send it."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


class Browser:
    """Posts forms the way a browser does: fetch the page, send its CSRF token back."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def submit(self, page_url, data, action=None, **kwargs):
        page = self.client.get(page_url)
        token = csrf_token(page.get_data(as_text=True))
        return self.client.post(action or page_url, data={"csrf_token": token, **data}, **kwargs)

    def login(self, email, password):
        return self.submit("/login", {"email": email, "password": password})

    def logout(self):
        page = self.client.get("/settings/account/subs")
        return self.client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.fixture
def browser(client):
    return Browser(client)


DEMO = {
    "owner": ("owner@nordlys.test", "demo-owner-pw"),
    "buyer": ("buyer@nordlys.test", "demo-buyer-pw"),
    "staff": ("staff@nordlys.test", "demo-staff-pw"),
    "fjord": ("owner@fjord.test", "demo-owner-pw"),
}


@pytest.fixture
def login_as(app):
    """login_as('owner') gives a fresh Browser logged in as that demo user."""

    def _login(who):
        b = Browser(app.test_client())
        response = b.login(*DEMO[who])
        assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return _login


@pytest.fixture
def buyer_as(app):
    """buyer_as('owner') gives a logged-in Buyer that can walk the wizard."""
    from tests.wizard_client import Buyer

    def _buyer(who):
        b = Buyer(app.test_client())
        assert b.login(*DEMO[who]).status_code == 302
        return b

    return _buyer


@pytest.fixture
def query(app):
    """Run a function with a fresh database session and return its result."""

    def _query(fn):
        with app.app_context():
            return fn(db.session())

    return _query
