"""Reading received and sent mail in full: a conversation's messages page by page, one
message, its original bytes. Who may read a message is who may read its conversation;
a message or file of a conversation you cannot read is `404`, as if it did not exist."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import conversation_org_for
from server.actions.message_bodies import attachment_url
from server.auth import require_user
from server.errors import Forbidden, InvalidInput, Merged, NotFound
from server.json import json_response
from server.services import Services, services_of
from server.storage.base import User
from server.storage.messages import Address, AttachmentMeta, MessageRecord

PAGE_DEFAULT, PAGE_MAX = 50, 200


def address_json(address: Address) -> dict[str, str]:
    name, addr = address
    return {"address": addr, "name": name}


def attachment_json(meta: AttachmentMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "filename": meta.filename,
        "content_type": meta.content_type,
        "size": meta.size,
        "sha256": meta.sha256,
        "inline": meta.inline,
        "content_id": meta.content_id,
        "url": attachment_url(meta.id),
    }


def message_json(record: MessageRecord) -> dict[str, Any]:
    account = (
        {"id": record.account_id, "address": record.account_address}
        if record.account_id is not None
        else None
    )
    return {
        "id": record.id,
        "conversation": record.conversation_id,
        "message_id": record.rfc_message_id,
        "in_reply_to": record.in_reply_to,
        "references": record.references,
        "subject": record.subject,
        "from": {"address": record.from_address, "name": record.from_name},
        **{
            name: [address_json(a) for a in record.recipients.get(name, [])]
            for name in ("to", "cc", "bcc", "reply_to")
        },
        "date": record.date // 1000 if record.date is not None else None,
        "received_at": record.received_at // 1000,
        "direction": "outbound" if record.direction == "out" else "inbound",
        "account": account,
        "text": record.text,
        "html": record.html,
        "attachments": [attachment_json(a) for a in record.attachments],
        "raw_url": f"/api/messages/{record.id}/raw",
    }


async def readable_message(services: Services, user: User, message_id: str) -> MessageRecord:
    found = await services.storage.message_records([message_id])
    if not found:
        raise NotFound(f"no message {message_id}", field="message")
    await readable_conversation(services, user, found[0].conversation_id, message_id)
    return found[0]


async def readable_conversation(
    services: Services, user: User, conv_id: str, message_id: str
) -> None:
    """The conversation holding a message or file may be read by `user`, else `404`."""
    try:
        await conversation_org_for(services.storage, user.id, conv_id)
    except (Forbidden, NotFound, Merged):
        raise NotFound(f"no message {message_id}", field="message") from None


def _cursor(raw: str | None) -> tuple[int, int, str] | None:
    if not raw:
        return None
    shown, stored, message_id = [*raw.split(".", 2), "", ""][:3]
    if not (shown.isdigit() and stored.isdigit() and message_id):
        raise InvalidInput("'cursor' must be a 'next' value from a previous page", field="cursor")
    return int(shown), int(stored), message_id


def _limit(raw: str | None) -> int:
    if raw is None:
        return PAGE_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX:
        raise InvalidInput(f"'limit' must be a number from 1 to {PAGE_MAX}", field="limit")
    return int(raw)


async def conversation_messages(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    conv_id = request.path_params["conv_id"]
    after, limit = (
        _cursor(request.query_params.get("cursor")),
        _limit(request.query_params.get("limit")),
    )
    await conversation_org_for(services.storage, user.id, conv_id)
    page = await services.storage.message_page(conv_id, after, limit + 1)
    following = None
    if len(page) > limit:  # another page follows this full one
        page = page[:limit]
        following = f"{page[-1].sort_at}.{page[-1].stored_at}.{page[-1].id}"
    return json_response({"messages": [message_json(m) for m in page], "next": following})


async def get_message(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record = await readable_message(services, user, request.path_params["message_id"])
    return json_response({"message": message_json(record)})


async def raw_message(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record = await readable_message(services, user, request.path_params["message_id"])
    raw = await services.storage.message_raw(record.id)
    if raw is None:
        raise NotFound(f"no message {record.id}", field="message")
    headers = {
        "Content-Disposition": f'attachment; filename="{record.id}.eml"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
    }
    return Response(raw, media_type="message/rfc822", headers=headers)


routes: list[BaseRoute] = [
    Route("/api/conversations/{conv_id}/messages", conversation_messages, methods=["GET"]),
    Route("/api/messages/{message_id}", get_message, methods=["GET"]),
    Route("/api/messages/{message_id}/raw", raw_message, methods=["GET"]),
]
