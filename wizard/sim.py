"""SIM cards: ICC validation (ITU-T E.118, Luhn via python-stdnum) and eSIM activation codes."""

from __future__ import annotations

import secrets

import segno
from markupsafe import escape
from stdnum import luhn
from stdnum.exceptions import ValidationError


class IccError(ValueError):
    """Why an ICC is not acceptable; the code maps to a message for the buyer."""


def clean_icc(text: str) -> str:
    """Remove the spaces and dashes printed on cards; refuse anything but 20 ASCII digits, 89…, Luhn valid."""
    compact = "".join(text.split()).replace("-", "")
    if not compact.isascii() or not compact.isdigit():
        raise IccError("digits")
    if len(compact) != 20:
        raise IccError("length")
    if not compact.startswith("89"):
        raise IccError("prefix")
    try:
        luhn.validate(compact)
    except ValidationError as exc:
        raise IccError("checksum") from exc
    return compact


def grouped(icc: str) -> str:
    """'8946 0712 3456 7890 1230' as printed on cards."""
    return " ".join(icc[i : i + 4] for i in range(0, len(icc), 4))


def activation_code(smdp_address: str) -> str:
    """A GSMA SGP.22 activation code: LPA:1$<SM-DP+ address>$<matching id> (random, from a CSPRNG)."""
    matching_id = "-".join(secrets.token_hex(2).upper() for _ in range(5))
    return f"LPA:1${smdp_address}${matching_id}"


def parts(code: str) -> tuple[str, str]:
    """The SM-DP+ address and matching id of an activation code, for entering by hand."""
    _prefix, address, matching_id = code.split("$", 2)
    return address, matching_id


def qr_svg(code: str, title: str) -> str:
    """The activation code as an inline SVG QR code (segno; no image request, no inline style)."""
    svg = segno.make(code, error="m").svg_inline(scale=6, border=4, title=title, svgclass="qr", lineclass="qr-line")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
