"""The application's clock: real time, or the one a test injects as app.config["CLOCK"]."""

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """Now, timezone-aware (tests move time instead of sleeping)."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)
