"""Sending reply drafts: `POST /api/drafts/{id}/send`, the outbox item's state, and undo
send (`POST /api/outbox/{id}/recall`). The pipeline is `server/actions/sending.py`."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.access import conversation_org_for
from server.actions import sending
from server.actions.directory import load_directory
from server.auth import require_user
from server.conversations.model import UNDO_SEND_DELAYS as UNDO_DELAYS
from server.conversations.times import resolve
from server.errors import InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.services import Services, services_of
from server.storage.base import User
from server.storage.outbox import OutboxItem


def _item_json(item: OutboxItem) -> dict[str, object]:
    return {
        "id": item.id, "draft": item.draft_id, "conversation": item.conversation_id,
        "message_id": item.rfc_message_id, "status": item.status,
        "release_at": item.release_at // 1000, "attempts": item.attempts,
        "smtp_code": item.smtp_code, "error": item.last_error,
    }  # fmt: skip


async def send(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    draft = await services.storage.get_draft(request.path_params["draft_id"])
    if draft is None or draft.conversation_id is None:
        raise NotFound("no such reply draft")
    org_id = await conversation_org_for(services.storage, user.id, draft.conversation_id)
    body = await read_json_object(request)
    directory = await load_directory(services.storage, org_id)
    undo_s = body.get("undo_s", directory.prefs(user.id).undo_send_s)
    if undo_s not in UNDO_DELAYS or isinstance(undo_s, bool):
        raise InvalidInput(f"undo_s is one of {UNDO_DELAYS}", field="undo_s")
    then = _then(body, directory.prefs(user.id).time_zone)
    seen = body.get("seen_messages")
    if seen is not None and (not isinstance(seen, int) or isinstance(seen, bool) or seen < 0):
        raise InvalidInput("seen_messages is a count of messages", field="seen_messages")
    send_at, discard = _send_later(body, directory.prefs(user.id).time_zone)
    item = await sending.send_draft(
        services, user.id, draft.id, directory, undo_s, then, seen_messages=seen,
        send_at=send_at, discard_if_reply=discard,
    )  # fmt: skip
    return json_response({"outbox": _item_json(item)}, status_code=202)


def _send_later(body: dict[str, object], time_zone: str) -> tuple[int | None, bool]:
    """`send_at`: a time (ISO-8601, a preset or words like "next Tuesday at 3pm", in the
    sender's time zone) and `discard_if_anyone_replies`."""
    raw = body.get("send_at")
    discard = body.get("discard_if_anyone_replies", False)
    if not isinstance(discard, bool):
        raise InvalidInput("discard_if_anyone_replies is true or false",
                           field="discard_if_anyone_replies")  # fmt: skip
    if raw is None:
        return None, False
    if not isinstance(raw, str):
        raise InvalidInput("send_at is a time", field="send_at")
    now = int(time.time() * 1000)
    at = resolve(raw, now, time_zone, field="send_at")
    if at <= now:
        raise InvalidInput("send_at is in the past", field="send_at")
    return at, discard


def _then(body: dict[str, object], time_zone: str) -> dict[str, object] | None:
    """`then`: "close" | "archive" | "snooze" (with `snooze_until`: a time as for the
    `snooze` command, and `discard_if_reply`)."""
    then = body.get("then")
    if then is None:
        return None
    if then in ("close", "archive"):
        return {"action": then}
    if then != "snooze":
        raise InvalidInput("then is close, archive or snooze", field="then")
    until = body.get("snooze_until")
    if not isinstance(until, str):
        raise InvalidInput("Send & Snooze needs snooze_until", field="snooze_until")
    now = int(time.time() * 1000)
    at = resolve(until, now, time_zone, field="snooze_until")
    if at <= now:
        raise InvalidInput("snooze_until is in the past", field="snooze_until")
    discard = body.get("discard_if_reply", False)
    if not isinstance(discard, bool):
        raise InvalidInput("discard_if_reply is true or false", field="discard_if_reply")
    return {"action": "snooze", "until": at, "discard_if_reply": discard}


async def _item(services: Services, user: User, item_id: str) -> OutboxItem:
    item = await services.storage.outbox_item(item_id)
    if item is None:
        raise NotFound(f"no outgoing message {item_id}")
    await conversation_org_for(services.storage, user.id, item.conversation_id)
    return item


async def show(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    item = await _item(services, user, request.path_params["item_id"])
    return json_response({"outbox": _item_json(item)})


async def recall(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    item = await _item(services, user, request.path_params["item_id"])
    await sending.recall(services, item.id, user.id)
    fresh = await services.storage.outbox_item(item.id)
    assert fresh is not None
    return json_response({"outbox": _item_json(fresh)})


routes: list[BaseRoute] = [
    Route("/api/drafts/{draft_id}/send", send, methods=["POST"]),
    Route("/api/outbox/{item_id}", show, methods=["GET"]),
    Route("/api/outbox/{item_id}/recall", recall, methods=["POST"]),
]
