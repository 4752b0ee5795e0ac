"""Subscription purchase wizard: the standalone app factory, and `mount` for a host Flask app.

Both build the same `wizard` blueprint (every page module's blueprint under it, templates and
static files with it), so every endpoint is `wizard.<page>.<view>` and every address comes
from url_for under whatever prefix the wizard is mounted at.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from flask import Blueprint, Flask, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    api,
    audit_view,
    auth,
    batch_view,
    cli,
    config,
    db,
    embed_view,
    errors,
    i18n,
    identity,
    mail,
    queue,
    requestlog,
    security,
    step_view,
    subs_view,
    subscription_view,
    templating,
    tokens_view,
    users_view,
)
from .extensions import csrf, limiter, login_manager
from .identity import HostOrganisation, HostPerson
from .models import utcnow
from .visitor import Mode

__all__ = ["HostOrganisation", "HostPerson", "create_app", "mount", "provision"]


def create_app(test_config=None, instance_path=None) -> Flask:
    """The standalone wizard: its own logins, error pages and headers, mounted at the site root."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True, static_folder=None)
    os.makedirs(app.instance_path, exist_ok=True)
    config.load(app, test_config)
    if app.debug and not app.config["EMBEDDING"]:  # a framed wizard's cookie must be Secure (config.py)
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    db.init_app(app, app.config["DATABASE_URL"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "wizard.auth.login"
    login_manager.session_protection = None  # our server-side login sessions do this job
    login_manager.login_message = _l("Log in to see this page.")  # Flask-Login's own is not in our catalogue
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    mail.init_app(app)
    queue.init_app(app)
    app.extensions["wizard"] = Mode(hosted=False)
    app.register_blueprint(blueprint(standalone=True))
    api.init_app(app)  # /api/v1/: standalone only (a host that mounts the wizard serves its own API)
    app.context_processor(templating.wizard_context)
    security.init_app(app)
    requestlog.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address, scheme, host, port and prefix from the
    X-Forwarded-* headers that many proxies set (PROXY_FIX_*, 0: trust none, the default: anyone
    could send them). Standalone only: mounted, the host owns its WSGI stack."""
    counts = {part: app.config[f"PROXY_FIX_X_{part.upper()}"] for part in ("for", "proto", "host", "port", "prefix")}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{part}": n for part, n in counts.items()})  # type: ignore[method-assign]


def mount(
    app: Flask,
    identity: Callable[[], HostPerson | None],
    url_prefix: str = "/telephony",
    base_template: str | None = None,
    database_url: str | None = None,
    site_name: str | None = None,
) -> Blueprint:
    """Mount the wizard in a host app under `url_prefix`.

    `identity` returns the person at the keyboard (or None when nobody is logged in; then the
    host's Flask-Login login page is shown). The wizard provisions its own rows from it, keeps its
    own database (`database_url`, default instance/wizard.sqlite3 of the host), registers no login
    pages, and with `base_template` renders inside that host template's `content` block. `site_name`
    ends the titles it sets itself (an htmx swap changes the page's title), as the host's layout does.
    """
    config.set_defaults(app)
    templating.init_app(app)  # first: it refuses a host whose templates use the same names
    url = database_url or app.config.get("WIZARD_DATABASE_URL") or config.sqlite_url(app)
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app, url)
    i18n.init_app(app)
    mail.init_app(app)  # the host's Flask-Mailman if it has one
    queue.init_app(app)
    app.extensions["wizard"] = Mode(hosted=True, identify=identity, base_template=base_template, site_name=site_name)
    bp = blueprint(standalone=False)
    _protect_forms(app, bp)
    security.init_app(bp)
    requestlog.init_app(bp)
    errors.init_app(bp)
    app.register_blueprint(bp, url_prefix=url_prefix)
    _answer_unmatched_addresses(app, url_prefix)
    cli.init_app(app, group="wizard")
    return bp


def _answer_unmatched_addresses(app: Flask, url_prefix: str) -> None:
    """Wizard pages, and addresses under the prefix that no view matched (404) or not with that method
    (405), which never reach the blueprint's own handlers, get the wizard's templates' context and
    pages; every other address is left to the host: its templates, its handler as registered before
    mount(), else Werkzeug's."""
    prefix = url_prefix.rstrip("/")

    def in_wizard() -> bool:
        under_prefix = request.path == prefix or request.path.startswith(prefix + "/")
        return under_prefix or (request.blueprint or "").partition(".")[0] == "wizard"

    app.context_processor(lambda: templating.wizard_context() if has_request_context() and in_wizard() else {})
    for exc_class, wizard_handler in ((NotFound, errors.not_found), (MethodNotAllowed, errors.http_error)):
        host_handler = app.error_handler_spec.get(None, {}).get(exc_class.code, {}).get(exc_class)

        def handler(exc, wizard_handler=wizard_handler, host_handler=host_handler):
            if not in_wizard():
                return host_handler(exc) if host_handler else exc
            response = security.set_security_headers(app.make_response(wizard_handler(exc)))
            return requestlog.echo_request_id(response)

        app.register_error_handler(exc_class, handler)


def provision(app: Flask, person: HostPerson) -> None:
    """Create or update a host's person in the wizard ahead of their first visit (their first request
    would do it anyway), e.g. so the User step lists colleagues who have not opened the wizard yet."""
    with app.app_context():
        identity.provision(db.engine(), person, utcnow())


def blueprint(standalone: bool) -> Blueprint:
    """The wizard: one blueprint per page module under one parent, with the templates and static files."""
    bp = Blueprint(
        "wizard",
        __name__,
        template_folder=config.resource_dir("templates"),
        static_folder=config.resource_dir("static"),
        static_url_path="/static",
    )
    for page in (
        auth,
        subs_view,
        step_view,
        batch_view,
        subscription_view,
        users_view,
        audit_view,
        tokens_view,
        embed_view,
    ):
        if page in (auth, embed_view, tokens_view) and not standalone:
            # mounted: the host logs people in, shows the wizard in its own pages, and serves no
            # wizard API (api.init_app is standalone only), so there is no use for its tokens
            continue
        bp.register_blueprint(page.bp)
    return bp


def _protect_forms(app: Flask, bp: Blueprint) -> None:
    """CSRF on the wizard's own state changes only: a host's other pages are the host's business
    (a host that already uses CSRFProtect has checked the request first; checking again is a no-op)."""
    for name, default in (
        ("WTF_CSRF_ENABLED", True),
        ("WTF_CSRF_METHODS", {"POST", "PUT", "PATCH", "DELETE"}),
        ("WTF_CSRF_FIELD_NAME", "csrf_token"),
        ("WTF_CSRF_HEADERS", ["X-CSRFToken", "X-CSRF-Token"]),
        ("WTF_CSRF_SSL_STRICT", True),
    ):
        app.config.setdefault(name, default)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)

    @bp.before_request
    def _check_csrf():
        if app.config["WTF_CSRF_ENABLED"] and request.method in app.config["WTF_CSRF_METHODS"]:
            csrf.protect()
