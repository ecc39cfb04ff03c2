"""The Missive-compatible read API for what exists so far: organizations, users, teams,
shared labels, and conversations with their messages, comments and posts
(`reference/missive-rest-api.md`). Bearer tokens; times in Unix seconds. The objects'
shapes are in `missive_objects`; the write endpoints in `missive_write`."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.directory import visible_labels
from server.auth import require_user
from server.conversations.model import Conversation
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response
from server.routes.missive_objects import (
    conversation_object,
    label_object,
    org_view,
    post_object,
    team_object,
)
from server.services import Services, services_of
from server.storage.base import User
from server.storage.mailboxes import MailboxQuery

# Missive list parameter -> (our mailbox, the parameter that carries its argument)
MAILBOX_PARAMS = {
    "inbox": ("inbox", None),
    "all": ("all", None),
    "assigned": ("assigned_to_me", None),
    "closed": ("closed", None),
    "snoozed": ("snoozed", None),
    "flagged": ("starred", None),
    "trashed": ("trash", None),
    "junked": ("spam", None),
    "drafts": ("drafts", None),
    "shared_label": ("label", "label"),
    "team_inbox": ("team_inbox", "team"),
    "team_closed": ("team_closed", "team"),
    "team_all": ("team_all", "team"),
}


def int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise InvalidInput(f"'{name}' must be a number", field=name) from None
    if not 0 <= value <= high or (name == "limit" and value < 1):
        raise InvalidInput(f"'{name}' must be between 1 and {high}", field=name)
    return value


async def member_orgs(services: Services, user: User, request: Request) -> list[str]:
    wanted = request.query_params.get("organization")
    orgs = [m.org_id for m in await services.storage.memberships_for_user(user.id)]
    if wanted is not None:
        if wanted not in orgs:
            raise Forbidden("you are not a member of that organization", field="organization")
        return [wanted]
    return orgs


def _page(request: Request, items: list[Any]) -> list[Any]:
    limit, offset = int_param(request, "limit", 50, 200), int_param(request, "offset", 0, 10**9)
    return items[offset : offset + limit]


async def organizations(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    found = [
        await services.storage.get_organization(o)
        for o in await member_orgs(services, user, request)
    ]
    orgs = [{"id": org.id, "name": org.name} for org in found if org is not None]
    return json_response({"organizations": _page(request, orgs)})


async def users(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    seen: dict[str, dict[str, Any]] = {}
    for org_id in await member_orgs(services, user, request):
        for uid in await services.storage.member_emails(org_id):
            member = await services.storage.get_user(uid)
            if member is not None:
                seen[uid] = {"id": uid, "me": uid == user.id, "email": member.email,
                             "name": member.name, "avatar_url": None}  # fmt: skip
    return json_response({"users": _page(request, sorted(seen.values(), key=lambda u: u["email"]))})


async def teams(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    items = []
    for org_id in await member_orgs(services, user, request):
        items += [team_object(team) for team in await services.storage.teams(org_id)]
    return json_response({"teams": _page(request, items)})


async def shared_labels(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    items = []
    for org_id in await member_orgs(services, user, request):
        labels = await services.storage.labels(org_id)
        by_path = {label.path: label.id for label in labels}
        seen = {label.id for label in await visible_labels(services.storage, org_id, user.id)}
        items += [label_object(label, by_path) for label in labels if label.id in seen]
    return json_response({"shared_labels": _page(request, items)})


async def list_conversations(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    chosen = [(k, v) for k, v in MAILBOX_PARAMS.items() if k in request.query_params]
    if not chosen:
        raise InvalidInput("You need to paginate at least one mailbox", field="mailbox")
    name, (mailbox, argument) = chosen[0]
    value = request.query_params[name]
    limit = int_param(request, "limit", 25, 50)
    until = int_param(request, "until", 0, 2**40) if request.query_params.get("until") else None
    org_ids = await member_orgs(services, user, request)
    if argument == "label" and org_ids:
        seen = {label.id for label in await visible_labels(services.storage, org_ids[0], user.id)}
        if value not in seen:
            raise NotFound(f"no shared label {value}", field="shared_label")
    query = MailboxQuery(
        user_id=user.id,
        org_id=org_ids[0] if org_ids else "",
        mailbox=mailbox,
        now=int(time.time() * 1000),
        limit=limit,
        cursor=(until * 1000 + 999, "\uffff") if until is not None else None,
        team=value if argument == "team" else None,
        label=value if argument == "label" else None,
    )
    rows, _ = await services.storage.mailbox_page(query)
    convs = [await services.conversations.read(row["id"]) for row in rows]
    view = await org_view(services, query.org_id)
    return json_response({"conversations": [conversation_object(view, c) for c in convs]})


async def readable_conversation(request: Request) -> tuple[Services, Conversation]:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    found = await services.storage.conversation_org(conv_id)
    orgs = await member_orgs(services, user, request)
    if found is not None and found[1]:  # merged: the surviving conversation answers
        conv_id = found[1]
        found = await services.storage.conversation_org(conv_id)
    if (
        found is None
        or found[0] not in orgs
        or not await services.storage.conversation_access(conv_id, user.id)
    ):
        raise NotFound(f"no conversation {conv_id}")
    return services, await services.conversations.read(conv_id)


async def get_conversation(request: Request) -> Response:
    services, conv = await readable_conversation(request)
    view = await org_view(services, conv.org_id)
    return json_response({"conversations": [conversation_object(view, conv)]})


async def conversation_comments(request: Request) -> Response:
    _, conv = await readable_conversation(request)
    limit = int_param(request, "limit", 10, 10)
    live = [c for c in conv.comments if not c.deleted]
    items = [
        {"id": c.id, "body": c.body, "created_at": c.created_at // 1000,
         "mentions": [{"id": uid} for uid in c.mentions], "author": {"id": c.author}}
        for c in reversed(sorted(live, key=lambda c: c.created_at))
    ]  # fmt: skip
    return json_response({"comments": items[:limit]})


async def conversation_posts(request: Request) -> Response:
    _, conv = await readable_conversation(request)
    limit = int_param(request, "limit", 10, 10)
    live = sorted((p for p in conv.posts if not p.deleted), key=lambda p: p.created_at)
    return json_response({"posts": [post_object(p) for p in reversed(live)][:limit]})


routes: list[BaseRoute] = [
    Route("/v1/organizations", organizations, methods=["GET"]),
    Route("/v1/users", users, methods=["GET"]),
    Route("/v1/teams", teams, methods=["GET"]),
    Route("/v1/shared_labels", shared_labels, methods=["GET"]),
    Route("/v1/conversations", list_conversations, methods=["GET"]),
    Route("/v1/conversations/{conv_id}", get_conversation, methods=["GET"]),
    Route("/v1/conversations/{conv_id}/comments", conversation_comments, methods=["GET"]),
    Route("/v1/conversations/{conv_id}/posts", conversation_posts, methods=["GET"]),
]
