"""Missive-compatible canned responses (`reference/missive-rest-api.md` §2.13):
`GET /v1/responses`, `GET /v1/responses/:id`, `POST /v1/responses`,
`PATCH /v1/responses/:ids`, `DELETE /v1/responses/:ids`, over the same rows and rules as
`/api/responses` (`server/routes/responses.py`). A response belongs to a `user` (personal)
or an `organization`, optionally shared with one team (`share_with_team`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.api_drafts import File
from server.actions.attachments import add_to_response
from server.actions.directory import load_directory
from server.auth import require_user
from server.conversations.model import Directory
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.routes.missive_files import check_payload, decoded_files, file_object
from server.routes.missive_input import Fields, path_ids
from server.routes.responses import (
    FIELDS,
    MAX_TITLE,
    checked,
    may_share,
    recipients_from,
    visible_to,
)
from server.services import Services, services_of
from server.storage.attachments import AttachmentRecord
from server.storage.base import User
from server.storage.responses import ResponseRecord

KEYS = frozenset({"id", "title", "body", "subject", "organization", "user", "share_with_team",
                  "to_fields", "cc_fields", "bcc_fields", "attachments"})  # fmt: skip


def _object(record: ResponseRecord, files: list[AttachmentRecord]) -> dict[str, Any]:
    return {
        "id": record.id, "title": record.title, "body": record.body, "subject": record.subject,
        "organization": record.org_id if record.scope != "personal" else None,
        "user": record.user_id, "share_with_team": record.team_id,
        "modified_at": record.updated_at // 1000,
        **{f"{key}_fields": record.recipients.get(key, []) for key in FIELDS},
        "shared_labels": [], "attachments": [file_object(f) for f in files],
    }  # fmt: skip


async def _shown(services: Services, records: list[ResponseRecord]) -> list[dict[str, Any]]:
    return [_object(r, await services.storage.attachments_of(response_id=r.id)) for r in records]


def _files(services: Services, item: dict[str, Any], where: str) -> tuple[File, ...] | None:
    """The item's `attachments`, decoded and checked; None when it names none."""
    if "attachments" not in item:
        return None
    limit = services.settings.max_attachment_bytes
    return decoded_files(Fields(item, where), limit, owner="response")


async def _attach(
    services: Services, user: User, record: ResponseRecord, files: tuple[File, ...] | None
) -> None:
    """Sending `attachments` replaces the response's whole set (Missive §2.13)."""
    if files is None:
        return
    for old in await services.storage.attachments_of(response_id=record.id):
        await services.storage.delete_attachment(old.id, response_id=record.id)
    for file in files:
        await add_to_response(services, AttachmentRecord(
            "", record.org_id, None, record.id, file.filename, file.content_type, 0, "",
            False, user.id,
        ), file.data)  # fmt: skip


async def _directories(services: Services, user: User) -> dict[str, Directory]:
    return {
        m.org_id: await load_directory(services.storage, m.org_id)
        for m in await services.storage.memberships_for_user(user.id)
    }


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("responses")
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise InvalidInput('body must be {"responses": [{...}]}', field="responses")
    for index, item in enumerate(items):
        unknown = set(item) - KEYS
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"a response has no {name!r}", field=f"responses[{index}].{name}")
    return items


def _str(item: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"'{key}' must be a string", field=f"{where}.{key}")
    return value


async def list_responses(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    wanted = request.query_params.get("organization")
    limit = min(_count(request, "limit", 50), 200)
    offset = _count(request, "offset", 0)
    items = []
    for org_id, directory in (await _directories(services, user)).items():
        if wanted in (None, org_id):
            files = await services.storage.response_attachments(org_id)
            items += [
                _object(r, files.get(r.id, [])) for r in await services.storage.responses(org_id)
                if visible_to(r, user.id, directory)
            ]  # fmt: skip
    return json_response({"responses": items[offset : offset + limit]})


def _count(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise InvalidInput(f"'{name}' must be a whole number", field=name)
    return int(raw)


async def _visible_record(services: Services, user: User, response_id: str) -> ResponseRecord:
    record = await services.storage.response(response_id)
    directories = await _directories(services, user)
    directory = directories.get(record.org_id) if record is not None else None
    if record is None or directory is None or not visible_to(record, user.id, directory):
        raise NotFound(f"no response {response_id}")
    return record


async def get_response(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    records = [
        await _visible_record(services, user, i) for i in path_ids(request.path_params["ids"])
    ]
    return json_response({"responses": await _shown(services, records)})


async def create_responses(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    directories = await _directories(services, user)
    planned, files = [], []
    await check_payload(request, "responses")
    for index, item in enumerate(_items(await read_json_object(request))):
        where = f"responses[{index}]"
        files.append(_files(services, item, where))
        org, owner = item.get("organization"), item.get("user")
        if (org is None) == (owner is None):
            raise InvalidInput("give exactly one of organization and user", field=where)
        if owner is not None and owner != user.id:
            raise Forbidden("a personal response is your own", field=f"{where}.user")
        org_id = org if org is not None else next(iter(directories), None)
        if not isinstance(org_id, str) or org_id not in directories:
            raise Forbidden("not a member of that organization", field=f"{where}.organization")
        team = item.get("share_with_team")
        if team is not None:
            info = directories[org_id].teams.get(team) if org is not None else None
            if info is None:
                raise InvalidInput("no such team here", field=f"{where}.share_with_team")
            if not may_share(user.id, info, directories[org_id]):
                raise Forbidden(f"not in team {info.name}", field=f"{where}.share_with_team")
        title = _str(item, "title", where, required=True) or ""
        body = _str(item, "body", where) or ""
        subject = _str(item, "subject", where) or ""
        if len(title) > MAX_TITLE or len(subject) > MAX_TITLE:
            raise InvalidInput(f"at most {MAX_TITLE} characters", field=f"{where}.title")
        checked(subject, body)
        scope = "personal" if owner is not None else ("team" if team else "organization")
        planned.append(ResponseRecord(
            "", org_id, scope, user.id if owner else None, team, title, subject, body,
            recipients_from(item, {}, suffix="_fields", where=where), user.id,
        ))  # fmt: skip
    created = [await services.storage.create_response(r) for r in planned]
    for record, attached in zip(created, files, strict=True):
        await _attach(services, user, record, attached)
    return json_response({"responses": await _shown(services, created)}, status_code=201)


async def update_responses(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    ids = path_ids(request.path_params["ids"])
    await check_payload(request, "responses")
    items = _items(await read_json_object(request))
    if sorted(str(i.get("id")) for i in items) != sorted(ids):
        raise InvalidInput("send one object for each id in the path", field="responses")
    changed, files = [], []
    for index, item in enumerate(items):
        where = f"responses[{index}]"
        files.append(_files(services, item, where))
        record = await _visible_record(services, user, str(item["id"]))
        if record.scope == "personal" and record.user_id != user.id:
            raise NotFound(f"no response {record.id}")
        title = _str(item, "title", where) or record.title
        subject = _str(item, "subject", where)
        body = _str(item, "body", where)
        subject = record.subject if subject is None else subject
        body = record.body if body is None else body
        checked(subject, body)
        changed.append(dataclasses.replace(
            record, title=title, subject=subject, body=body,
            recipients=recipients_from(item, record.recipients, suffix="_fields", where=where),
        ))  # fmt: skip
    saved = [await services.storage.update_response(r) for r in changed]
    for record, attached in zip(saved, files, strict=True):
        await _attach(services, user, record, attached)
    return json_response({"responses": await _shown(services, saved)})


async def delete_responses(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    records = [
        await _visible_record(services, user, i) for i in path_ids(request.path_params["ids"])
    ]
    for record in records:
        await services.storage.delete_response(record.id)
    return json_response({"responses": [{"id": r.id} for r in records]})


routes: list[BaseRoute] = [
    Route("/v1/responses", list_responses, methods=["GET"]),
    Route("/v1/responses", create_responses, methods=["POST"]),
    Route("/v1/responses/{ids}", get_response, methods=["GET"]),
    Route("/v1/responses/{ids}", update_responses, methods=["PATCH"]),
    Route("/v1/responses/{ids}", delete_responses, methods=["DELETE"]),
]
