"""The web client's conversation endpoints: create a chat conversation, read one, and send
it commands (`POST /api/conversations/{id}/commands`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import conversation_org_for
from server.actions import reshape, snoozes
from server.actions.directory import load_directory
from server.auth import require_user
from server.conversations.commands import COMMANDS
from server.conversations.model import Conversation, Directory, UserState
from server.conversations.params import parse_command
from server.conversations.summary import summary
from server.errors import Forbidden, InvalidInput
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.base import User


async def _readable(services: Services, user: User, conv_id: str) -> Directory:
    org_id = await conversation_org_for(services.storage, user.id, conv_id)
    return await load_directory(services.storage, org_id)


async def get_conversation(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    directory = await _readable(services, user, conv_id)
    conv = await services.conversations.read(conv_id)
    return json_response({"conversation": summary(conv, directory)})


async def run_command(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    body = await read_json_object(request)
    command = parse_command(body)  # unknown commands and bad parameters fail first
    directory = await _readable(services, user, conv_id)
    params = command.params
    if command.name == "merge_into":
        await conversation_org_for(services.storage, user.id, params["target"])
        target = await reshape.merge(
            services, user.id, conv_id, params["target"], params["subject"], directory
        )
        return json_response({"conversation": summary(target, directory)})
    if command.name == "move_message":
        conv, new = await reshape.move_message(
            services, user.id, conv_id, params["message"], params["shared"], directory
        )
        body = {"conversation": summary(conv, directory), "new_conversation": new.id}
        return json_response(body)
    if command.name == "delete_forever":
        conv = await reshape.delete_forever(services, user.id, conv_id, directory)
        return json_response({"conversation": summary(conv, directory), "deleted": conv.deleted})
    now = int(time.time() * 1000)

    def change(conv: Conversation) -> None:
        COMMANDS[command.name].run(conv, user.id, params, now, directory)

    conv = await services.conversations.change(conv_id, change)
    if command.name in ("snooze", "unsnooze"):
        await snoozes.schedule_after(services.storage, conv, user.id, command.name)
    return json_response({"conversation": summary(conv, directory)})


def _ids(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"'{key}' must be a list of ids", field=key)
    return list(dict.fromkeys(value))


async def create_conversation(request: Request) -> Response:
    """A chat-only conversation: the creator, the listed users and the teams' members get
    access and find it in their Inbox."""
    services = services_of(request)
    user = await require_user(request)
    body = await read_json_object(request)
    subject = body.get("subject", "")
    if not isinstance(subject, str):
        raise InvalidInput("'subject' must be a string", field="subject")
    users, teams = _ids(body, "users"), _ids(body, "teams")
    memberships = await services.storage.memberships_for_user(user.id)
    if not memberships:
        raise Forbidden("you are not a member of any organization")
    directory = await load_directory(services.storage, memberships[0].org_id)
    for uid in users:
        if uid not in directory.members:
            raise InvalidInput(f"user {uid} is not in this organization", field="users")
    for tid in teams:
        if tid not in directory.teams:
            raise InvalidInput(f"team {tid} is not in this organization", field="teams")
    now = int(time.time() * 1000)
    reached = {user.id, *users}
    watch = directory.prefs(user.id).auto_watch_new_conversation
    for tid in teams:
        reached |= directory.teams[tid].active
    conv = Conversation(
        id=str(uuid.uuid4()),
        org_id=directory.org_id,
        kind="chat",
        subject=subject.strip(),
        subject_custom=bool(subject.strip()),
        last_activity_at=now,
        users={
            uid: UserState(
                inbox=True, watching=uid == user.id and watch, bumped_at=now, via="add_people"
            )
            for uid in sorted(reached)
        },
    )
    await services.conversations.create(conv)
    first = body.get("body")
    if isinstance(first, str) and first.strip():
        command = parse_command({"command": "comment", "body": first})

        def change(c: Conversation) -> None:
            COMMANDS["comment"].run(c, user.id, command.params, now, directory)

        conv = await services.conversations.change(conv.id, change)
    return json_response({"conversation": summary(conv, directory)}, status_code=201)


routes: list[BaseRoute] = [
    Route("/api/conversations", create_conversation, methods=["POST"]),
    Route("/api/conversations/{conv_id}", get_conversation, methods=["GET"]),
    Route("/api/conversations/{conv_id}/commands", run_command, methods=["POST"]),
]
