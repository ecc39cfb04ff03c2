"""Missive-compatible drafts: `POST /v1/drafts` creates a `draft:<id>` document seeded once,
server-side, before anyone can connect; `DELETE /v1/drafts/{id}` removes it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crdt.errors import CloseCode, ProtocolError
from crdt.schemas import draft_seed
from server.auth import require_user
from server.bodies import body_paragraphs
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.services import services_of

ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
RECIPIENT_FIELDS = ("to_fields", "cc_fields", "bcc_fields")


def _recipients(draft: dict[str, Any], key: str) -> list[dict[str, str]]:
    value = draft.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput(
            f"'drafts.{key}' must be a list of {{address, name}}", field=f"drafts.{key}"
        )
    out = []
    for index, item in enumerate(value):
        where = f"drafts.{key}[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"'{where}' must be an object with an address", field=where)
        address = item.get("address")
        if not isinstance(address, str) or not ADDRESS.match(address.strip()):
            raise InvalidInput(
                f"'{where}.address' is not a valid email address: {address!r}",
                field=f"{where}.address",
            )
        name = item.get("name", "")
        out.append({"address": address.strip(), "name": name if isinstance(name, str) else ""})
    return out


def _text(draft: dict[str, Any], key: str) -> str:
    value = draft.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(f"'drafts.{key}' must be a string", field=f"drafts.{key}")
    return value


async def create_draft(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    payload = await read_json_object(request)
    draft = payload.get("drafts")
    if not isinstance(draft, dict):
        raise InvalidInput('body must be {"drafts": {...}}', field="drafts")
    subject, body = _text(draft, "subject"), _text(draft, "body")
    recipients = {key: _recipients(draft, key) for key in RECIPIENT_FIELDS}
    memberships = await services.storage.memberships_for_user(user.id)
    wanted = draft.get("organization")
    member_of = [m for m in memberships if wanted in (None, m.org_id)]
    if not member_of:
        raise Forbidden("you are not a member of that organization", field="drafts.organization")
    draft_id = str(uuid.uuid4())
    seed = draft_seed(subject, body_paragraphs(body), {k: v for k, v in recipients.items() if v})
    record = await services.storage.create_draft(
        draft_id, member_of[0].org_id, user.id, subject, seed
    )
    return json_response(
        {
            "drafts": {
                "id": record.id,
                "subject": record.subject,
                "organization": record.org_id,
                "document": f"draft:{record.id}",
                "created_at": record.created_at // 1000,
                **recipients,
            }
        },
        status_code=201,
    )


async def delete_draft(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft_id = request.path_params["draft_id"]
    draft = await services.storage.get_draft(draft_id)
    if draft is None:
        raise NotFound(f"no draft {draft_id}")
    if draft.author_id != user.id:
        raise Forbidden("only the author can delete this draft")
    await services.storage.delete_draft(draft_id)
    gone = ProtocolError(CloseCode.NOT_FOUND, f"draft {draft_id} was deleted")
    await services.rooms.evict(f"draft:{draft_id}", gone)
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route("/v1/drafts", create_draft, methods=["POST"]),
    Route("/v1/drafts/{draft_id}", delete_draft, methods=["DELETE"]),
]
