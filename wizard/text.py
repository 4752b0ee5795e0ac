"""Text from outside (a form, a file, the operator's register): whether it holds control characters,
and how to show it back without them. Plain Python, so the domain modules can use it too."""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # Unicode's Cc (C0, DEL, C1) and Cs


def has_control(text: str) -> bool:
    """Whether text holds a control character (NUL, tab, line breaks, ESC, DEL, C1) or a lone surrogate."""
    return CONTROL.search(text) is not None


def printable(text: str) -> str:
    """Text to show back to a person: each control character as the replacement character."""
    return CONTROL.sub("\ufffd", text)
