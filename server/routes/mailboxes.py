"""`GET /api/mailboxes/{mailbox}` (a page of rows) and `GET /api/counts` (unread badges)."""

from __future__ import annotations

import base64
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.directory import visible_labels
from server.auth import require_user
from server.errors import Forbidden, InvalidInput, NotFound
from server.json import json_response
from server.services import Services, services_of
from server.storage.base import User
from server.storage.mailboxes import MAILBOXES, MailboxQuery

MAX_LIMIT = 200


async def _org(services: Services, user: User, wanted: str | None) -> str:
    memberships = await services.storage.memberships_for_user(user.id)
    for membership in memberships:
        if wanted in (None, membership.org_id):
            return membership.org_id
    raise Forbidden("you are not a member of that organization", field="organization")


def _cursor(raw: str | None) -> tuple[int, str] | None:
    if not raw:
        return None
    try:
        at, _, conv_id = base64.urlsafe_b64decode(raw.encode()).decode().partition(":")
        return int(at), conv_id
    except ValueError:
        raise InvalidInput("'cursor' is not one this server gave out", field="cursor") from None


def _encode(cursor: tuple[int, str] | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(f"{cursor[0]}:{cursor[1]}".encode()).decode()


def _limit(raw: str | None) -> int:
    try:
        limit = int(raw) if raw else 50
    except ValueError:
        raise InvalidInput("'limit' must be a number", field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


async def mailbox(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    name = request.path_params["mailbox"]
    if name not in MAILBOXES:
        raise NotFound(f"no mailbox {name!r}; mailboxes: {', '.join(sorted(MAILBOXES))}")
    params = request.query_params
    if name in ("team_inbox", "team_all", "team_closed") and not params.get("team"):
        raise InvalidInput(f"the {name} mailbox needs ?team=<id>", field="team")
    if name == "label" and not params.get("label"):
        raise InvalidInput("the label mailbox needs ?label=<id>", field="label")
    org_id = await _org(services, user, params.get("organization"))
    if name == "label":
        visible = {label.id for label in await visible_labels(services.storage, org_id, user.id)}
        if params["label"] not in visible:
            raise NotFound(f"no label {params['label']}", field="label")
    query = MailboxQuery(
        user_id=user.id,
        org_id=org_id,
        mailbox=name,
        now=int(time.time() * 1000),
        limit=_limit(params.get("limit")),
        cursor=_cursor(params.get("cursor")),
        team=params.get("team"),
        label=params.get("label"),
        unread=params.get("unread") == "true",
        not_snoozed=params.get("not_snoozed") == "true",
        assigned_to=params.get("assigned_to"),
    )
    rows, next_cursor = await services.storage.mailbox_page(query)
    return json_response({"conversations": rows, "next": _encode(next_cursor)})


async def counts(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    org_id = await _org(services, user, request.query_params.get("organization"))
    now = int(time.time() * 1000)
    counts = await services.storage.unread_counts(user.id, org_id, now)
    visible = {label.id for label in await visible_labels(services.storage, org_id, user.id)}
    counts["labels"] = {k: n for k, n in counts["labels"].items() if k in visible}
    return json_response(counts)


routes: list[BaseRoute] = [
    Route("/api/mailboxes/{mailbox}", mailbox, methods=["GET"]),
    Route("/api/counts", counts, methods=["GET"]),
]
