"""The message catalogue as the tests see it: the messages the code has now (extracted the way `make
translations` does), the Swedish catalogue in git, a pseudo-locale built from the code's messages, and
the visible text of a page split into what passed through gettext and what did not."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.dates import get_day_names, get_month_names
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.pages import Element, parse

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "wizard" / "translations"
SWEDISH_PO = TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po"
# The same keywords and mapping as `make translations` (Makefile, babel.cfg).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
METHODS = [("wizard/**.py", "python"), ("templates/**.html", "jinja2")]

OPEN, CLOSE = "⟦", "⟧"  # what the pseudo-locale puts around every translated message
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
WORD = re.compile(r"[^\W\d_]+")
NOT_SHOWN = {"script", "style", "template", "head"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-saved-text")


@cache
def code_messages() -> dict[str | tuple[str, str], list[str]]:
    """Every message the code and templates have now -> where it is."""
    found: dict[str | tuple[str, str], list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        if filename.startswith(("wizard/", "templates/")):
            found.setdefault(message, []).append(filename)
    return found


def swedish() -> Catalog:
    with SWEDISH_PO.open("rb") as f:
        return read_po(f, locale="sv")


def pseudo_catalogue(directory: Path, locale: str = "sv") -> None:
    """A compiled catalogue for `locale` that turns every message of the code into ⟦message⟧, with its
    placeholders kept, so anything on a page outside ⟦ ⟧ did not pass through gettext."""
    catalog = Catalog(locale=locale)
    for message in code_messages():
        if isinstance(message, tuple):
            catalog.add(message, tuple(OPEN + m + CLOSE for m in message))
        else:
            catalog.add(message, OPEN + message + CLOSE)
    target = directory / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as f:
        write_mo(f, catalog)


def visible_texts(html: str) -> list[str]:
    """What a person can read on the page: text outside scripts and styles, the title, and the
    attributes read out or shown (title, placeholder, aria-label, alt, announcements); an element
    marked translate="no" (a language's own name) is left out with what it holds."""
    texts: list[str] = []

    def visit(element: Element) -> None:
        if element.attrs.get("translate") == "no" or element.tag in NOT_SHOWN - {"head"}:
            return
        texts.extend(element.attrs[a] for a in SHOWN_ATTRIBUTES if element.attrs.get(a))
        if element.tag == "input" and element.attrs.get("type") in ("submit", "button") and element.attrs.get("value"):
            texts.append(element.attrs["value"])
        for child in element.children:
            if isinstance(child, Element):
                visit(child)
            elif child.strip():
                texts.append(" ".join(child.split()))

    doc = parse(html)
    visit(doc)
    return texts


def outside_gettext(text: str) -> str:
    """The text less every ⟦…⟧ (innermost first: a message may hold another)."""
    innermost = re.compile(re.escape(OPEN) + "[^" + OPEN + CLOSE + "]*" + re.escape(CLOSE))
    while True:
        shorter = innermost.sub(" ", text)
        if shorter == text:
            return text
        text = shorter


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


@cache
def babel_words(locale: str) -> frozenset[str]:
    """Month and day names Babel writes in dates, and the currency's symbol."""
    found: set[str] = {"kr", "sek"}
    for width in ("wide", "abbreviated"):
        for names in (get_month_names(width, locale=locale), get_day_names(width, locale=locale)):
            for name in names.values():
                found |= words(name)
    return frozenset(found)


# Proper names the wizard shows as they are, in any language.
NAMES = {
    "mex",
    "pbx",
    "esim",
    "sim",
    "icc",
    "sm",
    "dp",
    "iphone",
    "android",
    "wi",
    "fi",
    "gb",
    "eu",
    "ees",
    "qr",
    "nb",
}  # nb: order references (NB-2026-000123)


@cache
def data_words() -> frozenset[str]:
    """Words that are data, not interface, in the demo data every test starts from: people, their
    e-mail addresses, organisations, the contract, operators, price items' Swedish names. (Codes,
    like an eSIM's, are marked translate="no" where shown.)"""
    from wizard import porting, seed

    values = [name for _org, _email, name, *_rest in seed.USERS] + [email for _org, email, *_rest in seed.USERS]
    values += [o["name"] for o in seed.ORGANISATIONS] + [seed.CONTRACT_REFERENCE]
    values += [o for o in porting.OPERATORS if o != porting.OTHER_OPERATOR]
    values += [text for pair in seed.PRICES_SV.values() for text in pair]
    found = set(NAMES)
    for value in values:
        found |= words(value)
    return frozenset(found)


@cache
def swedish_words() -> frozenset[str]:
    """Every word of the Swedish catalogue's translations."""
    found: set[str] = set()
    for message in swedish():
        for string in message.string if isinstance(message.string, tuple) else (message.string,):
            found |= words(PLACEHOLDER.sub(" ", string or ""))
    return frozenset(found)


def foreign_words(text: str) -> set[str]:
    """The words of a Swedish page's text that are neither Swedish (ours or Babel's) nor data."""
    return words(text) - swedish_words() - data_words() - babel_words("sv")
