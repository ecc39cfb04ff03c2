"""Missive-compatible drafts (reference §2.3): `POST /v1/drafts` makes a draft — a reply in
the conversation `conversation` or `references` name, else a new email in a new
conversation — with its files and the conversation-modifying parameters, and sends or
schedules it; `DELETE /v1/drafts/{id}` removes one (`server.actions.api_drafts`).

The body is read whole here, every field checked and named as the client wrote it
(`drafts.to_fields[0].address`), before anything is written. Tandem sends email only:
SMS, WhatsApp and custom-channel fields are refused, not ignored."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import draft_for
from server.actions import api_drafts
from server.actions.api_drafts import RECIPIENT_FIELDS, DraftRequest, Made
from server.actions.directory import load_directory
from server.actions.drafting import Recipients
from server.auth import require_user
from server.bodies import body_paragraphs
from server.conversations.machine_modify import Changes, check_changes
from server.errors import InvalidInput
from server.json import json_response, read_json_object
from server.routes.missive_files import MAX_PAYLOAD, check_payload, decoded_files
from server.routes.missive_input import CHANGE_KEYS, Fields, changes_of, named
from server.routes.missive_target import find_target, references_of, searched_orgs
from server.services import services_of
from sync.compose import InvalidAddress, check_address

MAX_RECIPIENTS = 100  # per field
MAX_SUBJECT = 998  # an RFC 5322 line
MAX_NAME = 200
LAST_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
EMAIL_ONLY = ("account", "external_response_id", "external_response_variables")
OTHER_CHANNELS = ("phone_number", "id", "username", "type")  # in an address object
DRAFT_KEYS = (CHANGE_KEYS - {"reopen"}) | {
    "subject", "body", "quote_previous_message", "from_field", *RECIPIENT_FIELDS,
    "attachments", "send", "send_at", "auto_followup", "references", "conversation",
    "conversation_subject", "conversation_color",
}  # fmt: skip


async def create_draft(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    await check_payload(request, "draft")
    body = await read_json_object(request)
    if not isinstance(body.get("drafts"), dict):
        raise InvalidInput('the body must be {"drafts": {...}}', field="drafts")
    item = Fields(body["drafts"], "drafts")
    for key in EMAIL_ONLY:
        if key in item.data:
            _only_email(item.name(key))
    item.only(DRAFT_KEYS)
    changes = changes_of(item, subject=("conversation_subject",), color=("conversation_color",))
    wanted = _wanted(item, changes, services.settings.max_attachment_bytes)
    orgs = await searched_orgs(services, user, item)
    target = await find_target(services, user, item, references_of(item), orgs)
    directory = await load_directory(services.storage, target[1] if target else orgs[0])
    with named("drafts"):
        check_changes(changes, directory)
        made = await api_drafts.make_draft(
            services, user.id, wanted, directory, target[0] if target else None
        )
    answer = _draft_json(made, wanted, directory.org_id)
    return json_response({"drafts": answer}, status_code=201)


def _only_email(field: str) -> None:
    raise InvalidInput(
        f"'{field}' is for SMS, WhatsApp or custom channels: Tandem sends email drafts only",
        field=field,
    )


def _wanted(item: Fields, changes: Changes, file_limit: int) -> DraftRequest:
    send = item.boolean("send") or False
    send_at = item.integer("send_at")
    followup = item.boolean("auto_followup") or False
    if send and send_at is not None:
        raise InvalidInput(
            "'drafts.send' sends now and 'drafts.send_at' schedules: not both",
            field="drafts.send_at",
        )
    if followup and send_at is None:
        raise InvalidInput(
            "'drafts.auto_followup' drops a scheduled draft: it needs send_at",
            field="drafts.auto_followup",
        )
    if send_at is not None and not time.time() < send_at <= LAST_TIME:
        raise InvalidInput(
            "'drafts.send_at' is a time to come, in Unix seconds", field="drafts.send_at"
        )
    subject = item.text("subject", limit=MAX_SUBJECT)
    body = item.text("body", limit=MAX_PAYLOAD)
    sender, sender_name = _sender(item)
    return DraftRequest(
        subject=" ".join(subject.split()) if subject is not None else None,
        paragraphs=body_paragraphs(body) if body is not None else None,
        quote=item.boolean("quote_previous_message") or False,
        sender=sender,
        sender_name=sender_name,
        recipients={key: _mailboxes(item, key) for key in RECIPIENT_FIELDS if item.has(key)},
        files=decoded_files(item, file_limit),
        changes=changes,
        send=send,
        send_at=send_at * 1000 if send_at is not None else None,
        discard_if_reply=followup,
    )


def _address_object(data: Any, where: str) -> tuple[str, str | None]:
    """An email address object `{address, name?}`: (address, name)."""
    fields = Fields(data, where)
    for key in OTHER_CHANNELS:
        if key in fields.data:
            _only_email(fields.name(key))
    fields.only({"address", "name"})
    address = (fields.text("address", required=True) or "").strip()
    try:
        check_address(address, fields.name("address"))
    except InvalidAddress as exc:
        raise InvalidInput(
            f"'{exc.field}' is not a valid email address: {address!r}", field=exc.field
        ) from None
    name = fields.text("name", limit=MAX_NAME)
    return address, " ".join(name.split()) if name is not None else None


def _sender(item: Fields) -> tuple[str, str | None]:
    if not item.has("from_field"):
        return "", None
    return _address_object(item.data["from_field"], item.name("from_field"))


def _mailboxes(item: Fields, key: str) -> list[dict[str, str]]:
    value, where = item.data[key], item.name(key)
    if not isinstance(value, list):
        raise InvalidInput(f"'{where}' must be a list of {{address, name}}", field=where)
    if len(value) > MAX_RECIPIENTS:
        raise InvalidInput(f"at most {MAX_RECIPIENTS} addresses in '{where}'", field=where)
    out = []
    for index, data in enumerate(value):
        address, name = _address_object(data, f"{where}[{index}]")
        out.append({"address": address, "name": name or ""})
    return out


def _recipients_json(recipients: Recipients) -> dict[str, list[dict[str, str]]]:
    """Every field, each address with its name ("" for none)."""
    return {
        key: [{"address": one["address"], "name": one.get("name") or ""} for one in listed]
        for key in RECIPIENT_FIELDS
        for listed in [recipients.get(key, [])]
    }


def _draft_json(made: Made, wanted: DraftRequest, org_id: str) -> dict[str, Any]:
    started, sender, item = made.started, made.started.sender, made.outbox
    sent = None
    if item is not None:
        send_at = wanted.send_at // 1000 if wanted.send_at is not None else None
        sent = {"outbox": item.id, "status": item.status, "send_at": send_at}
    return {
        "id": started.draft_id,
        "conversation": started.conversation_id,
        "subject": started.subject,
        "organization": org_id,
        "document": f"draft:{started.draft_id}",
        "created_at": started.created_at // 1000,
        "from_field": {"address": sender.address, "name": sender.name} if sender else None,
        **_recipients_json(started.recipients),
        "attachments": [
            {"id": a.id, "filename": a.filename, "size": a.size} for a in made.attachments
        ],
        "send": sent,
    }


async def delete_draft(request: Request) -> Response:
    """The author, or anyone who may edit it (access to its conversation): `204`; `404`
    for a draft unknown or not theirs to see; `409` naming `draft` while it is being sent
    or scheduled (recall it first), or once sent."""
    services = services_of(request)
    user = await require_user(request)
    draft = await draft_for(
        services.storage, user.id, request.path_params["draft_id"], editing=False
    )
    directory = await load_directory(services.storage, draft.org_id)
    await api_drafts.delete_draft(services, user.id, draft, directory)
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route("/v1/drafts", create_draft, methods=["POST"]),
    Route("/v1/drafts/{draft_id}", delete_draft, methods=["DELETE"]),
]
