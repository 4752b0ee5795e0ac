"""Who is asking, in one statement: the login session, the person, their organisation and its
contract in force, and, on an order's pages, that order with the number it holds.

Every page needs the person and the organisation, and every order page needs the order too;
reading them together keeps a wizard step at a handful of statements. The draft is joined
only within the person's organisation; whether this person may see it is decided by the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, bindparam, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .emails import EmailAddressError, normalise_email
from .models import Contract, Draft, LoginSession, Organisation, PhoneNumber, User


@dataclass
class Visit:
    """What one request knows before its view runs."""

    user: User
    organisation: Organisation
    contract: Contract | None  # the organisation's contract in force today
    draft_id: str | None = None  # the order the URL names (None off order pages)
    draft: Draft | None = None  # that order, when it is the organisation's
    held: PhoneNumber | None = None  # the number that order holds (possibly run out)


def contract_in_force(today):
    """The join condition of an organisation's contract in force on `today` (a date or a bound parameter)."""
    return and_(
        Contract.organisation_id == Organisation.id,
        Contract.starts_on <= today,
        or_(Contract.ends_on.is_(None), Contract.ends_on >= today),
    )


def _visit_query(with_draft: bool, hosted: bool = False):
    """The statement, built once: the person's organisation, its contract in force and, with_draft,
    the order the URL names with its held number. The person is the login session's (by its token)
    or, hosted, the host's (by their key). Values come as bound parameters."""
    in_force = contract_in_force(bindparam("today", type_=Date))
    if hosted:
        query = select(User, Organisation, Contract).where(User.external_key == bindparam("person_key"))
    else:
        query = (
            select(User, Organisation, Contract)
            .select_from(LoginSession)
            .join(User, User.id == LoginSession.user_id)
            .where(
                LoginSession.token == bindparam("token"),
                LoginSession.created_at > bindparam("oldest", type_=LoginSession.created_at.type),
            )
            .where(User.active.is_(True))
        )
    query = query.join(Organisation, Organisation.id == User.organisation_id).outerjoin(Contract, in_force)
    if with_draft:
        query = (
            query.add_columns(Draft, PhoneNumber)
            .outerjoin(Draft, and_(Draft.id == bindparam("draft_id"), Draft.organisation_id == User.organisation_id))
            .outerjoin(PhoneNumber, and_(PhoneNumber.held_by_draft_id == Draft.id, PhoneNumber.status == "held"))
        )
    return query.limit(1)


VISIT = _visit_query(with_draft=False)
VISIT_WITH_DRAFT = _visit_query(with_draft=True)
HOSTED_VISIT = _visit_query(with_draft=False, hosted=True)
HOSTED_VISIT_WITH_DRAFT = _visit_query(with_draft=True, hosted=True)


def load(sess: Session, token: str, oldest: datetime, today: date, draft_id: str | None = None) -> Visit | None:
    """The visit of an active login session created after `oldest`, or None."""
    params = {"token": token, "oldest": oldest, "today": today, "draft_id": draft_id}
    return _visit(sess, VISIT if draft_id is None else VISIT_WITH_DRAFT, params, draft_id)


def load_hosted(sess: Session, person_key: str, today: date, draft_id: str | None = None) -> Visit | None:
    """The visit of the person the host knows by `person_key` (active or not), or None (not yet provisioned)."""
    params = {"person_key": person_key, "today": today, "draft_id": draft_id}
    return _visit(sess, HOSTED_VISIT if draft_id is None else HOSTED_VISIT_WITH_DRAFT, params, draft_id)


def _visit(sess: Session, query, params: dict[str, Any], draft_id: str | None) -> Visit | None:
    row: Any = sess.execute(query, params).first()  # three or five entities, as the query was built
    if row is None:
        return None
    visit = Visit(row[0], row[1], row[2], draft_id)
    if draft_id is not None:
        visit.draft, visit.held = row[3], row[4]
    return visit


# Hosted: the wizard mounted in a host app that logs people in (visitor.py, wizard.mount).

HOSTED_LOGIN = "host"  # stands in for a login-session token: the host's own login is the session
PERMISSIONS = ("account", "users")


class InvalidHostPerson(ValueError):
    """The host's identity adapter described someone the wizard cannot take in (no e-mail address,
    a name too long for its column, ...): the host's data needs fixing, nothing was written."""


def _text(value: Any, what: str, limit: int) -> str:
    """A required text of at most `limit` characters, stripped; ids given as numbers become text."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text:
        raise InvalidHostPerson(f"{what} is missing")
    if len(text) > limit:
        raise InvalidHostPerson(f"{what} is longer than {limit} characters")
    return text


@dataclass(frozen=True)
class HostOrganisation:
    """An organisation as the host knows it: a key that never changes, its name and number."""

    key: str
    name: str
    org_number: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _text(self.key, "the organisation's key", 200))
        object.__setattr__(self, "name", _text(self.name, "the organisation's name", 200))
        object.__setattr__(self, "org_number", _text(self.org_number, "the organisation number", 20))


@dataclass(frozen=True)
class HostPerson:
    """What a host's identity adapter returns for the person at the keyboard."""

    key: str  # stable: the host's user id, never the e-mail address (that may change)
    email: str
    name: str
    organisation: HostOrganisation
    permissions: frozenset[str] = frozenset()  # of PERMISSIONS; others are ignored
    owner: bool = False  # an owner holds every permission

    def __post_init__(self) -> None:
        """Checked and normalised once, where the host hands it over: text keys, a lower-case
        address, a real bool, so comparing with the stored rows is exact."""
        if not isinstance(self.organisation, HostOrganisation):
            raise InvalidHostPerson("the organisation is not a HostOrganisation")
        object.__setattr__(self, "key", _text(self.key, "the person's key", 200))
        try:  # stored as the wizard's own logins store theirs
            object.__setattr__(self, "email", normalise_email(_text(self.email, "the e-mail address", 254)))
        except EmailAddressError as exc:
            raise InvalidHostPerson(f"the e-mail address: {exc}") from None
        object.__setattr__(self, "name", _text(self.name, "the name", 200))
        object.__setattr__(self, "permissions", frozenset(self.permissions or ()))
        object.__setattr__(self, "owner", bool(self.owner))

    def permission_text(self) -> str:
        return " ".join(p for p in PERMISSIONS if p in self.permissions)


class ProvisionConflict(Exception):
    """The host's person or organisation clashes with a row the wizard already has (same e-mail
    address or organisation number under another key, or the person now in another organisation)."""


def up_to_date(visit: Visit, person: HostPerson) -> bool:
    """Whether the wizard's rows still say what the host says of this person."""
    user, org = visit.user, visit.organisation
    return (
        org.external_key == person.organisation.key
        and org.name == person.organisation.name
        and org.org_number == person.organisation.org_number
        and user.email == person.email
        and user.name == person.name
        and user.is_owner == person.owner
        and user.permissions == person.permission_text()
    )


def provision(engine: Engine, person: HostPerson, moment: datetime) -> None:
    """Create or update the person's organisation and user rows in one short transaction of their own.

    Two first requests of the same person may race: the loser's insert breaks a unique key,
    and a second try finds the winner's rows.
    """
    for attempt in (1, 2):
        try:
            with Session(engine) as sess, sess.begin():
                _upsert(sess, person, moment)
            return
        except IntegrityError as exc:
            if attempt == 2:
                raise ProvisionConflict(str(exc.orig)) from exc


def _upsert(sess: Session, person: HostPerson, moment: datetime) -> None:
    host_org = person.organisation
    org = sess.scalar(select(Organisation).where(Organisation.external_key == host_org.key))
    if org is None:
        org = Organisation(external_key=host_org.key, name=host_org.name, org_number=host_org.org_number)
        sess.add(org)
        sess.flush()
    else:
        org.name, org.org_number = host_org.name, host_org.org_number
    user = sess.scalar(select(User).where(User.external_key == person.key))
    if user is None:
        user = User(external_key=person.key, organisation_id=org.id, password_hash=None, created_at=moment)
        sess.add(user)
    elif user.organisation_id != org.id:
        # Moving a person between tenants would carry their orders and subscriptions along.
        raise ProvisionConflict(f"person {person.key} belongs to another organisation")
    user.email = person.email
    user.name = person.name
    user.is_owner = person.owner
    user.permissions = person.permission_text()
