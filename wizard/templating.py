"""What templates may call: Babel formatting filters and a helper for htmx attributes."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .i18n import clock, day, moment, money
from .numbers import international, national

PERMISSION_NAMES = {"account": _l("Account"), "users": _l("Users")}


def hx(**attributes) -> dict:
    """hx(post=url, target='#step') -> {'hx-post': url, 'hx-target': '#step'} for WTForms widgets."""
    return {f"hx-{name.replace('_', '-')}": value for name, value in attributes.items()}


def merged(*dicts) -> dict:
    """Later dicts win; None values are left out (so optional attributes vanish)."""
    result = {}
    for d in dicts:
        result.update({k: v for k, v in d.items() if v is not None})
    return result


def unbroken(text: str) -> str:
    """Spaces as no-break spaces, so a number never wraps across lines."""
    return text.replace(" ", "\u00a0")


def init_app(app) -> None:
    app.jinja_env.filters.update(
        money=money,
        day=day,
        moment=moment,
        clock=clock,
        unbroken=unbroken,
        national=lambda v: unbroken(national(v)),
        international=lambda v: unbroken(international(v)),
    )
    app.jinja_env.globals.update(get_locale=get_locale, PERMISSION_NAMES=PERMISSION_NAMES, hx=hx, merged=merged)
