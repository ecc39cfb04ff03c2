"""Secrets handed to clients (API tokens, session ids) and the hashes stored for them.

Tokens and session ids are 256-bit random values, so a fast hash (SHA-256) is the right
one: nothing can be guessed or brute-forced from it. Passwords, which people choose, are
hashed with argon2 in `server.passwords`."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "tdm_"


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_secret(token)


def new_session_id() -> tuple[str, str]:
    session_id = secrets.token_urlsafe(32)
    return session_id, hash_secret(session_id)
