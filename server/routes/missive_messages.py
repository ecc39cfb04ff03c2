"""Messages in the Missive-compatible API (`reference/missive-rest-api.md` §2.1.3, §2.2.2–3):
a conversation's messages newest first with `limit`/`until`, one or several messages by
id with their `body`, and messages by their Message-ID. Times in Unix seconds."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.message_bodies import attachment_url
from server.auth import require_user
from server.errors import InvalidInput, NotFound
from server.json import json_response
from server.routes.messages import readable_message
from server.routes.missive import int_param, member_orgs, readable_conversation
from server.routes.missive_objects import OrgView, conversation_object, org_view
from server.services import Services, services_of
from server.storage.messages import Address, AttachmentMeta, MessageRecord
from sync.mime import PREVIEW_CHARS

PAGE_MAX = 10
BY_ID_MAX = 50
BY_MESSAGE_ID_MAX = 10


def _field(address: Address) -> dict[str, str]:
    return {"name": address[0], "address": address[1]}


def _attachment(base: str, meta: AttachmentMeta) -> dict[str, Any]:
    media, _, sub = meta.content_type.partition("/")
    name = meta.filename or ""
    return {
        "id": meta.id,
        "filename": name,
        "extension": name.rsplit(".", 1)[-1].lower() if "." in name else "",
        "url": base + attachment_url(meta.id),
        "media_type": media,
        "sub_type": sub,
        "size": meta.size,
    }


def message_object(base: str, record: MessageRecord) -> dict[str, Any]:
    """`base`: the server's URL, to make attachment URLs absolute."""
    delivered = record.sort_at // 1000
    return {
        "id": record.id,
        "subject": record.subject,
        "preview": " ".join(record.text.split())[:PREVIEW_CHARS],
        "type": "email",
        "draft": False,
        "delivered_at": delivered,
        "created_at": delivered,
        "updated_at": delivered,
        "email_message_id": record.rfc_message_id,
        "in_reply_to": [record.in_reply_to] if record.in_reply_to else [],
        "references": record.references,
        "from_field": {"name": record.from_name, "address": record.from_address},
        **{
            f"{name}_fields": [_field(a) for a in record.recipients.get(name, [])]
            for name in ("to", "cc", "bcc", "reply_to")
        },
        "attachments": [_attachment(base, a) for a in record.attachments],
    }


def _body(record: MessageRecord) -> str:
    """The HTML body (sanitised), or the text as HTML for a mail that has none."""
    if record.html is not None:
        return record.html
    return f'<div style="white-space: pre-wrap">{html.escape(record.text)}</div>'


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def conversation_messages(request: Request) -> Response:
    services, conv = await readable_conversation(request)
    limit = int_param(request, "limit", PAGE_MAX, PAGE_MAX)
    until = int_param(request, "until", 0, 2**40) if request.query_params.get("until") else None
    before = until * 1000 if until is not None else None
    found = await services.storage.messages_before(conv.id, before, limit + 50)
    page = found[:limit]
    if len(page) == limit:  # messages of one second are never split across pages
        last = page[-1].sort_at // 1000
        page += [m for m in found[limit:] if m.sort_at // 1000 == last]
    base = _base(request)
    return json_response({"messages": [message_object(base, m) for m in page]})


async def _full(services: Services, base: str, records: list[MessageRecord]) -> list[Any]:
    """Message objects with `body` and their conversation, each conversation (and each
    organization's names) read once."""
    convs: dict[str, Any] = {}
    views: dict[str, OrgView] = {}
    for conv_id in dict.fromkeys(record.conversation_id for record in records):
        conv = await services.conversations.read(conv_id)
        if conv.org_id not in views:
            views[conv.org_id] = await org_view(services, conv.org_id)
        convs[conv_id] = conversation_object(views[conv.org_id], conv)
    return [
        message_object(base, r) | {"body": _body(r), "conversation": convs[r.conversation_id]}
        for r in records
    ]


async def get_messages(request: Request) -> Response:
    """`/v1/messages/{id}` → an object; `/v1/messages/{id1},{id2}` → an array."""
    services = services_of(request)
    user = await require_user(request)
    ids = [i for i in request.path_params["message_ids"].split(",") if i]
    if not 1 <= len(ids) <= BY_ID_MAX:
        raise InvalidInput(f"name 1 to {BY_ID_MAX} message ids", field="id")
    records = [await readable_message(services, user, message_id) for message_id in ids]
    items = await _full(services, _base(request), records)
    return json_response({"messages": items[0] if len(ids) == 1 else items})


async def messages_by_message_id(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    wanted = request.query_params.get("email_message_id", "").strip()
    if not wanted:
        raise InvalidInput("'email_message_id' is required", field="email_message_id")
    rfc_id = wanted if wanted.startswith("<") else f"<{wanted}>"
    records = []
    for org_id in await member_orgs(services, user, request):
        for message_id in await services.storage.messages_with_rfc_id(org_id, rfc_id):
            try:
                records.append(await readable_message(services, user, message_id))
            except NotFound:
                continue  # a copy in a conversation this user cannot see
    records.sort(key=lambda r: (r.sort_at, r.stored_at, r.id), reverse=True)
    items = await _full(services, _base(request), records[:BY_MESSAGE_ID_MAX])
    return json_response({"messages": items})


routes: list[BaseRoute] = [
    Route("/v1/conversations/{conv_id}/messages", conversation_messages, methods=["GET"]),
    Route("/v1/messages", messages_by_message_id, methods=["GET"]),
    Route("/v1/messages/{message_ids}", get_messages, methods=["GET"]),
]
