"""Files of drafts and canned responses: upload (the raw request body, its Content-Type the
file's type), download, delete. A draft's files are changed by whoever may edit the draft
(its author, everyone with access to its conversation) while it is being edited; a
response's by whoever may edit the response. The body is read in chunks and refused
(413) as soon as it would take the owner past `max_attachment_bytes`."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import draft_for
from server.actions.attachments import (
    TooLarge,
    add_to_draft,
    add_to_response,
    attachment_json,
    checked_filename,
    checked_inline,
    media_type,
    remove_from_draft,
)
from server.actions.directory import load_directory
from server.auth import require_user
from server.errors import InvalidInput, NotFound
from server.json import json_response
from server.routes.messages import readable_conversation
from server.routes.responses import response_for, visible_to
from server.services import Services, services_of
from server.storage.attachments import AttachmentRecord
from server.storage.base import User

SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def _body(request: Request, total: int, limit: int, owner: str) -> bytes:
    room = limit - total
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > room:
        raise TooLarge(total, limit, owner=owner)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > room:
            raise TooLarge(total, limit, owner=owner)
        chunks.append(chunk)
    if not size:
        raise InvalidInput("the request body is empty: send the file's bytes", field="body")
    return b"".join(chunks)


def _new(
    request: Request, user: User, org_id: str, draft: str | None, response: str | None
) -> AttachmentRecord:
    """The upload's name, type and disposition, checked before its bytes are read."""
    filename = checked_filename(request.query_params.get("filename"))
    content_type = media_type(request.headers.get("content-type"))
    inline = checked_inline(request.query_params.get("inline"), content_type)
    return AttachmentRecord(
        "", org_id, draft, response, filename, content_type, 0, "", inline, user.id
    )  # fmt: skip


async def upload_to_draft(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(
        services.storage, user.id, request.path_params["draft_id"], editing=True
    )
    record = _new(request, user, draft.org_id, draft.id, None)
    total = await services.storage.attachment_total(draft_id=draft.id)
    data = await _body(request, total, services.settings.max_attachment_bytes, "draft")
    saved = await add_to_draft(services, record, data)
    return json_response({"attachment": attachment_json(saved)}, status_code=201)


async def delete_from_draft(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(
        services.storage, user.id, request.path_params["draft_id"], editing=True
    )
    attachment_id = request.path_params["attachment_id"]
    if not await remove_from_draft(services, draft.id, attachment_id):
        raise NotFound(f"no attachment {attachment_id} in this draft")
    return Response(status_code=204)


async def upload_to_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    response = await response_for(services, user, request.path_params["response_id"])
    record = _new(request, user, response.org_id, None, response.id)
    total = await services.storage.attachment_total(response_id=response.id)
    data = await _body(request, total, services.settings.max_attachment_bytes, "response")
    saved = await add_to_response(services, record, data)
    return json_response({"attachment": attachment_json(saved)}, status_code=201)


async def delete_from_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    response = await response_for(services, user, request.path_params["response_id"])
    attachment_id = request.path_params["attachment_id"]
    if not await services.storage.delete_attachment(attachment_id, response_id=response.id):
        raise NotFound(f"no attachment {attachment_id} on this response")
    return Response(status_code=204)


async def download(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    attachment_id = request.path_params["attachment_id"]
    record = await services.storage.attachment(attachment_id)
    if record is None:
        return await _received(services, user, attachment_id)
    if not await _may_read(services, user, record):
        raise NotFound(f"no attachment {attachment_id}")
    data = await services.storage.attachment_data(record.id)
    if data is None:
        raise NotFound(f"no attachment {attachment_id}")
    return _file(data, record.content_type, record.filename)


async def _received(services: Services, user: User, attachment_id: str) -> Response:
    """A file of a stored mail, for whoever may read its conversation."""
    found = await services.storage.message_attachment(attachment_id)
    if found is None:
        raise NotFound(f"no attachment {attachment_id}")
    meta, conv_id, data = found
    try:
        await readable_conversation(services, user, conv_id, attachment_id)
    except NotFound:
        raise NotFound(f"no attachment {attachment_id}") from None
    return _file(data, meta.content_type, meta.filename or _unnamed(meta.content_type))


def _unnamed(content_type: str) -> str:
    kind, _, sub = content_type.partition("/")
    return f"attachment.{sub or kind or 'bin'}"


def _file(data: bytes, content_type: str, filename: str) -> Response:
    """Files are served as downloads, except the common images, shown inline; never
    sniffed, never run (a sandboxing CSP)."""
    shown = "inline" if content_type in SHOWN_INLINE else "attachment"
    headers = {
        "Content-Disposition": f"{shown}; {_filename_params(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private",
    }
    return Response(data, media_type=content_type, headers=headers)


async def _may_read(services: Services, user: User, record: AttachmentRecord) -> bool:
    if record.draft_id is not None:
        try:
            await draft_for(services.storage, user.id, record.draft_id, editing=False)
        except NotFound:
            return False
        return True
    response = await services.storage.response(record.response_id or "")
    if response is None:
        return False
    return visible_to(response, user.id, await load_directory(services.storage, response.org_id))


def _filename_params(filename: str) -> str:
    """`filename="…"` (ASCII, for old clients) and RFC 5987 `filename*=UTF-8''…`."""
    plain = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


routes: list[BaseRoute] = [
    Route("/api/drafts/{draft_id}/attachments", upload_to_draft, methods=["POST"]),
    Route(
        "/api/drafts/{draft_id}/attachments/{attachment_id}", delete_from_draft, methods=["DELETE"]
    ),
    Route("/api/responses/{response_id}/attachments", upload_to_response, methods=["POST"]),
    Route(
        "/api/responses/{response_id}/attachments/{attachment_id}",
        delete_from_response,
        methods=["DELETE"],
    ),
    Route("/api/attachments/{attachment_id}", download, methods=["GET"]),
]
