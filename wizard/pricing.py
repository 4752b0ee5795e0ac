"""Prices: bound ones from the organisation's contract, unbound ones from the current price list."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

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


@dataclass(frozen=True)
class Quote:
    monthly_ore: int
    one_off_ore: int
    binding_ends_on: date | None
    lines: list[tuple[PriceItem, int, int]]


def quote(prices: list[PriceItem], contract: Contract | None, answers: dict, today: date) -> Quote:
    """Monthly and one-off price and binding end for the answers so far (`prices` is their price list)."""
    kind = answers.get("type", {}).get("kind")
    basis = answers.get("price_basis", {}).get("basis", "unbound")
    chosen = [find(prices, "subscription", f"base-{kind}")]
    if "call_rate" in answers:
        chosen.append(find(prices, "call_rate", answers["call_rate"]["code"]))
    if "data_package" in answers:
        chosen.append(find(prices, "data_package", answers["data_package"]["code"]))
    lines = [(i, i.monthly_ore, i.one_off_ore) for i in chosen if i is not None]
    binding = add_months(today, contract.binding_months) if basis == "bound" and contract is not None else None
    return Quote(sum(m for _, m, _ in lines), sum(o for _, _, o in lines), binding, lines)
