"""The application's one clock: real time, or the one a test injects as app.config["CLOCK"].

Moments are stored and compared in UTC; business dates (the earliest porting date, the contract in
force, the end of a binding period, a draft's age in days) are Stockholm dates, because every rule
they follow is Swedish: at 00:30 on 1 January in Stockholm it is still 31 December in UTC.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

BUSINESS_ZONE = ZoneInfo("Europe/Stockholm")


def now() -> datetime:
    """Now, timezone-aware in UTC (tests move time instead of sleeping)."""
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    return clock().astimezone(UTC) if clock else datetime.now(UTC)


def business_day(moment: datetime) -> date:
    """The Stockholm date of a moment."""
    return moment.astimezone(BUSINESS_ZONE).date()


def today() -> date:
    """Today in Stockholm."""
    return business_day(now())
