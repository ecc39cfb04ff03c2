"""Switching who a draft is from, and its signature (SG-1, SG-5).

- `PUT /api/drafts/{id}/from` `{"address"}`: send as another alias the caller may send
  from; the draft takes the caller's name on it and that alias's signature.
- `PUT /api/drafts/{id}/signature` `{"signature_id": id | null}`: another personal or
  organization signature for this draft only, or none; From stays.

Each is one server-side update of the draft document (`change_draft`), so every editor
sees it at once. The signature is rendered for the caller (Liquid `user.*`), as a first
email or as a reply by whether the conversation has sent anything yet (SG-3).
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import draft_for
from server.actions.draft_writer import change_draft
from server.actions.drafting import identity_headers, identity_json
from server.actions.identity import chosen_identity, signature_for
from server.auth import require_user
from server.errors import InvalidInput
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.base import Draft


async def _first_email(services: Services, draft: Draft) -> bool:
    """SG-3: a first email unless its conversation has sent something already."""
    if draft.conversation_id is None:
        return True
    conv = await services.conversations.read(draft.conversation_id)
    return not conv.has_sent


async def switch_from(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(services.storage, user.id, request.path_params["draft_id"],
                            editing=True)  # fmt: skip
    body = await read_json_object(request)
    address = body.get("address")
    if not isinstance(address, str) or not address.strip():
        raise InvalidInput("'address' must be the alias address to send from", field="address")
    first = await _first_email(services, draft)
    identity = await chosen_identity(services.storage, draft.org_id, user.id, address, first)
    headers = identity_headers(identity)

    def change(doc: Doc[Any]) -> None:
        current = doc.get("headers", type=Map)
        for key, value in headers.items():
            current[key] = value

    await change_draft(services, draft.id, change)
    return json_response({"draft": {"id": draft.id, "from": identity_json(identity)}})


async def switch_signature(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(services.storage, user.id, request.path_params["draft_id"],
                            editing=True)  # fmt: skip
    body = await read_json_object(request)
    if "signature_id" not in body:
        raise InvalidInput("give 'signature_id' (null for no signature)", field="signature_id")
    signature_id = body["signature_id"]
    if signature_id is not None and not isinstance(signature_id, str):
        raise InvalidInput("'signature_id' must be a signature id or null", field="signature_id")
    first = await _first_email(services, draft)
    html, text = await signature_for(services.storage, draft.org_id, user.id, signature_id, first)
    block = {"id": signature_id, "html": html, "text": text}

    def change(doc: Doc[Any]) -> None:
        doc.get("headers", type=Map)["signature"] = block

    await change_draft(services, draft.id, change)
    return json_response({"draft": {"id": draft.id, "signature": block}})


routes: list[BaseRoute] = [
    Route("/api/drafts/{draft_id}/from", switch_from, methods=["PUT"]),
    Route("/api/drafts/{draft_id}/signature", switch_signature, methods=["PUT"]),
]
