"""Prices: bound ones from the organisation's contract, unbound ones from the current price list."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Contract, Organisation, PriceItem


def items(sess: Session, org: Organisation, basis: str, category: str, kind: str | None, today: date) -> list[PriceItem]:
    """The active price items of a category for this basis (the contract's when bound)."""
    query = select(PriceItem).where(PriceItem.category == category, PriceItem.basis == basis, PriceItem.active.is_(True))
    if kind:
        query = query.where(or_(PriceItem.kind == kind, PriceItem.kind.is_(None)))
    if basis == "bound":
        contract = org.active_contract(today)
        if contract is None:
            return []
        query = query.where(PriceItem.contract_id == contract.id)
    return list(sess.scalars(query.order_by(PriceItem.monthly_ore.desc(), PriceItem.code)))


def item(sess: Session, org: Organisation, basis: str, category: str, kind: str | None, code: str, today: date) -> PriceItem | None:
    return next((i for i in items(sess, org, basis, category, kind, today) if i.code == code), None)


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


def quote(sess: Session, org: Organisation, answers: dict, today: date) -> Quote:
    """Monthly and one-off price and binding end for the answers so far."""
    kind = answers.get("type", {}).get("kind")
    basis = answers.get("price_basis", {}).get("basis", "unbound")
    chosen = [item(sess, org, basis, "subscription", kind, f"base-{kind}", today)]
    if "call_rate" in answers:
        chosen.append(item(sess, org, basis, "call_rate", kind, answers["call_rate"]["code"], today))
    if "data_package" in answers:
        chosen.append(item(sess, org, basis, "data_package", kind, answers["data_package"]["code"], today))
    lines = [(i, i.monthly_ore, i.one_off_ore) for i in chosen if i is not None]
    binding = None
    contract: Contract | None = org.active_contract(today)
    if basis == "bound" and contract is not None:
        binding = add_months(today, contract.binding_months)
    return Quote(sum(m for _, m, _ in lines), sum(o for _, _, o in lines), binding, lines)
