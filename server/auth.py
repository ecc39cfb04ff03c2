"""Who is asking: a bearer API token or the browser's session cookie."""

from __future__ import annotations

import time

from starlette.requests import HTTPConnection

from server.credentials import hash_secret
from server.errors import Unauthorized
from server.services import services_of
from server.storage.base import Storage, User

SESSION_COOKIE = "tandem_session"


def bearer_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def user_from_credentials(
    storage: Storage, *, bearer: str | None, session_cookie: str | None
) -> User | None:
    if bearer:
        user = await storage.user_for_token_hash(hash_secret(bearer))
        if user is not None:
            return user
    if session_cookie:
        now = int(time.time() * 1000)
        return await storage.user_for_session_hash(hash_secret(session_cookie), now)
    return None


async def require_user(conn: HTTPConnection) -> User:
    storage = services_of(conn).storage
    user = await user_from_credentials(
        storage,
        bearer=bearer_from_header(conn.headers.get("authorization")),
        session_cookie=conn.cookies.get(SESSION_COOKIE),
    )
    if user is None:
        raise Unauthorized("sign in, or send a valid bearer token")
    return user
