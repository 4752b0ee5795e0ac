"""Locale choice and Babel-formatted money and dates for templates."""

import re
from datetime import date, datetime

from flask import current_app, has_request_context, request
from flask_babel import format_currency, format_date, format_datetime, format_time


def select_locale() -> str:
    """The ?lang= choice, else the browser's preference among ours; outside a request (a command), the default."""
    if not has_request_context():
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked is not None and asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


CODE_THEN_DIGIT = re.compile(r"^([A-Z]{3})(\d)")


def money(ore: int | None) -> str:
    """Öre as a localised SEK amount, e.g. 'SEK 199.00' or '199,00 kr'."""
    if ore is None:
        return ""
    text = format_currency(ore / 100, current_app.config["CURRENCY"])
    # Babel does not apply CLDR's currencySpacing, so 'en' gives 'SEK199.00'; add the
    # no-break space CLDR asks for between a letter symbol and a digit.
    return CODE_THEN_DIGIT.sub("\\1\u00a0\\2", text)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return format_date(value, "long")


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "medium")


def clock(value: datetime | None) -> str:
    """A time of day in the configured time zone, e.g. '14:32' or '2:32 PM'."""
    if value is None:
        return ""
    return format_time(value, "short")
