"""Porting a number in: the porting register behind a small interface, and the porting date rule."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import PortingRegisterEntry

OPERATORS = ["Telia", "Tele2", "Telenor", "Tre", "Comviq", "Hallon", "Vimla", "Other"]
LEAD_WORKING_DAYS = {"mobile": 5, "fixed": 10}


@dataclass(frozen=True)
class RegisterEntry:
    current_operator: str
    binding_ends_on: date | None


class PortingRegister(Protocol):
    """What we need of a porting register; a real operator API can stand in for the table."""

    def lookup(self, e164: str) -> RegisterEntry | None: ...


class DatabaseRegister:
    """The default register: a table the operator fills (importable from CSV)."""

    def __init__(self, sess: Session):
        self.sess = sess

    def lookup(self, e164: str) -> RegisterEntry | None:
        row = self.sess.scalar(select(PortingRegisterEntry).where(PortingRegisterEntry.e164 == e164))
        if row is None:
            return None
        return RegisterEntry(row.current_operator, row.binding_ends_on)


def still_bound(entry: RegisterEntry | None, today: date) -> date | None:
    """The date the binding ends when it has not ended yet, else None."""
    if entry and entry.binding_ends_on and entry.binding_ends_on >= today:
        return entry.binding_ends_on
    return None


def earliest_porting_date(kind: str, today: date) -> date:
    """The first working day at least the lead time of working days after today (Swedish holidays)."""
    se_holidays = holidays.country_holidays("SE", years=range(today.year, today.year + 2))
    day, remaining = today, LEAD_WORKING_DAYS[kind]
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in se_holidays:
            remaining -= 1
    return day


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays("SE", years=day.year)
