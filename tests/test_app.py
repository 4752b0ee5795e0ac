"""Configuration, the vendored htmx, the CLI and locale-aware formatting."""

import hashlib
import pathlib

import pytest

from wizard import create_app

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTMX = ROOT / "static" / "htmx-4.0.1.min.js"
HTMX_SHA256 = "a0abb04f2f45a1f89d1d4844023245537e5e6014c87b144553e0607b4cc32130"


def test_missing_secret_key_is_a_clear_startup_error(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "SECRET_KEY": None}, instance_path=str(tmp_path))


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("NUMBER_HOLD_MINUTES", "45")
    monkeypatch.setenv("EMBEDDING", "true")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["NUMBER_HOLD_MINUTES"] == 45
    assert app.config["EMBEDDING"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_instance_config_overrides_defaults_and_environment_overrides_it(monkeypatch, tmp_path):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nNUMBER_HOLD_MINUTES = 10\n")
    monkeypatch.setenv("NUMBER_HOLD_MINUTES", "20")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}, instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["NUMBER_HOLD_MINUTES"] == 20


def test_default_database_is_sqlite_under_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["DATABASE_URL"] == f"sqlite:///{app.instance_path}/wizard.sqlite3"
    app.extensions["db_engine"].dispose()


def test_vendored_htmx_is_the_pinned_release():
    content = HTMX.read_bytes()
    assert hashlib.sha256(content).hexdigest() == HTMX_SHA256
    assert b'version:"4.0.1"' in content.replace(b" ", b"") or b"4.0.1" in content


def test_layout_loads_htmx_from_static(login_as):
    html = login_as("owner").get("/settings/account/subs").get_data(as_text=True)
    assert 'src="/static/htmx-4.0.1.min.js"' in html


def test_create_user_command(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "New@Nordlys.test",
            "--name",
            "New Person",
            "--org-number",
            "556677-8899",
            "--permission",
            "account",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    from tests.conftest import Browser

    assert Browser(app.test_client()).login("new@nordlys.test", "a-long-password").status_code == 302
    again = runner.invoke(
        args=[
            "create-user",
            "--email",
            "new@nordlys.test",
            "--name",
            "X",
            "--org-number",
            "556677-8899",
            "--password",
            "another-long-pw",
        ]
    )
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.parametrize(("locale", "expected"), [("en", "SEK\u00a0199.00"), ("sv_SE", "199,00\u00a0kr")])
def test_prices_are_formatted_by_babel(app, locale, expected):
    from flask_babel import force_locale

    from wizard.i18n import money

    with app.test_request_context("/"), force_locale(locale):
        assert money(19900) == expected


@pytest.mark.parametrize("phone", ["0771-00 00 00", "+4612", "customer service"])
def test_a_support_phone_that_is_not_one_stops_the_start_with_a_clear_message(monkeypatch, tmp_path, phone):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("SUPPORT_PHONE", phone)
    with pytest.raises(RuntimeError, match="SUPPORT_PHONE .* is not a phone number in E.164 form"):
        create_app(instance_path=str(tmp_path))


def test_a_support_phone_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("SUPPORT_PHONE", "+46771000000")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SUPPORT_PHONE"] == "+46771000000"
    app.extensions["db_engine"].dispose()
