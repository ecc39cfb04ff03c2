"""Signatures (`/api/signatures`): personal ones, each its owner's, and the organization's,
which every member uses and only owners and admins write (TS-1). Bodies are sanitised on
save (SF-5) and may use Liquid with the `user` object, rendered per sender (TS-2).
Limits: 100 personal signatures per user, 500 organization signatures (SF-6)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.identity import rendered_for, signature_visible
from server.auth import require_user
from server.errors import Forbidden, InvalidInput, NotFound
from server.identity.signatures import FORMATS, INSERT_IN, Format, sanitise
from server.json import json_response, read_json_object
from server.responses.render import TemplateError, check
from server.routes.aliases import ADMINS, checked_text, member_org
from server.services import Services, services_of
from server.storage.base import User
from server.storage.signatures import SignatureRecord

SCOPES = ("personal", "organization")
MAX_NAME = 200
MAX_BODY = 100_000
FIELDS = {"name", "format", "body", "insert_in", "alt_body"}


def may_edit(record: SignatureRecord, user_id: str, role: str | None) -> bool:
    if record.scope == "personal":
        return record.owner_id == user_id
    return role in ADMINS


def _json(record: SignatureRecord, editable: bool) -> dict[str, Any]:
    return {
        "id": record.id, "scope": record.scope, "name": record.name, "format": record.format,
        "body": record.body, "insert_in": record.insert_in, "alt_body": record.alt_body,
        "editable": editable, "updated_at": record.updated_at // 1000,
    }  # fmt: skip


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], current: str) -> str:
    value = body.get(key, current)
    if value not in allowed:
        raise InvalidInput(f"'{key}' is one of {', '.join(allowed)}", field=key)
    return str(value)


def _template(body: dict[str, Any], key: str, current: str, format: str) -> str:
    """A body as saved: Liquid that parses, HTML sanitised (SF-5)."""
    value = body.get(key, current)
    if not isinstance(value, str) or len(value) > MAX_BODY:
        raise InvalidInput(f"'{key}' must be a string of at most {MAX_BODY} characters", field=key)
    try:
        check(value)
    except TemplateError as exc:
        raise InvalidInput(f"'{key}' is not valid Liquid: {exc}", field=key) from None
    chosen: Format = "html" if format == "html" else "richtext"
    return sanitise(value, chosen)


def _fields(body: dict[str, Any], record: SignatureRecord) -> SignatureRecord:
    for key in sorted(set(body) - FIELDS - {"scope"}):
        raise InvalidInput(f"a signature has no {key!r}", field=key)
    name = checked_text(body, "name", MAX_NAME) if "name" in body else record.name
    if not name:
        raise InvalidInput("'name' must be a non-empty string", field="name")
    format = _choice(body, "format", FORMATS, record.format)
    text = _template(body, "body", record.body, format)
    if not text.strip():
        raise InvalidInput("'body' must not be empty", field="body")
    return dataclasses.replace(
        record, name=name, format=format, body=text,
        insert_in=_choice(body, "insert_in", INSERT_IN, record.insert_in),
        alt_body=_template(body, "alt_body", record.alt_body, "richtext"),  # SG-4
    )  # fmt: skip


async def _visible(services: Services, user: User, request: Request) -> tuple[SignatureRecord, str]:
    """The signature in the path and the caller's role; 404 unless they may use it."""
    record = await services.storage.signature(request.path_params["signature_id"])
    role = (await services.storage.org_members(record.org_id)).get(user.id) if record else None
    if record is None or role is None or not signature_visible(record, user.id):
        raise NotFound("no such signature", field="signature")
    return record, role


async def list_signatures(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    org_id, role = await member_org(services.storage, user, request)
    found = [
        _json(record, may_edit(record, user.id, role))
        for record in await services.storage.signatures(org_id)
        if signature_visible(record, user.id)
    ]
    return json_response({"signatures": found})


async def create_signature(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    org_id, role = await member_org(services.storage, user, request)
    body = await read_json_object(request)
    scope = _choice(body, "scope", SCOPES, "personal")
    if scope == "organization" and role not in ADMINS:
        raise Forbidden("only owners and admins create organization signatures", field="scope")
    blank = SignatureRecord(
        "", org_id, scope, user.id if scope == "personal" else None, "", "richtext", "", "all",
        "", user.id,
    )  # fmt: skip
    if "name" not in body:
        raise InvalidInput("'name' must be a non-empty string", field="name")
    saved = await services.storage.create_signature(_fields(body, blank))
    return json_response({"signature": _json(saved, True)}, status_code=201)


async def update_signature(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record, role = await _visible(services, user, request)
    if not may_edit(record, user.id, role):
        raise Forbidden("only owners and admins edit organization signatures")
    body = await read_json_object(request)
    if "scope" in body:
        raise InvalidInput("a signature's scope does not change", field="scope")
    saved = await services.storage.update_signature(_fields(body, record))
    return json_response({"signature": _json(saved, True)})


async def delete_signature(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    record, role = await _visible(services, user, request)
    if not may_edit(record, user.id, role):
        raise Forbidden("only owners and admins delete organization signatures")
    await services.storage.delete_signature(record.id)
    return Response(status_code=204)


async def preview_signature(request: Request) -> Response:
    """`?user=<id>`: the signature as that member sends it (TS-2), on a first email and
    on a reply."""
    services = services_of(request)
    user = await require_user(request)
    record, _ = await _visible(services, user, request)
    member = request.query_params.get("user", user.id)
    if member not in await services.storage.org_members(record.org_id):
        raise InvalidInput("no such member", field="user")
    preview: dict[str, Any] = {"user": member}
    for case, first in (("first", True), ("reply", False)):
        try:
            html, text = await rendered_for(services.storage, record, member, first)
        except TemplateError as exc:
            raise InvalidInput(f"the signature does not render: {exc}", field="body") from None
        preview[case] = {"html": html, "text": text}
    return json_response({"preview": preview})


routes: list[BaseRoute] = [
    Route("/api/signatures", list_signatures, methods=["GET"]),
    Route("/api/signatures", create_signature, methods=["POST"]),
    Route("/api/signatures/{signature_id}", update_signature, methods=["PATCH"]),
    Route("/api/signatures/{signature_id}", delete_signature, methods=["DELETE"]),
    Route("/api/signatures/{signature_id}/preview", preview_signature, methods=["GET"]),
]
