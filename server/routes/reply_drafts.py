"""Reply drafts of a conversation (rows 45, 47): start one, discard it, restore it.

Starting a reply creates its `draft:<id>` document seeded once, before anyone can connect
(`server.actions.drafting`): subject "Re: …", the last sender as recipient, the From the
author sends as and its signature. Everyone with access to the conversation co-writes it
(`server/access.py`) and finds the conversation in their Drafts mailbox.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import conversation_org_for
from server.actions import drafting
from server.actions.directory import load_directory
from server.auth import require_user
from server.conversations.machine_drafts import discard_draft, restore_draft
from server.conversations.model import Conversation
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.base import Draft, User


async def start_reply(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    org_id = await conversation_org_for(services.storage, user.id, conv_id)
    started = await drafting.start_reply(services, user.id, org_id, conv_id)
    return json_response({"draft": started.json()}, status_code=201)


async def start_new_email(request: Request) -> Response:
    """Row 46: a new email starts as a draft in a new conversation private to its author
    (in their Drafts); `{"from"?: alias address, "to"?: [addresses], "subject"?}`. Without
    `from`, it is sent from the author's default sender (AL-9)."""
    services = services_of(request)
    user = await require_user(request)
    body = await read_json_object(request)
    memberships = await services.storage.memberships_for_user(user.id)
    if not memberships:
        raise Forbidden("you are not a member of any organization")
    subject = body.get("subject", "")
    sender = body.get("from", "")
    to = body.get("to", [])
    if not isinstance(subject, str):
        raise InvalidInput("'subject' must be a string", field="subject")
    if not isinstance(sender, str):
        raise InvalidInput("'from' must be an alias address", field="from")
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise InvalidInput("'to' must be a list of addresses", field="to")
    started = await drafting.start_new(
        services, user.id, memberships[0].org_id, sender=sender.strip(), subject=subject.strip(),
        recipients={"to_fields": [{"address": a.strip()} for a in to]},
    )  # fmt: skip
    return json_response({"draft": started.json()}, status_code=201)


async def _reply_draft(services: Services, user: User, draft_id: str) -> tuple[Draft, str]:
    draft = await services.storage.get_draft(draft_id)
    if draft is None or draft.conversation_id is None:
        raise NotFound(f"no reply draft {draft_id}")
    org_id = await conversation_org_for(services.storage, user.id, draft.conversation_id)
    return draft, org_id


async def discard(request: Request) -> Response:
    return await _set_status(request, "discarded")


async def restore(request: Request) -> Response:
    return await _set_status(request, "editing")


async def _set_status(request: Request, status: str) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft, org_id = await _reply_draft(services, user, request.path_params["draft_id"])
    assert draft.conversation_id is not None
    directory = await load_directory(services.storage, org_id)
    now = int(time.time() * 1000)
    action = discard_draft if status == "discarded" else restore_draft

    def change(conv: Conversation) -> None:
        action(conv, user.id, draft_id=draft.id, now=now, directory=directory)

    await services.conversations.change(draft.conversation_id, change)
    await services.storage.set_draft_status(draft.id, status)
    return json_response({"draft": {"id": draft.id, "status": status}})


routes: list[BaseRoute] = [
    Route("/api/drafts", start_new_email, methods=["POST"]),
    Route("/api/conversations/{conv_id}/drafts", start_reply, methods=["POST"]),
    Route("/api/drafts/{draft_id}/discard", discard, methods=["POST"]),
    Route("/api/drafts/{draft_id}/restore", restore, methods=["POST"]),
]
