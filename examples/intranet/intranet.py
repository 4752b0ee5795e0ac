"""Acme's intranet: its own people and logins, with the telephony wizard mounted at /telephony/.

The intranet logs people in (Flask-Login, argon2 password hashes, Flask-WTF forms with CSRF);
the wizard asks it who is at the keyboard through `telephony_person`, the identity adapter, and
renders its pages inside the intranet's layout.html.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from urllib.parse import urlsplit

import directory
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

import wizard
from wizard import HostOrganisation, HostPerson, db, migrate, seed

csrf = CSRFProtect()
login_manager = LoginManager()
pages = Blueprint("intranet", __name__)


class Defaults:
    """The intranet's settings; instance/config.py, then environment variables, then a test dict override them."""

    SECRET_KEY = None  # None: a random key kept in instance/secret-key (see secret_key)
    WIZARD_DATABASE_URL = None  # None: instance/wizard.sqlite3, the wizard's own database
    LOAD_DEMO_ON_START = True  # the demo people, and the wizard's schema and demo data
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """The intranet, with the wizard mounted under /telephony/ inside its layout."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    configure(app, test_config)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "intranet.login"
    login_manager.login_message = _l("Log in to see this page.")
    app.register_blueprint(pages)
    app.teardown_appcontext(directory.close_db)
    wizard.mount(
        app,
        identity=telephony_person,
        url_prefix="/telephony",
        base_template="layout.html",
        site_name=_l("Acme intranet"),
    )
    if app.config["LOAD_DEMO_ON_START"]:
        load_demo(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for name in ("SECRET_KEY", "WIZARD_DATABASE_URL"):
        if name in os.environ:
            app.config[name] = os.environ[name]
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or secret_key(app.instance_path)


def secret_key(instance_path: str) -> str:
    """A random key made once per instance folder: enough for a demo on one machine. A real
    intranet sets SECRET_KEY (environment or instance/config.py), the same on every server."""
    path = os.path.join(instance_path, "secret-key")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()


def hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"])


def load_demo(app: Flask) -> None:
    """Demo people in the intranet; the wizard's schema and demo data (prices, free numbers); and every
    intranet person provisioned into the wizard, so its User step lists colleagues who never opened it."""
    with app.app_context():
        directory.load_demo(hasher().hash)
        migrate.upgrade(db.engine())
        seed.seed_demo(db.session())
        for person in directory.everyone():
            wizard.provision(app, as_host_person(person))


# ------------------------------------------------------------------ the identity adapter


def telephony_person() -> HostPerson | None:
    """Who is at the keyboard, as the wizard needs to know them (None: nobody is logged in)."""
    return as_host_person(current_user) if current_user.is_authenticated else None


def as_host_person(person: directory.Person) -> HostPerson:
    """Keys are the intranet's ids, which never change (an e-mail address may)."""
    return HostPerson(
        key=f"acme-intranet:person:{person.id}",
        email=person.email,
        name=person.name,
        organisation=HostOrganisation(
            key=f"acme-intranet:organisation:{person.organisation_id}",
            name=person.organisation_name,
            org_number=person.org_number,
        ),
        permissions=person.permissions,
        owner=person.owner,
    )


@login_manager.user_loader
def load_person(person_id: str) -> directory.Person | None:
    return directory.find(int(person_id)) if person_id.isdigit() else None


# ------------------------------------------------------------------ pages


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address"))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password"))])


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, else Home."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return url_for("intranet.home")
    return target


@pages.route("/")
@login_required
def home():
    return render_template("home.html")


@pages.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        found = directory.find_login(form.email.data)
        if found is None:
            spend_a_verification(form.password.data)  # an unknown address costs what a wrong password does
        elif password_matches(*found, form.password.data):
            login_user(found[0])
            return redirect(safe_next(request.args.get("next")), 303)
        form.password.errors = [_("Wrong email address or password")]
    return render_template("login.html", form=form), 422 if form.errors else 200


@functools.cache
def dummy_hash(time_cost: int, memory_cost: int) -> str:
    """A hash of nothing anyone knows, made once per process and cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost).hash(secrets.token_hex(16))


def spend_a_verification(password: str) -> None:
    """One argon2 verification that always fails, so login time does not tell which addresses exist."""
    config = current_app.config
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher().verify(dummy_hash(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"]), password)


def password_matches(person: directory.Person, password_hash: str, password: str) -> bool:
    """Check the password; upgrade the stored hash when the hashing parameters were raised."""
    try:
        hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher().check_needs_rehash(password_hash):
        directory.set_password_hash(person.id, hasher().hash(password))
    return True


@pages.route("/logout", methods=["POST"])
def logout():
    """A POST with the CSRF token (CSRFProtect), so no other site can log people out."""
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("intranet.login"), 303)
