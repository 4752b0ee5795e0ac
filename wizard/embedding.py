"""Framing the standalone wizard in another site: which one parent origin may frame a response.

Each organisation lists the origins allowed to frame the wizard for its people
(`Organisation.embed_origins`). The session remembers the parent a person came from (/embed);
a response may be framed by that parent only, and only when the person's organisation allows it
(before login: when some organisation does). Never by the union of everyone's origins.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, g, session
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import db, visitor
from .i18n import LANGUAGE_KEY
from .models import Organisation

EMBED_KEY = "wizard_embed"  # in the session while the wizard is framed in another site: the parent's origin
DEFAULT_PORTS = {"http": 80, "https": 443}
HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
IPV6 = re.compile(r"^[0-9a-f:.]+$")


def parse_origin(text: str) -> str | None:
    """`https://intranet.example.com[:port]` as a browser writes it (lower case, no default port),
    or None for anything else: another scheme, a path, a query, credentials, a wildcard."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in DEFAULT_PORTS or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if "@" in parts.netloc:
        return None
    if IPV6.match(host) and ":" in host:
        host = f"[{host}]"
    elif not HOST.match(host):
        return None
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def origins_of(org: Organisation) -> list[str]:
    return (org.embed_origins or "").split()


def some_organisation_allows(sess: Session, origin: str) -> bool:
    """Before login: does any organisation allow this origin? (Not which: that waits for the login.)"""
    candidates = sess.scalars(
        select(Organisation.embed_origins).where(Organisation.embed_origins.contains(origin, autoescape=True))
    )
    return any(origin in listed.split() for listed in candidates)


def may_frame(origin: str) -> bool:
    """May `origin` frame the wizard for the person at the keyboard (or, before login, for anyone)?"""
    if not current_app.config["EMBEDDING"]:
        return False
    user = visitor.current_user
    if user.is_authenticated:
        return origin in origins_of(user.organisation)
    return some_organisation_allows(db.session(), origin)


def parent_origin() -> str | None:
    """The one origin that may frame this response: the session's embed parent while it may frame
    the wizard; None otherwise (then nobody may). Worked out once a request."""
    if not current_app.config["EMBEDDING"]:
        return None
    if "wizard_frame_parent" not in g:
        origin = session.get(EMBED_KEY)
        try:
            g.wizard_frame_parent = origin if origin and may_frame(origin) else None
        except SQLAlchemyError:  # e.g. while answering a database failure: then nobody frames the page
            g.wizard_frame_parent = None
    return g.wizard_frame_parent


def forbid_framing() -> None:
    """This response may not be framed, whatever the session says (the refusal page)."""
    g.wizard_frame_parent = None


def clear_session() -> None:
    """session.clear() at login and logout, keeping the embed parent (the frame stays a frame) and the
    language chosen in the header (the next page stays in it)."""
    kept = {key: session[key] for key in (EMBED_KEY, LANGUAGE_KEY) if key in session}
    session.clear()
    session.update(kept)
