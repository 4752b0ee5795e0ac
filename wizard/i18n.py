"""The language of a request, the wizard's message catalogue, and Babel-formatted money and dates."""

import functools
import os
import re
from datetime import date, datetime

from babel import Locale
from babel.dates import get_datetime_format
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_currency, format_date, format_time, get_locale

from .extensions import babel
from .visitor import known_visitor

# The compiled catalogues (translations/<locale>/LC_MESSAGES/messages.mo) sit inside the package.
TRANSLATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")
LANGUAGE_KEY = "lang"  # the session's language choice, made in the header before logging in


def init_app(app: Flask) -> None:
    """Flask-Babel with the wizard's catalogue. Standalone, the wizard chooses the language; mounted in
    a host that set Flask-Babel up itself, the host does, and the wizard's catalogue is merged after the
    host's own (the host's translation of a message wins)."""
    if "babel" not in app.extensions:
        babel.init_app(app, locale_selector=select_locale)
    directories = app.extensions["babel"].translation_directories
    if all(os.path.normpath(d) != TRANSLATIONS for d in directories):
        directories.append(TRANSLATIONS)


def select_locale() -> str:
    """?lang= for this request, else the language the person chose (saved with them once logged in,
    else in the session), else the browser's preference among ours; outside a request, the default."""
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if not has_request_context():
        return default
    languages = current_app.config["LANGUAGES"]
    for choice in (request.args.get("lang"), chosen_language()):
        if choice is not None and choice in languages:
            return choice
    return request.accept_languages.best_match(languages) or default


def chosen_language() -> str | None:
    """The person's saved choice once this request knows who they are, else the session's. It never
    looks them up itself: an error page must render when the database cannot answer, and a mounted
    wizard must not provision anyone on the host's pages."""
    visitor = known_visitor()
    saved = visitor.locale if visitor is not None and visitor.is_authenticated else None
    return saved or session.get(LANGUAGE_KEY)


@functools.cache
def language_name(code: str) -> str:
    """A language's name in itself, e.g. 'Svenska', from Babel's locale data."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


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
    """A date, e.g. '27 nov. 2026' or 'Nov 27, 2026' (Babel's medium format)."""
    if value is None:
        return ""
    return format_date(value, "medium")


def moment(value: datetime | None) -> str:
    """A date and time to the minute, in Stockholm time: '27 nov. 2026 14:32' or 'Nov 27, 2026, 2:32 PM'
    (the locale's own way of joining its medium date and short time; seconds are noise here)."""
    if value is None:
        return ""
    joined = get_datetime_format("medium", locale=get_locale())
    return str(joined).replace("'", "").format(format_time(value, "short"), format_date(value, "medium"))


def clock(value: datetime | None) -> str:
    """A time of day in the configured time zone, e.g. '14:32' or '2:32 PM'."""
    if value is None:
        return ""
    return format_time(value, "short")
