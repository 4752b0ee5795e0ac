"""Configuration: defaults here, then instance/config.py, then environment, then the test dict."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers

# Environment variables that override configuration, with their parsers.
ENV_SETTINGS: dict[str, Callable[[str], Any]] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "RATELIMIT_STORAGE_URI": str,
    "EMBEDDING": lambda v: v.lower() in {"1", "true", "yes"},
    "NUMBER_HOLD_MINUTES": int,
    "DRAFT_MAX_AGE_DAYS": int,
    "ESIM_SMDP_ADDRESS": str,
    "PUBLIC_URL": str,
    "SUPPORT_PHONE": lambda v: v.strip() or None,
    "TRUSTED_HOSTS": lambda v: [host.strip() for host in v.split(",") if host.strip()] or None,
    "API_RATE_LIMIT": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes"},
    "THEME": lambda v: v.strip() or None,
    "LOGIN_IDLE_MINUTES": int,
    "MAX_HELD_NUMBERS_PER_ORGANISATION": int,
    "STRICT_TRANSPORT_SECURITY": str,
    "PROXY_FIX_X_FOR": int,
    "PROXY_FIX_X_PROTO": int,
    "PROXY_FIX_X_HOST": int,
    "PROXY_FIX_X_PORT": int,
    "PROXY_FIX_X_PREFIX": int,
    "MAIL_SERVER": lambda v: v.strip() or None,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": lambda v: v.lower() in {"1", "true", "yes"},
    "MAIL_USE_SSL": lambda v: v.lower() in {"1", "true", "yes"},
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "QUEUE_URL": lambda v: v.strip() or None,
    "QUEUE_IN_PROCESS": lambda v: None if v.lower() == "auto" else v.lower() in {"1", "true", "yes"},
}


class Defaults:
    """Sensible defaults for a local, embedded installation."""

    SECRET_KEY = None  # required outside debug and testing
    DATABASE_URL = None  # None: SQLite file under instance/
    SQL_ECHO = False
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "5 per 15 minutes"
    LOGIN_IP_RATE_LIMIT = "30 per minute"
    LOGIN_SESSION_HOURS = 12  # a login lasts a working day at most, whatever the cookie says
    LOGIN_IDLE_MINUTES = 30  # ... and ends sooner when nothing was asked of it for this long (auth.py)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True  # relaxed in debug, see create_app
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"
    LANGUAGES = ("en", "sv")  # what the header offers and the browser's preference is matched against
    CURRENCY = "SEK"
    # Framing in other sites (docs/embedding.md): each organisation's allowed origins are in the
    # database (`flask embed-origins`); this switch turns it on, with cookies that work in a frame.
    EMBEDDING = False
    NUMBER_HOLD_MINUTES = 30
    DRAFT_MAX_AGE_DAYS = 30
    MAX_OPEN_DRAFTS_PER_USER = 10  # each may hold a number: one buyer must not empty the pool
    MAX_HELD_NUMBERS_PER_ORGANISATION = 50  # nor a few buyers of one organisation (effects.py)
    ESIM_SMDP_ADDRESS = "smdp.example-operator.test"
    # Where people reach the wizard: links in e-mails written outside a request (the operator's command line).
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Customer service's number (E.164, e.g. +46771000000), named where only a call can help (a port
    # too close to its date to cancel here). None: "call customer service" without a number.
    SUPPORT_PHONE: str | None = None
    # The host names the wizard answers to (Flask 3.1 checks each request's Host header; others get
    # 400), so a forged Host cannot put another site into the links of e-mails written in a request.
    # None: any, for a local installation. Mounted, the host's own setting applies.
    TRUSTED_HOSTS: list[str] | None = None
    API_RATE_LIMIT = "120 per minute"  # per personal API token (wizard/api.py)
    API_FAILED_AUTH_LIMIT = "30 per minute"  # API requests without a valid token, per client address
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    SEED_DEMO_ON_START = False
    # Request size limits (Flask 3.1): the largest form here is a few kilobytes, so anything past these
    # is refused before it is read, with the styled 413 page. Mounted, the host's own limits apply.
    MAX_CONTENT_LENGTH = 64 * 1024  # a request body (the only limit of a urlencoded form)
    # A multipart form's text held at once: Werkzeug compares it with each chunk it reads (up to 64 KiB),
    # so in effect a multipart body past this is refused; the bulk order page raises it for itself.
    MAX_FORM_MEMORY_SIZE = 16 * 1024
    MAX_FORM_PARTS = 200  # fields of a multipart form
    THEME: str | None = None  # a stylesheet of static/themes/ loaded after app.css (docs/theming.md)
    # Sent on HTTPS responses only (security.py); "" sends none. Mounted, the host decides (HOST_OWNED).
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    # Behind a reverse proxy: how many proxies set each X-Forwarded-* header (werkzeug's ProxyFix,
    # applied by create_app); 0 trusts none. Typically PROXY_FIX_X_FOR=1 and PROXY_FIX_X_PROTO=1.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    # E-mail (Flask-Mailman): order confirmations and eSIM links, written to the outbox with the order
    # and delivered by the queue (wizard/outbox.py, wizard/queue.py). Without MAIL_SERVER, each message
    # is written as an .eml file under instance/mail/ instead.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS (usually port 587)
    MAIL_USE_SSL = False  # TLS from the start (usually port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Nordic Business Telephony <noreply@example-operator.test>"
    MAIL_TIMEOUT = 30  # seconds for the SMTP server to answer; below MAIL_LEASE_SECONDS
    MAIL_LEASE_SECONDS = 120  # a claimed message another worker may take over after this (a crashed worker's)
    MAIL_RETRY_SECONDS = 60  # the first retry after a failed attempt; each next one waits twice as long ...
    MAIL_RETRY_MAX_SECONDS = 3600  # ... but never longer than this
    MAIL_MAX_ATTEMPTS = 10  # then the message is marked failed and logged (about 9 hours of retries)
    # The job queue (Huey) that delivers the outbox: None is a SQLite file in the instance folder (one
    # host); redis://host:6379/0 shares it between hosts, each running `flask mail-worker`.
    QUEUE_URL: str | None = None
    # The development server (`flask run`, `make run`) delivers mail itself, in a thread of its own:
    # None decides so (never under TESTING); True or False forces it either way.
    QUEUE_IN_PROCESS: bool | None = None


def load(app, test_config=None):
    """Apply the configuration layers in order onto app.config."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for name, parse in ENV_SETTINGS.items():
        if name in os.environ:
            app.config[name] = parse(os.environ[name])
    if test_config:
        app.config.update(test_config)
    if app.config["EMBEDDING"]:
        app.config.update(EMBEDDED_COOKIE)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = sqlite_url(app)
    _require_secret_key(app)
    _require_known_theme(app)
    _require_support_phone(app)


# A frame on another site is a cross-site context: its session cookie must be SameSite=None (so it
# is sent at all), hence Secure, and Partitioned (CHIPS: kept per embedding site, so a browser that
# blocks third-party cookies still keeps it, and no other site sees it). CSRF tokens stay the defence.
EMBEDDED_COOKIE = {
    "SESSION_COOKIE_SAMESITE": "None",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_PARTITIONED": True,
}


def sqlite_url(app) -> str:
    """The embedded default: a SQLite file under the instance folder."""
    return "sqlite:///" + os.path.join(app.instance_path, "wizard.sqlite3")


# Mounted in a host app, these stay the host's: its secret, cookies and database, its locale and time
# zone, its CSRF token lifetime and its rate-limit storage (Flask-Babel, Flask-WTF and Flask-Limiter
# bring their own defaults where the host set none).
# Its HTTPS policy (HSTS covers the whole host name), its WSGI stack (ProxyFix) and the host names it
# answers to (TRUSTED_HOSTS) are the host's too.
HOST_OWNED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SESSION_COOKIE_",
    "REMEMBER_COOKIE_",
    "BABEL_",
    "WTF_",
    "RATELIMIT_",
    "STRICT_TRANSPORT_SECURITY",
    "PROXY_FIX_",
    "TRUSTED_HOSTS",
)


def set_defaults(app) -> None:
    """Mounted in a host app: the wizard's settings the host has not set, never the host's own."""
    for name in dir(Defaults):
        if name.isupper() and not name.startswith(HOST_OWNED):
            app.config.setdefault(name, getattr(Defaults, name))
    _require_known_theme(app)


def _require_secret_key(app):
    """Refuse to start without a SECRET_KEY, except in debug or tests (then one is made per instance)."""
    if app.config["SECRET_KEY"]:
        return
    if not (app.debug or app.testing):
        raise RuntimeError(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable or put "
            "SECRET_KEY = '...' in instance/config.py (e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    path = os.path.join(app.instance_path, "dev-secret-key")
    if not os.path.exists(path):
        os.makedirs(app.instance_path, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(os.urandom(32).hex())
    with open(path) as fh:
        app.config["SECRET_KEY"] = fh.read().strip()


def resource_dir(name: str) -> Path:
    """templates/ or static/: inside the package when installed from a wheel, else the checkout's
    top-level folder (pyproject.toml maps one onto the other)."""
    here = Path(__file__).parent
    return here / name if (here / name).is_dir() else here.parent / name


def themes() -> list[str]:
    """The themes there are: static/themes/<name>.css."""
    return sorted(path.stem for path in (resource_dir("static") / "themes").glob("*.css"))


def _require_support_phone(app):
    """Refuse to start with a SUPPORT_PHONE that is not a phone number, rather than fail on the page
    that names it."""
    phone = app.config.get("SUPPORT_PHONE")
    if phone is None:
        return
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        valid = False
    if not valid or not phone.startswith("+"):
        raise RuntimeError(f"SUPPORT_PHONE {phone!r} is not a phone number in E.164 form, such as +46771000000.")


def _require_known_theme(app):
    """Refuse to start with a THEME that has no stylesheet, rather than serve pages that lack it."""
    theme = app.config.get("THEME")
    if theme is None:
        return
    known = themes()
    if theme not in known:
        raise RuntimeError(
            f"THEME {theme!r} is not a theme. Set THEME to one of: {', '.join(known)} "
            "(the stylesheets in static/themes/), or leave it unset for the default look."
        )
