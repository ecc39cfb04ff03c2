"""`/api/admin/…`: teams, labels and accounts of an organization. Members may list them;
owners and admins create and change them."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions import smtp_accounts
from server.actions.directory import visible_labels
from server.actions.members import sync_rooms
from server.auth import require_user
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object, require_str
from server.services import Services, services_of
from server.storage.base import User

TEAM_BOOLEANS = ("has_inbox", "reply_assigns_replier", "mention_adds_observers")
REPLY_OPTIONS = ("assignee_inbox", "team_inbox")


async def admin_org(services: Services, user: User, request: Request, *, write: bool) -> str:
    wanted = request.query_params.get("organization")
    for membership in await services.storage.memberships_for_user(user.id):
        if wanted in (None, membership.org_id):
            if write and membership.role not in ("owner", "admin"):
                raise Forbidden("only owners and admins can change this")
            return membership.org_id
    raise Forbidden("you are not a member of that organization", field="organization")


async def _members(services: Services, org_id: str, body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{key}' must be a list of user ids", field=key)
    members = await services.storage.org_members(org_id)
    for uid in value:
        if uid not in members:
            raise InvalidInput(f"user {uid} is not in this organization", field=key)
    return list(dict.fromkeys(value))


async def list_teams(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=False)
    teams = await services.storage.teams(org_id)
    return json_response({"teams": [dataclasses.asdict(team) for team in teams]})


async def create_team(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=True)
    body = await read_json_object(request)
    name = require_str(body, "name").strip()
    active = await _members(services, org_id, body, "active")
    observers = await _members(services, org_id, body, "observers")
    has_inbox = body.get("has_inbox", True)
    if not isinstance(has_inbox, bool):
        raise InvalidInput("'has_inbox' must be true or false", field="has_inbox")
    team = await services.storage.create_team(org_id, name, active, observers, has_inbox)
    return json_response({"team": dataclasses.asdict(team)}, status_code=201)


async def update_team(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=True)
    team_id = request.path_params["team_id"]
    if team_id not in {team.id for team in await services.storage.teams(org_id)}:
        raise NotFound(f"no team {team_id}")
    body = await read_json_object(request)
    changes: dict[str, object] = {}
    for key in TEAM_BOOLEANS:
        if key in body:
            if not isinstance(body[key], bool):
                raise InvalidInput(f"'{key}' must be true or false", field=key)
            changes[key] = body[key]
    if "inbound_reply_on_assigned" in body:
        if body["inbound_reply_on_assigned"] not in REPLY_OPTIONS:
            raise InvalidInput(
                f"'inbound_reply_on_assigned' must be one of {', '.join(REPLY_OPTIONS)}",
                field="inbound_reply_on_assigned",
            )
        changes["inbound_reply_on_assigned"] = body["inbound_reply_on_assigned"]
    if "name" in body:
        changes["name"] = require_str(body, "name").strip()
    for key in ("active", "observers"):
        if key in body:
            changes[key] = await _members(services, org_id, body, key)
    await services.storage.update_team(team_id, changes)
    if "active" in changes or "observers" in changes:
        await sync_rooms(services, org_id, org_room=False, teams=[team_id])
    team = next(t for t in await services.storage.teams(org_id) if t.id == team_id)
    return json_response({"team": dataclasses.asdict(team)})


async def list_labels(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    org_id = await admin_org(services, user, request, write=False)
    labels = await visible_labels(services.storage, org_id, user.id)
    return json_response({"labels": [dataclasses.asdict(label) for label in labels]})


async def create_label(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=True)
    body = await read_json_object(request)
    path = require_str(body, "path")
    auto_share = await _members(services, org_id, body, "auto_share")
    visibility = body.get("visibility", "organization")
    if not isinstance(visibility, str):
        raise InvalidInput("'visibility' must be a string", field="visibility")
    label = await services.storage.create_label(org_id, path, auto_share, visibility=visibility)
    return json_response({"label": dataclasses.asdict(label)}, status_code=201)


routes: list[BaseRoute] = [
    Route("/api/admin/teams", list_teams, methods=["GET"]),
    Route("/api/admin/teams", create_team, methods=["POST"]),
    Route("/api/admin/teams/{team_id}", update_team, methods=["PATCH"]),
    Route("/api/admin/labels", list_labels, methods=["GET"]),
    Route("/api/admin/labels", create_label, methods=["POST"]),
]


async def list_mention_groups(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=False)
    groups = await services.storage.mention_groups(org_id)
    return json_response(
        {"mention_groups": [{"name": n, "members": list(m)} for n, m in groups.items()]}
    )


async def set_mention_group(request: Request) -> Response:
    """Create or replace a group: `{"name", "members": [user ids]}` (no members removes it)."""
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=True)
    body = await read_json_object(request)
    name = require_str(body, "name").strip()
    if not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("a group name is letters, digits, - and _", field="name")
    members = await _members(services, org_id, body, "members")
    await services.storage.set_mention_group(org_id, name, members)
    return json_response({"mention_group": {"name": name, "members": members}})


def _account_json(account: Any) -> dict[str, Any]:
    return {
        "id": account.id,
        "address": account.address,
        "owner": account.owner_id,
        "delivery": account.delivery,
        "team": account.team_id,
        "shared_with": [{"user": u, "auto_archive": a} for u, a in account.shared_with],
    }


async def list_accounts(request: Request) -> Response:
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=False)
    accounts = await services.storage.accounts_of(org_id)
    return json_response({"accounts": [_account_json(a) for a in accounts]})


async def create_account(request: Request) -> Response:
    """`{"address", "owner", "delivery": "inbox"|"team_inbox", "team"?, "shared_with"?:
    [user ids], "auto_archive"?: [user ids]}`"""
    services = services_of(request)
    org_id = await admin_org(services, await require_user(request), request, write=True)
    body = await read_json_object(request)
    address = require_str(body, "address").strip().lower()
    if "@" not in address:
        raise InvalidInput(f"{address!r} is not an email address", field="address")
    [owner] = await _members(services, org_id, {"owner": [require_str(body, "owner")]}, "owner")
    delivery = body.get("delivery", "inbox")
    if delivery not in ("inbox", "team_inbox"):
        raise InvalidInput("'delivery' must be inbox or team_inbox", field="delivery")
    team_id = body.get("team")
    teams = {team.id: team for team in await services.storage.teams(org_id)}
    if delivery == "team_inbox" and team_id not in teams:
        raise InvalidInput("a team_inbox account needs the id of a team", field="team")
    shared = await _members(services, org_id, body, "shared_with")
    archived = set(await _members(services, org_id, body, "auto_archive"))
    smtp = _smtp_input(body.get("smtp"))
    if smtp is not None:
        smtp_accounts.check(smtp)  # named before the account exists
    if delivery == "team_inbox":
        team = teams[str(team_id)]
        shared = list(dict.fromkeys([*shared, *team.active, *team.observers]))
    account = await services.storage.create_account(
        org_id,
        address,
        owner,
        delivery,
        str(team_id) if delivery == "team_inbox" else None,
        [(user, user in archived) for user in shared if user != owner],
    )
    answer = _account_json(account)
    if smtp is not None:
        await smtp_accounts.configure(services.storage, services.settings, account, smtp)
        answer["smtp"] = {
            "host": smtp.host,
            "port": smtp.port,
            "security": smtp.security,
            "username": smtp.username,
        }  # fmt: skip (never the password)
    return json_response({"account": answer}, status_code=201)


def _smtp_input(raw: object) -> smtp_accounts.SmtpInput | None:
    """`smtp`: `{"host", "port", "security": "none"|"starttls"|"tls", "username"?,
    "password"?}`."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("'smtp' must be an object", field="smtp")
    unknown = set(raw) - {"host", "port", "security", "username", "password"}
    if unknown:
        raise InvalidInput(f"smtp takes no {sorted(unknown)[0]!r}", field="smtp")
    host, port, security = raw.get("host"), raw.get("port"), raw.get("security", "starttls")
    if not isinstance(host, str):
        raise InvalidInput("'smtp.host' must be a string", field="smtp.host")
    if not isinstance(port, int) or isinstance(port, bool):
        raise InvalidInput("'smtp.port' must be a number", field="smtp.port")
    if not isinstance(security, str):
        raise InvalidInput("'smtp.security' must be a string", field="smtp.security")
    for key in ("username", "password"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise InvalidInput(f"'smtp.{key}' must be a string", field=f"smtp.{key}")
    return smtp_accounts.SmtpInput(host, port, security, raw.get("username"), raw.get("password"))


routes.append(Route("/api/admin/mention_groups", list_mention_groups, methods=["GET"]))
routes.append(Route("/api/admin/accounts", list_accounts, methods=["GET"]))
routes.append(Route("/api/admin/accounts", create_account, methods=["POST"]))
routes.append(Route("/api/admin/mention_groups", set_mention_group, methods=["PUT"]))
