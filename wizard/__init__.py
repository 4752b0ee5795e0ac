"""Subscription purchase wizard: application factory."""

import os

from flask import Flask

from . import (
    auth,
    cli,
    config,
    db,
    errors,
    i18n,
    requestlog,
    security,
    step_view,
    subs_view,
    subscription_view,
    templating,
    users_view,
)
from .extensions import babel, csrf, limiter, login_manager


def create_app(test_config=None, instance_path=None) -> Flask:
    """Build the app; each register_* step is one concern."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    config.load(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    security.init_app(app)
    requestlog.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    """Database, CSRF, login, rate limits and translations."""
    if app.debug:
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # our server-side login sessions do this job
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    templating.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per page module, registered here and nowhere else."""
    for page in (auth, subs_view, step_view, subscription_view, users_view):
        app.register_blueprint(page.bp)
