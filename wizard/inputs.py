"""What a request may carry, checked where it comes in: the validator every text field uses (no
control characters), the order id's URL converter and the bounds of page numbers.

PostgreSQL refuses NUL in text, SQLite gives up on very long LIKE patterns and Python on integers
of more than 4,300 digits: each of those would be a server error, so none of it gets that far."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.routing import BaseConverter
from wtforms import IntegerField
from wtforms.validators import Length, StopValidation, ValidationError

from .db import as_int
from .text import has_control

MAX_PAGE = 100_000  # far past the last page of any list here; paging clamps to the real last page


class NoControlCharacters:
    """A WTForms validator: text typed by a person never holds control characters. It stops the
    field's other checks, whose messages would only repeat that the text is wrong."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control(field.data):
            raise StopValidation(
                self.message or _l("Remove the control character (such as a tab or a line break) from what you typed")
            )


class AtMost(Length):
    """WTForms' Length(max=n) with our message, which stops the field's other checks: a text far too
    long to be a phone, card or organisation number needs one message, not a second about its format."""

    def __init__(self, chars: int):
        super().__init__(max=chars, message=_l("Enter at most %(max)d characters"))

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except ValidationError as error:
            raise StopValidation(str(error)) from None


class WholeNumberField(IntegerField):
    """An integer field for page numbers and ids: ASCII digits that fit an INTEGER column (db.as_int),
    else "Not a valid integer value". IntegerField's int() takes '٣', '1_000' and ' 5 ', refuses
    more than 4,300 digits, and WTForms' NumberRange fails on a number too large for a float."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = as_int(valuelist[0])
        if self.data is None:
            raise ValueError(self.invalid_value_message or self.gettext("Not a valid integer value."))


class DraftIdConverter(BaseConverter):
    """An order's id in a path: what models.new_draft_id makes (URL-safe Base64), at most the column's
    32 characters. Anything else matches no route, so it is a 404 before any query."""

    regex = r"[A-Za-z0-9_-]{1,32}"


def register_converters(state) -> None:
    """On the app a blueprint is registered on (standalone or a host), before its routes are added."""
    state.app.url_map.converters.setdefault("draft", DraftIdConverter)
