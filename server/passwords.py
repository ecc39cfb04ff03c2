"""Password hashing with argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import InvalidInput

MIN_LENGTH = 8
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_LENGTH} characters", field="password")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (or is not argon2):
    rehash it with the password the user just proved they know."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def upgraded_hash(password_hash: str, password: str) -> str | None:
    """After a successful `verify_password`: a hash of the same password with today's
    parameters when the stored one is weaker, else None."""
    return _hasher.hash(password) if needs_rehash(password_hash) else None


# Spent on unknown emails so that a wrong email and a wrong password take as long.
DUMMY_HASH = _hasher.hash("tandem-dummy-password")
