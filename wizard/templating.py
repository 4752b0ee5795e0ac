"""What templates may call: Babel formatting filters and a helper for htmx attributes."""

from datetime import date

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import visitor
from .embedding import parent_origin
from .fragments import current_url
from .i18n import clock, day, language_name, moment, money
from .numbers import international, national
from .pricing import localised
from .sim import grouped

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


def layout() -> str:
    """The template every wizard page extends: inside the host's layout (mounted with a base template),
    without the portal's chrome (framed in another site), or the portal's own."""
    wizard = current_app.extensions["wizard"]
    if wizard.base_template:
        return "wizard/hosted.html"
    if parent_origin():
        return "wizard/embed.html"
    return "wizard/layout.html"


def wizard_context() -> dict:
    """What every wizard template sees: the wizard's own person as `wizard_user` (a host's `current_user`
    stays the host's in its layout), the layout to extend, and how the wizard is shown."""
    wizard = current_app.extensions["wizard"]
    return {
        "wizard_user": visitor.current_user,
        "wizard_layout": layout(),
        "wizard_host_base": wizard.base_template,
        "wizard_hosted": wizard.hosted,
        "wizard_site_name": wizard.site_name or _l("Nordic Business Telephony"),  # titles end with it
        "wizard_embed_parent": parent_origin(),  # the origin framing this page (embed.js posts to it only)
    }


def national_number(value: str) -> str:
    return unbroken(national(value))


def international_number(value: str) -> str:
    return unbroken(international(value))


FILTERS = {
    "money": money,
    "day": day,
    "moment": moment,
    "clock": clock,
    "unbroken": unbroken,
    "national": national_number,
    "international": international_number,
    "icc": lambda value: unbroken(grouped(value)),
    "price_name": lambda item: localised(item, "name"),
    "isodate": date.fromisoformat,  # a date kept as text (audit events' data) back to a date
}
GLOBALS = {
    "get_locale": get_locale,
    "PERMISSION_NAMES": PERMISSION_NAMES,
    "hx": hx,
    "merged": merged,
    "current_url": current_url,
    "language_name": language_name,
}


def init_app(app) -> None:
    """The wizard's template filters and globals. Mounted in a host whose templates already use one of
    these names for something else, start-up stops and says which, rather than break either side."""
    for registry, ours in ((app.jinja_env.filters, FILTERS), (app.jinja_env.globals, GLOBALS)):
        clashes = sorted(name for name, fn in ours.items() if registry.get(name, fn) is not fn)
        if clashes:
            raise RuntimeError(
                f"The host app's Jinja environment already has {', '.join(clashes)}; the wizard's templates "
                "need these names. Rename the host's, or mount the wizard in an app of its own."
            )
        registry.update(ours)
