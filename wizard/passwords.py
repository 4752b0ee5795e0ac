"""Passwords: the rules a new one must meet (ASVS 5.0 chapter 6) and argon2id hashing, cost from configuration."""

import secrets
from contextlib import suppress
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128  # ASVS 6.2.9 wants at least 64 allowed; the cap is checked before anything is hashed

# Hashes of a random secret, one per cost, made once per process: what an unknown e-mail is verified against.
_DUMMY: dict[tuple, str] = {}


@cache
def _common() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords (from leaked password lists), lower-case."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None: every place that sets one asks this first.

    Only length and commonness count, no composition rules (ASVS 6.2.5), and the password is
    taken exactly as typed (6.2.8): no trimming, no change of case when it is stored.
    """
    if len(password) < MIN_LENGTH:
        return _("Choose a password of at least %(count)d characters.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Choose a password of at most %(count)d characters.", count=MAX_LENGTH)
    if any("\ud800" <= ch <= "\udfff" for ch in password):  # undecodable bytes (a command's argv): no UTF-8
        return _("The password holds bytes that are not text. Type it again.")
    if _is_common(password.lower()):
        return _("This password is too easy to guess: a common one, or a short pattern repeated. Choose another.")
    return None


def _is_common(text: str) -> bool:
    """In the common list, or a piece of it repeated ("passwordpassword"), or up to 3 characters
    repeated ("aaaaaaaaaaaa", "abcabcabcabc"): the list holds few passwords as long as 12."""
    if text in _common():
        return True
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return size <= 3 or text[:size] in _common()
    return False


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """Hash a password for storage (the caller has checked it with `password_problem`)."""
    return _hasher().hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with another cost than configured now: rehash it at the next login,
    so every user's failed login costs what an unknown e-mail's does."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash.

    No hash (an unknown e-mail, a person without a password) or one that cannot be read costs
    exactly one verification at the configured cost too, so how long a failed login takes says
    nothing about whom it named.
    """
    hasher = _hasher()
    dummy = _dummy_hash(hasher)  # made on the first call in a process, whichever path that is
    if password_hash:
        try:
            return hasher.verify(password_hash, password)
        except VerificationError:
            return False
        except InvalidHashError:
            pass
    with suppress(VerificationError):
        hasher.verify(dummy, password)
    return False  # even if someone typed the random secret


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_urlsafe(32))
    return _DUMMY[key]
