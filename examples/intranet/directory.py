"""The intranet's own people: organisations and persons in its own SQLite file (flaskr's db.py, grown a little).

The intranet knows nothing of telephony; it hands the wizard each person through the identity
adapter in intranet.py, and the wizard keeps its own rows from that.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g
from flask_login import UserMixin

SCHEMA = """
CREATE TABLE IF NOT EXISTS organisation (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  org_number TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS person (
  id INTEGER PRIMARY KEY,
  organisation_id INTEGER NOT NULL REFERENCES organisation (id),
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  permissions TEXT NOT NULL DEFAULT '',  -- space-separated: account, users
  owner INTEGER NOT NULL DEFAULT 0
);
"""

# (name, Swedish organisation number): both numbers pass python-stdnum's stdnum.se.orgnr.
DEMO_ORGANISATIONS = [("Acme AB", "559900-1236"), ("Globex AB", "559900-4560")]
# (organisation number, email, name, permissions, owner); every demo password is DEMO_PASSWORD.
DEMO_PEOPLE = [
    ("559900-1236", "it@acme.test", "Ines Thorsen", "", True),
    ("559900-1236", "buyer@acme.test", "Bo Ahlgren", "account", False),
    ("559900-1236", "reader@acme.test", "Rita Ek", "", False),
    ("559900-4560", "buyer@globex.test", "Gustav Lind", "account", False),
]
DEMO_PASSWORD = "intranet-demo-pw"

PERSON_QUERY = """
SELECT p.id, p.email, p.name, p.permissions, p.owner, o.id AS organisation_id, o.name AS organisation_name,
       o.org_number, p.password_hash
FROM person p JOIN organisation o ON o.id = p.organisation_id
"""


@dataclass(frozen=True, eq=False)
class Person(UserMixin):
    """A person logged in to the intranet (Flask-Login's user)."""

    id: int
    email: str
    name: str
    permissions: frozenset[str]
    owner: bool
    organisation_id: int
    organisation_name: str
    org_number: str


def get_db() -> sqlite3.Connection:
    """This request's connection to instance/intranet.sqlite3."""
    if "intranet_db" not in g:
        g.intranet_db = sqlite3.connect(os.path.join(current_app.instance_path, "intranet.sqlite3"))
        g.intranet_db.row_factory = sqlite3.Row
        g.intranet_db.execute("PRAGMA foreign_keys = ON")
    return g.intranet_db


def close_db(_exc=None) -> None:
    db = g.pop("intranet_db", None)
    if db is not None:
        db.close()


def _person(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        permissions=frozenset(row["permissions"].split()),
        owner=bool(row["owner"]),
        organisation_id=row["organisation_id"],
        organisation_name=row["organisation_name"],
        org_number=row["org_number"],
    )


def find(person_id: int) -> Person | None:
    row = get_db().execute(PERSON_QUERY + " WHERE p.id = ?", (person_id,)).fetchone()
    return _person(row) if row else None


def find_login(email: str) -> tuple[Person, str] | None:
    """The person with this email address and their password hash, or None."""
    row = get_db().execute(PERSON_QUERY + " WHERE p.email = ?", (email.strip().lower(),)).fetchone()
    return (_person(row), row["password_hash"]) if row else None


def everyone() -> list[Person]:
    return [_person(row) for row in get_db().execute(PERSON_QUERY + " ORDER BY p.id")]


def change(person_id: int, name: str, permissions: frozenset[str], owner: bool) -> None:
    """What an intranet administrator changes about a person (their name, what they may do)."""
    db = get_db()
    db.execute(
        "UPDATE person SET name = ?, permissions = ?, owner = ? WHERE id = ?",
        (name, " ".join(sorted(permissions)), int(owner), person_id),
    )
    db.commit()


def set_password_hash(person_id: int, password_hash: str) -> None:
    db = get_db()
    db.execute("UPDATE person SET password_hash = ? WHERE id = ?", (password_hash, person_id))
    db.commit()


def load_demo(hash_password: Callable[[str], str]) -> None:
    """Create the tables and whatever of the demo organisations and people is missing."""
    db = get_db()
    db.executescript(SCHEMA)
    for name, org_number in DEMO_ORGANISATIONS:
        db.execute("INSERT OR IGNORE INTO organisation (name, org_number) VALUES (?, ?)", (name, org_number))
    for org_number, email, name, permissions, owner in DEMO_PEOPLE:
        if db.execute("SELECT 1 FROM person WHERE email = ?", (email,)).fetchone():
            continue
        db.execute(
            "INSERT INTO person (organisation_id, email, name, password_hash, permissions, owner)"
            " SELECT id, ?, ?, ?, ?, ? FROM organisation WHERE org_number = ?",
            (email, name, hash_password(DEMO_PASSWORD), permissions, int(owner), org_number),
        )
    db.commit()
