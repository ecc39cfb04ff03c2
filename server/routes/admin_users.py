"""`/api/admin/users`: the members of an organization, for its owners and admins — list,
add (a new person or someone with an account already), change role and @handle, remove.
Only owners grant or take the owner role, and an organization always keeps one owner."""

from __future__ import annotations

import re
import secrets
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.directory import load_directory
from server.actions.members import member_left, sync_rooms
from server.auth import require_user
from server.conversations.handles import handle_problem, member_handles
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object, require_str
from server.passwords import hash_password
from server.services import Services, services_of
from server.storage.base import ROLES, Role, User
from server.storage.members import Member

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
ADMINS = ("owner", "admin")


async def _administered(services: Services, user: User, request: Request) -> tuple[str, str]:
    """The organization (`?organization=`, else the user's first) and the user's role in
    it, which must be owner or admin."""
    wanted = request.query_params.get("organization")
    for membership in await services.storage.memberships_for_user(user.id):
        if wanted in (None, membership.org_id):
            if membership.role not in ADMINS:
                raise Forbidden("only owners and admins manage members")
            return membership.org_id, membership.role
    raise Forbidden("you are not a member of that organization", field="organization")


async def _people(services: Services, org_id: str) -> tuple[list[Member], dict[str, str]]:
    """The members, and the @handle that mentions each (user id -> handle)."""
    people = await services.storage.org_people(org_id)
    handles = member_handles((p.id, p.email, p.handle) for p in people)
    return people, {uid: handle for handle, uid in handles.items()}


def _user_json(member: Member, handles: dict[str, str]) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "handle": handles.get(member.id),
    }


async def _answer(services: Services, org_id: str, user_id: str) -> dict[str, Any]:
    people, handles = await _people(services, org_id)
    return _user_json(next(p for p in people if p.id == user_id), handles)


async def _target(services: Services, org_id: str, request: Request) -> Member:
    user_id = request.path_params["user_id"]
    for member in await services.storage.org_people(org_id):
        if member.id == user_id:
            return member
    raise NotFound(f"no member {user_id} in this organization")


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise InvalidInput(f"unknown field {key!r} (expected {', '.join(allowed)})", field=key)


def _role(body: dict[str, Any], default: str | None = None) -> Role:
    role = body.get("role", default)
    for known in ROLES:
        if role == known:
            return known
    raise InvalidInput(f"'role' must be one of {', '.join(ROLES)}", field="role")


def _owners_only(actor_role: str, *roles: str) -> None:
    if "owner" in roles and actor_role != "owner":
        raise Forbidden("only owners grant or take the owner role", field="role")


async def list_users(request: Request) -> Response:
    services = services_of(request)
    org_id, _ = await _administered(services, await require_user(request), request)
    people, handles = await _people(services, org_id)
    return json_response({"users": [_user_json(p, handles) for p in people]})


async def add_user(request: Request) -> Response:
    """`{"email", "name"?, "role"?, "password"?}`: a new email creates the person (with a
    generated password, answered once, when none is given); a known one joins as is."""
    services = services_of(request)
    actor = await require_user(request)
    org_id, actor_role = await _administered(services, actor, request)
    body = await read_json_object(request)
    _only(body, ("email", "name", "role", "password"))
    email = require_str(body, "email").strip().lower()
    if not EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    name = body.get("name", email.split("@", 1)[0])
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("'name' must be a non-empty string", field="name")
    role = _role(body, "member")
    password = body.get("password")
    if password is not None and not isinstance(password, str):
        raise InvalidInput("'password' must be a string", field="password")
    _owners_only(actor_role, role)
    existing = await services.storage.get_user_by_email(email)
    generated = password_hash = None
    if existing is not None and password is not None:
        raise InvalidInput(
            f"{email} already has an account and keeps their own password", field="password"
        )
    if existing is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        password_hash = await anyio.to_thread.run_sync(hash_password, password)
    member, created = await services.storage.add_member(
        org_id, email, name.strip(), password_hash, role
    )
    await sync_rooms(services, org_id)
    answer: dict[str, Any] = {
        "user": await _answer(services, org_id, member.id),
        "created": created,
    }
    if created and generated is not None:
        answer["password"] = generated
    return json_response(answer, status_code=201)


async def update_user(request: Request) -> Response:
    """`{"role"?, "handle"?}` (a null handle goes back to the email's local part)."""
    services = services_of(request)
    org_id, actor_role = await _administered(services, await require_user(request), request)
    target = await _target(services, org_id, request)
    body = await read_json_object(request)
    _only(body, ("role", "handle"))
    if not body:
        raise InvalidInput("send 'role' and/or 'handle'")
    changes: dict[str, object] = {}
    if "role" in body:
        role = _role(body)
        if role != target.role:
            _owners_only(actor_role, role, target.role)
        changes["role"] = role
    if "handle" in body:
        changes["handle"] = await _handle(services, org_id, target, body["handle"])
    await services.storage.update_member(org_id, target.id, changes)
    return json_response({"user": await _answer(services, org_id, target.id)})


async def _handle(services: Services, org_id: str, target: Member, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("'handle' must be a string or null", field="handle")
    handle = value.strip().removeprefix("@").lower()
    directory = await load_directory(services.storage, org_id)
    problem = handle_problem(handle, target.id, directory)
    if problem is not None:
        message, clash = problem
        raise (Conflict if clash else InvalidInput)(message, field="handle")
    return handle


async def remove_user(request: Request) -> Response:
    """They lose the organization: its conversations, rooms, teams and shares. Work
    assigned to them is unassigned (see docs/behaviour.md, "Members")."""
    services = services_of(request)
    actor = await require_user(request)
    org_id, actor_role = await _administered(services, actor, request)
    target = await _target(services, org_id, request)
    _owners_only(actor_role, target.role)
    teams = await services.storage.remove_member(org_id, target.id)
    await member_left(services, org_id, target.id, teams, actor.id)
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route("/api/admin/users", list_users, methods=["GET"]),
    Route("/api/admin/users", add_user, methods=["POST"]),
    Route("/api/admin/users/{user_id}", update_user, methods=["PATCH"]),
    Route("/api/admin/users/{user_id}", remove_user, methods=["DELETE"]),
]
