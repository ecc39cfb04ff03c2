"""The Missive-compatible writes of an organization's shared labels and teams
(`reference/missive-rest-api.md` §2.5, §2.6). Any member creates and renames, recolors or
nests shared labels; sharing them (`share_with_users`) and everything about teams takes an
owner or admin. Every object of a request is checked before the first is written."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.members import sync_rooms
from server.auth import require_user
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.routes.missive_input import Fields, objects, path_ids
from server.routes.missive_objects import TEAM_OPTIONS, label_object, team_object
from server.services import Services, services_of
from server.storage.base import User
from server.storage.organization import LABEL_VISIBILITY, LabelRecord, TeamRecord

ADMINS = ("owner", "admin")
LABEL_KEYS = frozenset({"id", "name", "organization", "color", "parent", "share_with_users",
                        "share_with_organization", "share_with_team", "visibility"})  # fmt: skip
TEAM_KEYS = frozenset({"id", "name", "organization", "emoji", "color", "active_members",
                       "observers", "team_inbox_enabled", "chat_room_enabled", "business_hours",
                       "inactivity_period", "team_sidebar_behavior", *TEAM_OPTIONS})  # fmt: skip
NOT_MODELLED = ("business_hours", "inactivity_period", "team_sidebar_behavior")


async def _roles(services: Services, user: User) -> dict[str, str]:
    return {m.org_id: m.role for m in await services.storage.memberships_for_user(user.id)}


def _org(item: Fields, roles: dict[str, str], *, admin: bool) -> str:
    org_id = item.text("organization", required=True) or ""
    if org_id not in roles:
        raise Forbidden(
            "you are not a member of that organization", field=item.name("organization")
        )
    if admin and roles[org_id] not in ADMINS:
        raise Forbidden("only owners and admins can do this", field=item.name("organization"))
    return org_id


def _members(item: Fields, key: str, members: dict[str, str]) -> list[str]:
    users = list(item.ids(key))
    unknown = [user for user in users if user not in members]
    if unknown:
        raise InvalidInput(f"not in this organization: {', '.join(unknown)}", field=item.name(key))
    return users


def _label_name(item: Fields) -> str:
    name = (item.text("name", required=True) or "").strip()
    if "/" in name:
        raise InvalidInput("a name has no '/': nest with 'parent'", field=item.name("name"))
    return name


def _label_sharing(
    item: Fields, members: dict[str, str], role: str, current: tuple[str, ...] = ()
) -> list[str] | None:
    """The users the label auto-shares with, if the request names them; changing them takes
    an owner or admin."""
    item.unsupported("share_with_organization", False)
    item.unsupported("share_with_team")
    if not item.has("share_with_users"):
        return None
    users = _members(item, "share_with_users", members)
    if set(users) != set(current) and role not in ADMINS:
        raise Forbidden("only owners and admins share labels", field=item.name("share_with_users"))
    return users


def _label_visibility(item: Fields, role: str, current: str | None = None) -> str | None:
    """`visibility`, if the request names it: anyone sets it on a new label, only owners and
    admins change it on an existing one (L10259)."""
    if not item.has("visibility"):
        return None
    value = item.text("visibility") or ""
    if value not in LABEL_VISIBILITY:
        raise InvalidInput(
            f"visibility is one of {', '.join(LABEL_VISIBILITY)}", field=item.name("visibility")
        )
    if current is not None and value != current and role not in ADMINS:
        raise Forbidden(
            "only owners and admins change who sees a label", field=item.name("visibility")
        )
    return value


def _labels_answer(labels: list[LabelRecord], wanted: list[str]) -> Response:
    by_path = {label.path: label.id for label in labels}
    by_id = {label.id: label for label in labels}
    return json_response({"shared_labels": [label_object(by_id[i], by_path) for i in wanted]})


async def create_shared_labels(request: Request) -> Response:
    services = services_of(request)
    roles = await _roles(services, await require_user(request))
    items = objects(await read_json_object(request), "shared_labels")
    labels: dict[str, list[LabelRecord]] = {}
    planned: list[tuple[str, str, list[str], str | None, str]] = []
    for item in items:
        item.only(LABEL_KEYS - {"id"})
        name = _label_name(item)
        org_id = _org(item, roles, admin=False)
        if org_id not in labels:
            labels[org_id] = await services.storage.labels(org_id)
        paths = {label.id: label.path for label in labels[org_id]}
        path = name
        if item.has("parent"):
            parent = item.text("parent") or ""
            if parent not in paths:
                raise InvalidInput(f"no shared label {parent} here", field=item.name("parent"))
            path = f"{paths[parent]}/{name}"
        taken = set(paths.values()) | {p for o, p, *_ in planned if o == org_id}
        if path in taken:
            raise Conflict(f"a shared label {path!r} exists", field=item.name("name"))
        members = await services.storage.org_members(org_id)
        users = _label_sharing(item, members, roles[org_id]) or []
        visibility = _label_visibility(item, roles[org_id]) or "organization"
        planned.append((org_id, path, users, item.color("color"), visibility))
    created = [await services.storage.create_label(*plan) for plan in planned]
    everything = [label for org_id in labels for label in await services.storage.labels(org_id)]
    response = _labels_answer(everything, [label.id for label in created])
    response.status_code = 201
    return response


async def update_shared_labels(request: Request) -> Response:
    """Partial: `name`, `color` (null clears), `parent` (null: top level) move the label and
    what is nested under it; `share_with_users` replaces the auto-shared users."""
    services = services_of(request)
    roles = await _roles(services, await require_user(request))
    ids = path_ids(request.path_params["ids"])
    items = objects(await read_json_object(request), "shared_labels")
    found: dict[str, LabelRecord] = {}
    paths: dict[str, dict[str, str]] = {}  # org -> label id -> path, as the request leaves them
    for org_id in roles:
        labels = await services.storage.labels(org_id)
        paths[org_id] = {label.id: label.path for label in labels}
        found |= {label.id: label for label in labels if label.id in ids}
    for label_id in ids:
        if label_id not in found:
            raise NotFound(f"no shared label {label_id}")
    original = {org_id: dict(by_id) for org_id, by_id in paths.items()}
    changes: dict[str, dict[str, dict[str, object]]] = {}
    for item in items:
        item.only(LABEL_KEYS - {"organization"})
        label_id = item.text("id", required=True) or ""
        if label_id not in ids:
            raise InvalidInput(
                f"{label_id} is not among the ids in the path", field=item.name("id")
            )
        org_id = found[label_id].org_id
        change = changes.setdefault(org_id, {}).setdefault(label_id, {})
        _move_label(item, label_id, paths[org_id])
        if "color" in item.data:
            change["color"] = item.color("color")
        members = await services.storage.org_members(org_id)
        users = _label_sharing(item, members, roles[org_id], found[label_id].auto_share)
        if users is not None:
            change["auto_share"] = users
        visibility = _label_visibility(item, roles[org_id], found[label_id].visibility)
        if visibility is not None:
            change["visibility"] = visibility
        if len(set(paths[org_id].values())) < len(paths[org_id]):
            raise Conflict("another shared label has that name there", field=item.name("name"))
    if {item.data["id"] for item in items} != set(ids):
        raise InvalidInput("send one object for each id in the path", field="shared_labels")
    for org_id, by_id in paths.items():
        for label_id, path in by_id.items():
            if path != original[org_id][label_id]:
                changes.setdefault(org_id, {}).setdefault(label_id, {})["path"] = path
    for org_id, change_set in changes.items():
        await services.storage.update_labels(org_id, change_set)
    everything = [label for org_id in changes for label in await services.storage.labels(org_id)]
    return _labels_answer(everything, ids)


def _move_label(item: Fields, label_id: str, paths: dict[str, str]) -> None:
    """Rename or re-nest `label_id` in `paths`, and everything under it with it."""
    current = paths[label_id]
    parent_path, _, name = current.rpartition("/")
    if item.has("name"):
        name = _label_name(item)
    if "parent" in item.data:
        parent = item.text("parent")
        if parent is None:
            parent_path = ""
        elif parent not in paths:
            raise InvalidInput(f"no shared label {parent} here", field=item.name("parent"))
        elif parent == label_id or paths[parent].startswith(current + "/"):
            raise InvalidInput("a label cannot be nested under itself", field=item.name("parent"))
        else:
            parent_path = paths[parent]
    new = f"{parent_path}/{name}" if parent_path else name
    if new == current:
        return
    for other, path in paths.items():
        if other == label_id:
            paths[other] = new
        elif path.startswith(current + "/"):
            paths[other] = new + path[len(current) :]


def _team_changes(item: Fields, members: dict[str, str]) -> dict[str, Any]:
    """Our team options from Missive's fields; what Tandem does not model is refused."""
    for key in NOT_MODELLED:
        item.unsupported(key)
    item.unsupported("chat_room_enabled", True)  # every team has its room
    changes: dict[str, Any] = {}
    if "name" in item.data:
        changes["name"] = (item.text("name", required=True) or "").strip()
    if "emoji" in item.data:
        changes["emoji"] = item.text("emoji")
    if "color" in item.data:
        changes["color"] = item.color("color")
    if item.has("team_inbox_enabled"):
        changes["has_inbox"] = item.boolean("team_inbox_enabled")
    for key, (option, values) in TEAM_OPTIONS.items():
        if item.has(key):
            if not isinstance(item.data[key], str) or item.data[key] not in values:
                raise InvalidInput(
                    f"'{item.name(key)}' is one of {', '.join(values)}", field=item.name(key)
                )
            changes[option] = values[item.data[key]]
    for key, ours in (("active_members", "active"), ("observers", "observers")):
        if item.has(key):
            changes[ours] = _members(item, key, members)
    return changes


def _check_team(item: Fields, changes: dict[str, Any], taken: set[str]) -> None:
    """`taken`: the names of the organization's other teams."""
    if set(changes.get("active", ())) & set(changes.get("observers", ())):
        raise InvalidInput(
            "a user is an active member or an observer, not both", field=item.name("observers")
        )
    if changes.get("name") in taken:
        raise Conflict(f"a team named {changes['name']!r} exists", field=item.name("name"))


async def create_teams(request: Request) -> Response:
    services = services_of(request)
    roles = await _roles(services, await require_user(request))
    items = objects(await read_json_object(request), "teams")
    planned: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        item.only(TEAM_KEYS - {"id"})
        org_id = _org(item, roles, admin=True)
        item.text("name", required=True)
        changes = _team_changes(item, await services.storage.org_members(org_id))
        taken = {team.name for team in await services.storage.teams(org_id)}
        _check_team(item, changes, taken | {c["name"] for o, c in planned if o == org_id})
        planned.append((org_id, changes))
    created = []
    for org_id, changes in planned:
        team = await services.storage.create_team(
            org_id,
            changes.pop("name"),
            changes.pop("active", []),
            changes.pop("observers", []),
            bool(changes.pop("has_inbox", True)),
        )
        if changes:
            await services.storage.update_team(team.id, changes)
        created.append((org_id, team.id))
    return json_response({"teams": await _teams_answer(services, created)}, status_code=201)


async def update_teams(request: Request) -> Response:
    services = services_of(request)
    roles = await _roles(services, await require_user(request))
    ids = path_ids(request.path_params["ids"])
    items = objects(await read_json_object(request), "teams")
    found: dict[str, TeamRecord] = {}
    for org_id in roles:
        found |= {t.id: t for t in await services.storage.teams(org_id) if t.id in ids}
    for team_id in ids:
        if team_id not in found:
            raise NotFound(f"no team {team_id}")
    planned: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        item.only(TEAM_KEYS)
        team_id = item.text("id", required=True) or ""
        if team_id not in ids:
            raise InvalidInput(f"{team_id} is not among the ids in the path", field=item.name("id"))
        team = found[team_id]
        if roles[team.org_id] not in ADMINS:
            raise Forbidden("only owners and admins change teams", field=item.name("id"))
        if item.has("organization") and item.data["organization"] != team.org_id:
            raise InvalidInput("a team stays in its organization", field=item.name("organization"))
        changes = _team_changes(item, await services.storage.org_members(team.org_id))
        for given, other, current in (
            ("active", "observers", team.observers),
            ("observers", "active", team.active),
        ):  # one list given: whoever it names leaves the other
            if given in changes and other not in changes:
                changes[other] = [user for user in current if user not in changes[given]]
        others = await services.storage.teams(team.org_id)
        _check_team(item, changes, {other.name for other in others if other.id != team_id})
        planned.append((team_id, changes))
    if {item.data["id"] for item in items} != set(ids):
        raise InvalidInput("send one object for each id in the path", field="teams")
    for team_id, changes in planned:
        await services.storage.update_team(team_id, changes)
        if "active" in changes or "observers" in changes:
            await sync_rooms(services, found[team_id].org_id, org_room=False, teams=[team_id])
    return json_response(
        {"teams": await _teams_answer(services, [(found[i].org_id, i) for i, _ in planned])}
    )


async def _teams_answer(services: Services, wanted: list[tuple[str, str]]) -> list[dict[str, Any]]:
    teams: dict[str, TeamRecord] = {}
    for org_id in dict.fromkeys(org_id for org_id, _ in wanted):
        teams |= {team.id: team for team in await services.storage.teams(org_id)}
    return [team_object(teams[team_id]) for _, team_id in wanted]


routes: list[BaseRoute] = [
    Route("/v1/shared_labels", create_shared_labels, methods=["POST"]),
    Route("/v1/shared_labels/{ids}", update_shared_labels, methods=["PATCH"]),
    Route("/v1/teams", create_teams, methods=["POST"]),
    Route("/v1/teams/{ids}", update_teams, methods=["PATCH"]),
]
