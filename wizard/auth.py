"""Log in and out with server-side login sessions, so a copied cookie dies at logout."""

import secrets
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select, update
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from . import audit, clock, db, embedding, i18n, identity
from .clock import now
from .emails import EmailAddressError, normalise_email
from .extensions import limiter, login_manager
from .models import LoginSession, User, utcnow
from .passwords import hash_password, needs_rehash, verify_password

bp = Blueprint("auth", __name__)


def _an_address(form, field):
    """An e-mail address by the rule create-user stores (emails.py); malformed text gets a message."""
    try:
        normalise_email(field.data or "")
    except EmailAddressError:
        raise ValidationError(_("Enter an email address in the correct format, like name@example.com.")) from None


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address")), _an_address])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password")),
            Length(max=200, message=_l("Email or password is wrong.")),
        ],
    )


@login_manager.user_loader
def load_user(token: str):
    """Resolve the cookie's login token to an active user, or nobody once it was revoked.

    One statement also reads the organisation, its contract and the order the URL names
    (see identity.py); the view finds them in `g.visit`.
    """
    if idle_too_long():
        return None
    oldest = utcnow() - timedelta(hours=current_app.config["LOGIN_SESSION_HOURS"])  # real time, like created_at
    draft_id = (request.view_args or {}).get("draft_id")
    visit = identity.load(db.session(), token, oldest, clock.today(), draft_id if isinstance(draft_id, str) else None)
    if visit is None:
        return None
    seen_now()
    g.visit = visit
    visit.user.login_token = token
    return visit.user


# The idle timeout (LOGIN_IDLE_MINUTES) beside the absolute one: when this login last asked for
# anything is kept in the signed session cookie, not in the database (a GET never writes), and
# refreshed at most once a minute, so the cookie is not sent anew with every response. Every copy of
# the cookie carries that time or an older one, so none outlives the browser's own idle time.
SEEN = "seen_at"  # session key: the injected clock's time as epoch seconds
SEEN_REFRESH_SECONDS = 60


def idle_too_long() -> bool:
    """Whether this login was idle for longer than LOGIN_IDLE_MINUTES (0: no idle timeout); then it
    is forgotten, and the login page says why."""
    minutes = current_app.config["LOGIN_IDLE_MINUTES"]
    seen = session.get(SEEN)
    if not minutes or not isinstance(seen, int) or now().timestamp() - seen <= minutes * 60:
        return False
    embedding.clear_session()  # as logout does: the login leaves the cookie, a framed wizard stays framed
    flash(
        ngettext(
            "You were logged out after %(num)s minute without activity.",
            "You were logged out after %(num)s minutes without activity.",
            minutes,
        ),
        "info",
    )
    return True


def seen_now() -> None:
    """Note that this login asked for something now (in the cookie, at most once a minute)."""
    moment = int(now().timestamp())
    seen = session.get(SEEN)
    if not isinstance(seen, int) or not 0 <= moment - seen < SEEN_REFRESH_SECONDS:
        session[SEEN] = moment


def start_login_session(user: User) -> None:
    """Record a fresh login, rotating the session so no earlier cookie carries over."""
    sess = db.session()
    token = secrets.token_urlsafe(32)
    sess.add(LoginSession(token=token, user_id=user.id))
    audit.record(sess, user.organisation_id, user.id, "login.succeeded", f"user:{user.id}", now())
    sess.commit()
    embedding.clear_session()  # session.clear(), but a framed wizard stays framed
    user.login_token = token
    login_user(user)
    seen_now()


def end_login_sessions(user_id: int, token: str | None = None) -> None:
    """Revoke one login session (logout) or all of a user's (disabling, password change)."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
    if token is not None:
        stmt = stmt.where(LoginSession.token == token)
    sess = db.session()
    sess.execute(stmt)
    sess.commit()


def _email_key() -> str:
    """The rate limit's key: the address as it is looked up, so "Owner@…" counts with "owner@…"."""
    text = request.form.get("email", "")
    try:
        return "login:" + normalise_email(text)
    except EmailAddressError:
        return "login:" + text.strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_email_key, methods=["POST"], deduct_when=_failed
)
def login():
    """Show the login form; on success go where the user was heading."""
    if current_user.is_authenticated:
        return redirect(url_for("wizard.subs.subs"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session().scalar(select(User).where(User.email == normalise_email(form.email.data)))
        # One argon2 verification whoever is named: unknown, without a password or inactive (passwords.py).
        if verify_password(user.password_hash if user else None, form.password.data) and user and user.active:
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)  # committed with the login session
            start_login_session(user)
            return redirect(_safe_next() or url_for("wizard.subs.subs"))
        # The owner's audit log shows attempts on their people's accounts. An address with no account
        # is recorded too, for the operator and no organisation: the same insert and commit whoever is
        # named, so a failed login's time does not tell which addresses have accounts.
        if user is not None:
            audit.record(
                db.session(), user.organisation_id, user.id, "login.failed", f"user:{user.id}", now(), email=user.email
            )
        else:  # without the address typed: often a real person's mistyped one, and no owner's to read
            audit.record(db.session(), None, None, "login.failed", "user:unknown", now())
        db.session().commit()
        form.password.errors.append(_("Email or password is wrong."))
        return render_template("wizard/login.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("wizard/login.html", form=form), status


def _safe_next() -> str | None:
    return _safe_target(request.args.get("next", ""))


def _safe_target(target: str) -> str | None:
    """Only follow a path on this site: no scheme, no host, no control characters or
    backslashes (browsers drop tabs and read \\ as /, turning "/\t/evil" into "//evil")."""
    if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/logout", methods=["POST"])
def logout():
    """End this login session on the server and forget the cookie."""
    if current_user.is_authenticated:
        end_login_sessions(current_user.id, current_user.login_token)
    logout_user()
    embedding.clear_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("wizard.auth.login"))


@bp.route("/language", methods=["POST"])
def choose_language():
    """The header's language switch (a form, so it works without JavaScript): remembered in the
    session and, for a logged-in person, with them, so it holds at their next login too."""
    code = request.form.get("lang", "")
    if code not in current_app.config["LANGUAGES"]:
        abort(400)
    session[i18n.LANGUAGE_KEY] = code
    if current_user.is_authenticated:
        sess = db.session()
        sess.execute(update(User).where(User.id == current_user.id).values(locale=code))
        sess.commit()
    target = _safe_target(_page_shown() or request.form.get("next", "")) or url_for("wizard.subs.subs")
    parts = urlsplit(target)  # the page as it was, less a ?lang= that would overrule the choice
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"])
    return redirect(urlunsplit(("", "", parts.path, query, "")), 303)


def _page_shown() -> str | None:
    """The page the switch was pressed on, from the same-origin Referer: after htmx has moved on a
    step without reloading, it is newer than the form's `next`."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))
