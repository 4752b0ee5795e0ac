"""The data model of the whole product: tenants, people, prices, numbers, orders."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from . import clock
from .db import Base


class UtcDateTime(TypeDecorator):
    """A moment stored in UTC and read back timezone-aware on every database.

    SQLite has no time zones and hands back naive datetimes; comparing those with aware
    ones raises, so every timestamp column goes through here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: use an aware one (UTC)")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """Timezone-aware now from the application's one clock (wizard.clock), so an injected test clock
    also dates the rows it makes."""
    return clock.now()


def new_draft_id() -> str:
    """Random, unguessable draft id (never sequential)."""
    return secrets.token_urlsafe(12)


class Organisation(Base):
    """A customer company: the tenant every other row belongs to."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str] = mapped_column(String(20), unique=True)
    country: Mapped[str] = mapped_column(String(2), default="SE")
    # Mounted in a host app: the host's stable key for this organisation (None for the wizard's own).
    external_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Origins allowed to frame the wizard for this organisation (CSP frame-ancestors), space-separated.
    embed_origins: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    users: Mapped[list[User]] = relationship(back_populates="organisation")
    contracts: Mapped[list[Contract]] = relationship(back_populates="organisation")

    def active_contract(self, today: date) -> Contract | None:
        """The contract in force today, if any."""
        for contract in self.contracts:
            if contract.starts_on <= today and (contract.ends_on is None or today <= contract.ends_on):
                return contract
        return None

    @property
    def owner(self) -> User | None:
        return next((u for u in self.users if u.is_owner), None)


class Contract(Base):
    """An organisation's framework agreement: bound prices and a binding period."""

    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    binding_months: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[Organisation] = relationship(back_populates="contracts")


class User(Base):
    """A person in an organisation; may log in when it has a password."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[str] = mapped_column(String(100), default="")  # space-separated
    # Mounted in a host app: the host's stable key for this person (None for the wizard's own logins).
    external_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))  # the language chosen in the header; None: the browser's
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    organisation: Mapped[Organisation] = relationship(back_populates="users")

    # Flask-Login protocol. The id Flask-Login keeps is the login session's token, see auth.py.
    # Not a column: auth.load_user sets it per request.
    login_token = None  # type: str | None
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return self.login_token is not None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.login_token

    def has_permission(self, name: str) -> bool:
        """Owners hold every permission; others what was granted."""
        return self.is_owner or name in self.permissions.split()


class LoginSession(Base):
    """A server-side record of a login, so logout and disabling really end it."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    user: Mapped[User] = relationship()


class PriceItem(Base):
    """A priced thing: a call rate or a data package, bound (per contract) or unbound (price list)."""

    __tablename__ = "price_items"
    __table_args__ = (
        UniqueConstraint("code", "basis", "contract_id", name="uq_price_items_code_basis_contract"),
        CheckConstraint("basis IN ('bound', 'unbound')", name="ck_price_items_basis"),
        CheckConstraint(
            "category IN ('call_rate', 'data_package', 'number', 'sim', 'subscription')", name="ck_price_items_category"
        ),
        CheckConstraint("(basis = 'bound') = (contract_id IS NOT NULL)", name="ck_price_items_bound_has_contract"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(10))  # mobile, fixed, or None for both
    basis: Mapped[str] = mapped_column(String(10))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300), default="")
    # The name and description in other languages than English, e.g. {"sv": {"name": ..., "description": ...}}
    # (pricing.localised picks the visitor's; a missing one falls back to the English columns).
    translations: Mapped[dict | None] = mapped_column(JSON)
    monthly_ore: Mapped[int] = mapped_column(Integer)  # prices in öre (1/100 SEK)
    one_off_ore: Mapped[int] = mapped_column(Integer, default=0)
    data_gb: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PhoneNumber(Base):
    """A number of the operator's pool: free, held for a draft, reserved for or assigned to an org; or
    `gone`, a number that was to be moved here and never arrived (its port was rejected or cancelled):
    kept for the subscriptions that name it, and free to be ordered for porting again."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        CheckConstraint("kind IN ('mobile', 'fixed')", name="ck_phone_numbers_kind"),
        CheckConstraint("status IN ('free', 'held', 'reserved', 'assigned', 'gone')", name="ck_phone_numbers_status"),
        CheckConstraint("(status = 'held') = (held_by_draft_id IS NOT NULL)", name="ck_phone_numbers_hold_has_draft"),
        Index("ix_phone_numbers_kind_e164", "kind", "e164"),  # the first free number of a kind
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="free", index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    pbx: Mapped[bool] = mapped_column(Boolean, default=False)
    held_by_draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), index=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    user: Mapped[User | None] = relationship()


class PortingRegisterEntry(Base):
    """What the porting register says of a number at another operator: who has it, bound until when."""

    __tablename__ = "porting_register"
    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    current_operator: Mapped[str] = mapped_column(String(100))
    binding_ends_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Draft(Base):
    """A half-finished order: the answers so far, versioned against lost updates."""

    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'submitted', 'discarded')", name="ck_drafts_status"),
        CheckConstraint("kind IN ('single', 'batch')", name="ck_drafts_kind"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_draft_id)
    # single: one subscription, step by step (steps.py); batch: one set of choices and a line per person
    # (batch.py), bought in one Save; each line then gets a submitted single draft of its own.
    kind: Mapped[str] = mapped_column(String(10), default="single", server_default="single")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # From a deep link (prefill.py): per step, its starting values and the link's values that were dropped.
    prefill: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    created_by: Mapped[User] = relationship()


class Order(Base):
    """What one Save bought, under a reference people can read out and search for (NB-2026-000123).
    One per draft: a resent Save finds the first one's order."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)  # set from the id in the same transaction
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxMessage(Base):
    """An e-mail to send, written in the transaction that makes its reason (an order), so it is never
    lost: the mail worker delivers it, retrying with backoff, and marks it sent exactly once."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "recipient", name="uq_outbox_order_kind_recipient"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="ck_outbox_status"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(40))  # e.g. order_confirmation, esim_ready
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Subscription(Base):
    """A bought subscription; at most one per draft, so a resent Save cannot buy twice."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("kind IN ('mobile', 'fixed')", name="ck_subscriptions_kind"),
        CheckConstraint("price_basis IN ('bound', 'unbound')", name="ck_subscriptions_price_basis"),
        Index("ix_subscriptions_organisation_id_created_at", "organisation_id", "created_at"),  # Subs, newest first
        # A number has one subscription at a time; a cancelled one (a port that never arrived) keeps
        # naming it, so the same number can be ordered again with its history kept.
        Index(
            "uq_subscriptions_live_number",
            "number_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)  # None: bought before orders
    kind: Mapped[str] = mapped_column(String(10))
    price_basis: Mapped[str] = mapped_column(String(10))
    call_rate_id: Mapped[int] = mapped_column(ForeignKey("price_items.id"))
    data_package_id: Mapped[int | None] = mapped_column(ForeignKey("price_items.id"))
    number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    pbx: Mapped[bool] = mapped_column(Boolean)
    top_up: Mapped[bool | None] = mapped_column(Boolean)
    monthly_ore: Mapped[int] = mapped_column(Integer)
    one_off_ore: Mapped[int] = mapped_column(Integer)
    # The itemised price as bought: [{"item_id", "monthly_ore", "one_off_ore"}] (None: bought before it was kept).
    price_lines: Mapped[list[dict[str, int]] | None] = mapped_column(JSON)
    binding_ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    porting_status: Mapped[str | None] = mapped_column(String(12))
    porting_date: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    number: Mapped[PhoneNumber] = relationship(foreign_keys=[number_id])
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    order: Mapped[Order | None] = relationship(foreign_keys=[order_id])


class Sim(Base):
    """The SIM of a mobile subscription: a physical card (ICC) or an eSIM (activation code)."""

    __tablename__ = "sims"
    __table_args__ = (
        CheckConstraint("kind IN ('physical', 'esim')", name="ck_sims_kind"),
        CheckConstraint(
            "(kind = 'physical' AND icc IS NOT NULL) OR (kind = 'esim' AND activation_code IS NOT NULL)",
            name="ck_sims_kind_has_identifier",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    icc: Mapped[str | None] = mapped_column(String(20), unique=True)
    activation_code: Mapped[str | None] = mapped_column(String(200), unique=True)


class MexPair(Base):
    """One fixed and one mobile PBX number of the same user working as one line; a number pairs once."""

    __tablename__ = "mex_pairs"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    fixed_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), unique=True)
    mobile_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    fixed_number: Mapped[PhoneNumber] = relationship(foreign_keys=[fixed_number_id])
    mobile_number: Mapped[PhoneNumber] = relationship(foreign_keys=[mobile_number_id])


class AuditEvent(Base):
    """Who did what, when (audit.KINDS). An event belongs to an organisation, except a failed login
    for an address with no account: that is kept for the operator and shown to no organisation."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class ApiToken(Base):
    """A personal API token: the API acts as its creator, in their organisation, with their permissions
    as they are at each request (authenticate checks them), until it is revoked."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("uq_api_tokens_form_once", "form_once", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 (hex) of the token. A fast hash is right here: a token is 32 random bytes, far beyond
    # any guessing, so there is nothing for a slow hash to protect; argon2 (passwords.py) is for
    # low-entropy passwords, and would cost every API request tens of milliseconds.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the token's first characters, so people can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # to the minute (tokens.authenticate)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The one-time value of the form that made it (tokens_view.py): unique, so a form sent twice, even
    # twice at once, makes one token.
    form_once: Mapped[str | None] = mapped_column(String(40))
    user: Mapped[User] = relationship()


class ApiRequest(Base):
    """An Idempotency-Key the API was sent, with a hash of the body it came with (per organisation):
    the same key with another body is refused. What the key protects (an order) is placed once per
    draft anyway (orders.place)."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("organisation_id", "key", name="uq_api_requests_organisation_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(100))
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
