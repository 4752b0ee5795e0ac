"""Password hashing with argon2id (argon2-cffi), cost taken from configuration."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# A hash to verify against when the email is unknown, so both paths cost the same time.
_DUMMY: dict[tuple[int, int], str] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; an unknown user still pays for one verification."""
    hasher = _hasher()
    if password_hash is None:
        key = (hasher.time_cost, hasher.memory_cost)
        password_hash = _DUMMY.setdefault(key, hasher.hash("no-such-user"))
        password = ""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
