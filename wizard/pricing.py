"""Prices: bound ones from the organisation's contract, unbound ones from the current price list."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from flask_babel import get_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Contract, PriceItem


def price_list(sess: Session, contract: Contract | None, basis: str, kind: str | None) -> list[PriceItem]:
    """Every active price item of a basis (the contract's when bound) for a kind, in display order."""
    query = select(PriceItem).where(PriceItem.basis == basis, PriceItem.active.is_(True))
    if kind:
        query = query.where(or_(PriceItem.kind == kind, PriceItem.kind.is_(None)))
    if basis == "bound":
        if contract is None:
            return []
        query = query.where(PriceItem.contract_id == contract.id)
    return list(sess.scalars(query.order_by(PriceItem.monthly_ore.desc(), PriceItem.code)))


def of(prices: list[PriceItem], category: str) -> list[PriceItem]:
    return [i for i in prices if i.category == category]


def find(prices: list[PriceItem], category: str, code: str | None) -> PriceItem | None:
    return next((i for i in prices if i.category == category and i.code == code), None)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Line(NamedTuple):
    """One priced item of an order, with the fees it adds (a tuple: `item, monthly, one_off = line`)."""

    item: PriceItem
    monthly_ore: int
    one_off_ore: int

    @property
    def label(self) -> str:
        """The item's name in the language of the moment (read when shown: a page, an e-mail)."""
        return localised(self.item, "name")

    @property
    def description(self) -> str:
        return localised(self.item, "description")


def localised(item: PriceItem, field: str) -> str:
    """A price item's text (its name or description) in the current language, else English."""
    text = (item.translations or {}).get(str(get_locale()), {}).get(field)
    return text or getattr(item, field)


@dataclass(frozen=True)
class Quote:
    monthly_ore: int
    one_off_ore: int
    binding_ends_on: date | None
    lines: list[Line]


# The number choices that cost something (a new or reserved number has no fee line), and the SIM kinds.
NUMBER_ITEMS = {"specific": "number-specific", "port": "number-port"}
SIM_ITEMS = {"physical": "sim-physical", "esim": "sim-esim"}


def chosen_items(prices: list[PriceItem], answers: dict) -> list[PriceItem]:
    """The price items the answers so far choose, in the order the buyer reads them: the base fee
    (monthly and start fee), call rate, data package, number, SIM (mobile only)."""
    kind = answers.get("type", {}).get("kind")
    wanted = [
        ("subscription", f"base-{kind}"),
        ("call_rate", answers.get("call_rate", {}).get("code")),
        ("data_package", answers.get("data_package", {}).get("code") if kind == "mobile" else None),
        ("number", NUMBER_ITEMS.get(answers.get("number", {}).get("choice"))),
        ("sim", SIM_ITEMS.get(answers.get("sim", {}).get("sim_kind")) if kind == "mobile" else None),
    ]
    found = (find(prices, category, code) for category, code in wanted if code)
    return [item for item in found if item is not None]


def quote(prices: list[PriceItem], contract: Contract | None, answers: dict, today: date) -> Quote:
    """The itemised price and binding end for the answers so far (`prices` is their price list): the
    totals are the sums of the lines, so what the buyer reads always adds up."""
    basis = answers.get("price_basis", {}).get("basis", "unbound")
    lines = [Line(i, i.monthly_ore, i.one_off_ore) for i in chosen_items(prices, answers)]
    binding = add_months(today, contract.binding_months) if basis == "bound" and contract is not None else None
    return Quote(sum(line.monthly_ore for line in lines), sum(line.one_off_ore for line in lines), binding, lines)


# The answer of each step that changes the price, and the values it may take (None: a code of the price list).
PRICED_FIELDS = {
    "type": ("kind", {"mobile", "fixed"}),
    "price_basis": ("basis", {"bound", "unbound"}),
    "call_rate": ("code", None),
    "data_package": ("code", None),
    "number": ("choice", {"new", "reserved", "specific", "port"}),
    "sim": ("sim_kind", {"physical", "esim"}),
}


def unsaved(answers: dict, step_key: str, values: Mapping, prices: list[PriceItem], contract: Contract | None) -> dict:
    """The answers with a step's price-relevant value as the buyer has it chosen now, before saving
    (the running order summary follows the options). A value that is not one of the step's options,
    or a code the price list does not have, changes nothing."""
    field, allowed = PRICED_FIELDS.get(step_key, (None, None))
    value = values.get(field) if field else None
    if not isinstance(value, str):
        return answers
    known = find(prices, step_key, value) is not None if allowed is None else value in allowed
    if not known or (value == "bound" and contract is None):
        return answers
    return {**answers, step_key: {**answers.get(step_key, {}), field: value}}
