"""What the steps of one order know while a request runs: the order, its organisation and
contract, today's date, the number it holds, and the price list (read once, when first needed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from . import clock, db, pricing
from .models import Contract, Draft, Organisation, PhoneNumber, PriceItem


@dataclass
class StepContext:
    """Everything a form and the order's rules need to know about the order."""

    sess: Session
    org: Organisation
    contract: Contract | None  # in force today
    draft: Draft
    answers: dict
    today: date
    now: datetime
    hold_minutes: int
    held: PhoneNumber | None = None  # the number the draft holds (its hold may have run out)
    _prices: dict = field(default_factory=dict, repr=False)
    # What several forms of one request read alike (the organisation's people, its reserved numbers):
    # read once. Copies of the context (dataclasses.replace, one per line of a bulk order) share it.
    _cache: dict = field(default_factory=dict, repr=False)

    def cached(self, key: tuple, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def forget(self) -> None:
        """Drop what was read and kept for this request (after a rollback, to read today's data again)."""
        self._cache.clear()
        self._prices.clear()

    @property
    def kind(self) -> str | None:
        return self.answers.get("type", {}).get("kind")

    @property
    def basis(self) -> str:
        return self.answers.get("price_basis", {}).get("basis", "unbound")

    def prices(self) -> list[PriceItem]:
        """The price items this order can use, one statement per request (and per basis and kind)."""
        key = (self.basis, self.kind)
        if key not in self._prices:
            self._prices[key] = pricing.price_list(self.sess, self.contract, self.basis, self.kind)
        return self._prices[key]

    @classmethod
    def now_for(
        cls, draft: Draft, org: Organisation, contract: Contract | None, held: PhoneNumber | None = None
    ) -> StepContext:
        """The context of one order in this request: its session, this moment and business day, the
        configured hold time (the step pages, bulk orders and the API all start from here)."""
        moment = clock.now()
        return cls(
            sess=db.session(),
            org=org,
            contract=contract,
            draft=draft,
            answers=dict(draft.answers),
            today=clock.business_day(moment),
            now=moment,
            hold_minutes=current_app.config["NUMBER_HOLD_MINUTES"],
            held=held,
        )

    def holding(self, number_id: int | None) -> bool:
        """Whether the draft holds this number right now."""
        return (
            number_id is not None
            and self.held is not None
            and self.held.id == number_id
            and self.held.hold_expires_at is not None
            and self.held.hold_expires_at > self.now
        )
