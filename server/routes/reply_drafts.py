"""Reply drafts of a conversation (rows 45, 47): start one, discard it, restore it.

Starting a reply creates its `draft:<id>` document seeded once, here, before anyone can
connect — subject "Re: …" and the last sender as recipient — so two people opening the
reply at once never seed it twice. Everyone with access to the conversation co-writes it
(`server/access.py`) and finds the conversation in their Drafts mailbox.
"""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crdt.schemas import draft_seed
from server.access import conversation_org_for
from server.actions.directory import load_directory
from server.actions.sending import latest
from server.auth import require_user
from server.conversations.machine_drafts import add_draft, discard_draft, restore_draft
from server.conversations.model import Conversation, UserState
from server.errors import AppError, Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.base import Draft, User


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def reply_recipients(conv: Conversation) -> list[str]:
    inbound = [m for m in conv.messages if m.direction == "in"]
    return [latest(inbound).from_address] if inbound else []


async def start_reply(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    org_id = await conversation_org_for(services.storage, user.id, conv_id)
    directory = await load_directory(services.storage, org_id)
    conv = await services.conversations.read(conv_id)
    draft_id = str(uuid.uuid4())
    subject = reply_subject(conv.subject)
    to = reply_recipients(conv)
    seed = draft_seed(subject, [""], {"to_fields": [{"address": a} for a in to]} if to else {})
    await services.storage.create_draft(draft_id, org_id, user.id, subject, seed, conv_id)
    now = int(time.time() * 1000)
    try:
        await services.conversations.change(
            conv_id,
            lambda c: add_draft(c, user.id, draft_id=draft_id, now=now, directory=directory),
        )
    except AppError:
        await services.storage.delete_draft(draft_id)  # refused: leave no orphan document
        raise
    body = {"id": draft_id, "document": f"draft:{draft_id}", "conversation": conv_id,
            "subject": subject, "to": to}  # fmt: skip
    return json_response({"draft": body}, status_code=201)


async def start_new_email(request: Request) -> Response:
    """Row 46: a new email starts as a draft in a new conversation private to its author
    (in their Drafts); `{"from"?: account address, "to"?: [addresses], "subject"?}`."""
    services = services_of(request)
    user = await require_user(request)
    body = await read_json_object(request)
    memberships = await services.storage.memberships_for_user(user.id)
    if not memberships:
        raise Forbidden("you are not a member of any organization")
    org_id = memberships[0].org_id
    subject = body.get("subject", "")
    sender = body.get("from", "")
    to = body.get("to", [])
    if not isinstance(subject, str):
        raise InvalidInput("'subject' must be a string", field="subject")
    if not isinstance(sender, str):
        raise InvalidInput("'from' must be an account address", field="from")
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise InvalidInput("'to' must be a list of addresses", field="to")
    directory = await load_directory(services.storage, org_id)
    draft_id, now = str(uuid.uuid4()), int(time.time() * 1000)
    headers: dict[str, object] = {"from": sender.strip().lower()}
    if to:
        headers["to_fields"] = [{"address": a.strip()} for a in to]
    seed = draft_seed(subject.strip(), [""], headers)
    conv = Conversation(
        id=str(uuid.uuid4()),
        org_id=org_id,
        subject=subject.strip(),
        last_activity_at=now,
        users={
            user.id: UserState(
                watching=directory.prefs(user.id).auto_watch_draft, bumped_at=now, via="draft"
            )
        },
        drafts=[draft_id],
    )
    await services.storage.create_draft(draft_id, org_id, user.id, subject.strip(), seed, conv.id)
    await services.conversations.create(conv)
    answer = {"id": draft_id, "document": f"draft:{draft_id}", "conversation": conv.id,
              "subject": subject.strip(), "to": to}  # fmt: skip
    return json_response({"draft": answer}, status_code=201)


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
