"""Browser sign-in: `POST /api/session` sets an HttpOnly cookie, `DELETE` signs out."""

from __future__ import annotations

import time

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import SESSION_COOKIE, require_user
from server.credentials import hash_secret, new_session_id
from server.errors import Unauthorized
from server.json import json_response, read_json_object, require_str
from server.passwords import DUMMY_HASH, upgraded_hash, verify_password
from server.services import Services, services_of
from server.storage.base import User

BAD_CREDENTIALS = "email or password is incorrect"


async def _describe(services: Services, user: User) -> dict[str, object]:
    organizations = []
    for membership in await services.storage.memberships_for_user(user.id):
        org = await services.storage.get_organization(membership.org_id)
        if org is not None:
            organizations.append({"id": org.id, "name": org.name, "role": membership.role})
    return {
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "organizations": organizations,
    }


async def _password_matches(services: Services, user: User | None, password: str) -> bool:
    """Argon2 takes tens of milliseconds of CPU: run it off the event loop. An unknown
    user costs the same as a wrong password, so timing does not tell who exists."""
    stored = user.password_hash if user is not None else None
    if user is None or stored is None:
        await anyio.to_thread.run_sync(verify_password, DUMMY_HASH, password)
        return False
    if not await anyio.to_thread.run_sync(verify_password, stored, password):
        return False
    stronger = await anyio.to_thread.run_sync(upgraded_hash, stored, password)
    if stronger is not None:
        await services.storage.set_password_hash(user.id, stronger)
    return True


async def sign_in(request: Request) -> Response:
    services = services_of(request)
    body = await read_json_object(request)
    email = require_str(body, "email").strip().lower()
    password = require_str(body, "password")
    limiter = services.login_limiter
    keys = (f"email:{email}", f"ip:{request.client.host if request.client else '?'}")
    for key in keys:
        limiter.check(key)
    user = await services.storage.get_user_by_email(email)
    matches = await _password_matches(services, user, password)
    if user is None or not matches:
        for key in keys:
            limiter.record_failure(key)
        raise Unauthorized(BAD_CREDENTIALS)
    limiter.reset(keys[0])
    session_id, session_hash = new_session_id()
    lifetime_s = services.settings.session_days * 86400
    expires_at = int((time.time() + lifetime_s) * 1000)
    await services.storage.create_session(user.id, session_hash, expires_at)
    response = json_response(await _describe(services, user))
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=lifetime_s,
        httponly=True,
        samesite="lax",
        secure=services.settings.cookie_secure,
        path="/",
    )
    return response


async def current(request: Request) -> Response:
    user = await require_user(request)
    return json_response(await _describe(services_of(request), user))


async def sign_out(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await services_of(request).storage.delete_session(hash_secret(cookie))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


routes: list[BaseRoute] = [
    Route("/api/session", sign_in, methods=["POST"]),
    Route("/api/session", current, methods=["GET"]),
    Route("/api/session", sign_out, methods=["DELETE"]),
]
