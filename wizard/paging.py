"""One page of a query's rows, with what a pager needs: two statements however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    pages: int
    total: int


def paginate(sess: Session, query: Select, number: int, per_page: int) -> Page:
    """Page `number` (clamped to 1..pages) of `query`, which must already be ordered."""
    total = sess.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(number, 1), pages)
    rows = list(sess.execute(query.offset((number - 1) * per_page).limit(per_page)).unique()) if total else []
    return Page(rows, number, pages, total)
