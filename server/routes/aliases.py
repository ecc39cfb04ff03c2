"""Aliases (`/api/aliases`, `/api/accounts/{id}/aliases`) and the default sender
(`/api/me/sender`).

An account's default alias is the account itself; the aliases added to it are rows. Only
the account's owner, or an organization owner or admin, adds, deletes and shares them.
Whoever may send from an alias keeps their own name, description, never-auto-select flag
and signature on it (AL-3, AL-6, SG-1)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.identity import org_aliases, signature_visible
from server.auth import require_user
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.identity.senders import Alias, SenderPreferences, sendable
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.aliases import AliasRow, AliasSettings
from server.storage.base import Storage, User
from sync.compose import InvalidAddress, check_address

MAX_NAME = 200
MAX_DESCRIPTION = 500
ADMINS = ("owner", "admin")


async def member_org(storage: Storage, user: User, request: Request) -> tuple[str, str]:
    """(organization, role) of the caller: `?organization=` or their first one."""
    wanted = request.query_params.get("organization")
    for membership in await storage.memberships_for_user(user.id):
        if wanted in (None, membership.org_id):
            return membership.org_id, membership.role
    raise Forbidden("you are not a member of that organization", field="organization")


def checked_text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"'{key}' must be a string of at most {limit} characters", field=key)
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(f"'{key}' must be one line", field=key)
    return value.strip()


def _unknown(body: dict[str, Any], known: set[str]) -> None:
    for key in sorted(set(body) - known):
        raise InvalidInput(f"unknown field {key!r}", field=key)


def _json(alias: Alias | AliasRow, shares: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": alias.id, "account": alias.account_id, "address": alias.address,
        "is_default": alias.is_default, "description": alias.description,
    }  # fmt: skip
    if shares:
        found["shared_with"] = sorted(alias.shared_with)
    return found


def _settings_json(settings: AliasSettings) -> dict[str, Any]:
    return {
        "name": settings.name, "description": settings.description,
        "never_auto_select": settings.never_auto_select, "signature_id": settings.signature_id,
    }  # fmt: skip


async def _manages(storage: Storage, user: User, org_id: str, account_id: str) -> bool:
    role = (await storage.org_members(org_id)).get(user.id)
    owners = {account.id: account.owner_id for account in await storage.accounts_of(org_id)}
    return owners.get(account_id) == user.id or role in ADMINS


async def _account_org(services: Services, user: User, account_id: str) -> str:
    """The organization of the account in the path; 404 for someone outside it."""
    default = await services.storage.alias(account_id)  # an account is its default alias
    if default is None or not default.is_default:
        raise NotFound("no such account", field="account")
    if user.id not in await services.storage.org_members(default.org_id):
        raise NotFound("no such account", field="account")
    return default.org_id


async def _alias(services: Services, user: User, request: Request) -> tuple[AliasRow, Alias]:
    """The alias in the path, as stored and with who may send from it; 404 for someone
    outside its organization."""
    row = await services.storage.alias(request.path_params["alias_id"])
    if row is None or user.id not in await services.storage.org_members(row.org_id):
        raise NotFound("no such alias", field="alias")
    _, aliases = await org_aliases(services.storage, row.org_id)
    return row, next(alias for alias in aliases if alias.id == row.id)


async def list_aliases(request: Request) -> Response:
    """The caller's From menu: every alias they may send from, with their settings."""
    services = services_of(request)
    user = await require_user(request)
    org_id, role = await member_org(services.storage, user, request)
    accounts, aliases = await org_aliases(services.storage, org_id)
    settings = await services.storage.alias_settings(org_id, user.id)
    found = []
    for alias in aliases:
        if sendable(alias, user.id):
            manages = accounts[alias.account_id].owner_id == user.id or role in ADMINS
            mine = settings.get(alias.id, AliasSettings())
            found.append({**_json(alias, manages), "settings": _settings_json(mine)})
    return json_response({"aliases": found})


async def account_aliases(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    account_id = request.path_params["account_id"]
    org_id = await _account_org(services, user, account_id)
    if not await _manages(services.storage, user, org_id, account_id):
        raise Forbidden("only the account's owner or an admin manages its aliases")
    _, aliases = await org_aliases(services.storage, org_id)
    found = [_json(alias, True) for alias in aliases if alias.account_id == account_id]
    return json_response({"aliases": found})


async def create_alias(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    account_id = request.path_params["account_id"]
    org_id = await _account_org(services, user, account_id)
    if not await _manages(services.storage, user, org_id, account_id):
        raise Forbidden("only the account's owner or an admin adds aliases")
    body = await read_json_object(request)
    _unknown(body, {"address", "description"})
    address = body.get("address")
    try:
        address = check_address(address if isinstance(address, str) else "", "address")
    except InvalidAddress:
        raise InvalidInput(f"{address!r} is not an email address", field="address") from None
    description = checked_text(body, "description", MAX_DESCRIPTION)
    row = await services.storage.create_alias(account_id, address, description, user.id)
    return json_response({"alias": _json(row, True)}, status_code=201)


async def delete_alias(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    row, _ = await _alias(services, user, request)
    if not await _manages(services.storage, user, row.org_id, row.account_id):
        raise Forbidden("only the account's owner or an admin deletes its aliases")
    if row.is_default:
        raise Conflict("an account's default alias goes only with the account", field="alias")
    await services.storage.delete_alias(row.id)
    return Response(status_code=204)


async def share_alias(request: Request) -> Response:
    """`{"users": [ids]}`: who may send from this alias without the account (AL-7)."""
    services = services_of(request)
    user = await require_user(request)
    row, _ = await _alias(services, user, request)
    if not await _manages(services.storage, user, row.org_id, row.account_id):
        raise Forbidden("only the account's owner or an admin shares its aliases")
    body = await read_json_object(request)
    _unknown(body, {"users"})
    users = body.get("users")
    members = await services.storage.org_members(row.org_id)
    if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
        raise InvalidInput("'users' must be a list of user ids", field="users")
    for index, shared in enumerate(users):
        if shared not in members:
            raise InvalidInput(f"{shared!r} is not a member", field=f"users[{index}]")
    await services.storage.set_alias_shares(row.id, row.account_id, users)
    saved = await services.storage.alias(row.id)
    assert saved is not None
    return json_response({"alias": _json(saved, True)})


async def alias_settings(request: Request) -> Response:
    """The caller's own name, description, never-auto-select and signature on an alias
    they may send from."""
    services = services_of(request)
    user = await require_user(request)
    row, alias = await _alias(services, user, request)
    if not sendable(alias, user.id):
        raise Forbidden("you may not send from this alias", field="alias")
    body = await read_json_object(request)
    _unknown(body, {"name", "description", "never_auto_select", "signature_id"})
    current = (await services.storage.alias_settings(row.org_id, user.id)).get(row.id)
    chosen = current or AliasSettings()
    never = body.get("never_auto_select", chosen.never_auto_select)
    if not isinstance(never, bool):
        raise InvalidInput("'never_auto_select' must be true or false", field="never_auto_select")
    signature_id = body.get("signature_id", chosen.signature_id)
    if signature_id is not None:
        record = None
        if isinstance(signature_id, str):
            record = await services.storage.signature(signature_id)
        if record is None or record.org_id != row.org_id or not signature_visible(record, user.id):
            raise InvalidInput("no such signature", field="signature_id")
    saved = AliasSettings(
        checked_text(body, "name", MAX_NAME) if "name" in body else chosen.name,
        checked_text(body, "description", MAX_DESCRIPTION)
        if "description" in body
        else chosen.description,
        never,
        signature_id,
    )
    await services.storage.save_alias_settings(row, user.id, saved)
    return json_response({"settings": _settings_json(saved)})


def _sender_json(preferences: SenderPreferences) -> dict[str, Any]:
    return {
        "default_alias_id": preferences.default_alias_id,
        "always_reply_from_default": preferences.always_reply_from_default,
    }


async def get_sender(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    org_id, _ = await member_org(services.storage, user, request)
    preferences = await services.storage.sender_preferences(org_id, user.id)
    return json_response({"sender": _sender_json(preferences)})


async def patch_sender(request: Request) -> Response:
    """`{"default_alias_id"?: id | null, "always_reply_from_default"?: bool}` (AL-8, AL-9)."""
    services = services_of(request)
    user = await require_user(request)
    org_id, _ = await member_org(services.storage, user, request)
    body = await read_json_object(request)
    _unknown(body, {"default_alias_id", "always_reply_from_default"})
    current = await services.storage.sender_preferences(org_id, user.id)
    default = body.get("default_alias_id", current.default_alias_id)
    if "default_alias_id" in body and default is not None:
        _, aliases = await org_aliases(services.storage, org_id)
        if not any(a.id == default and sendable(a, user.id) for a in aliases):
            raise InvalidInput("no alias you may send from has that id", field="default_alias_id")
    always = body.get("always_reply_from_default", current.always_reply_from_default)
    if not isinstance(always, bool):
        raise InvalidInput(
            "'always_reply_from_default' must be true or false", field="always_reply_from_default"
        )
    saved = SenderPreferences(default, always)
    await services.storage.save_sender_preferences(org_id, user.id, saved)
    return json_response({"sender": _sender_json(saved)})


routes: list[BaseRoute] = [
    Route("/api/aliases", list_aliases, methods=["GET"]),
    Route("/api/accounts/{account_id}/aliases", account_aliases, methods=["GET"]),
    Route("/api/accounts/{account_id}/aliases", create_alias, methods=["POST"]),
    Route("/api/aliases/{alias_id}", delete_alias, methods=["DELETE"]),
    Route("/api/aliases/{alias_id}/shares", share_alias, methods=["PUT"]),
    Route("/api/aliases/{alias_id}/settings", alias_settings, methods=["PATCH"]),
    Route("/api/me/sender", get_sender, methods=["GET"]),
    Route("/api/me/sender", patch_sender, methods=["PATCH"]),
]
