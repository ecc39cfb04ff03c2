"""Mail an account's admins feed in or fix: importing raw mail into a running server, and
the mail that could not be stored (kept with its bytes: list, download, retry). Owners and
admins of the account's organization only."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.ingest import ingest
from server.auth import require_user
from server.errors import InvalidInput, NotFound, UnsupportedMediaType
from server.json import json_response
from server.routes.admin import admin_org
from server.services import Services, services_of
from server.storage.mail import Account
from server.storage.messages import RejectedMail
from sync.mbox import MalformedMailbox, split_mbox

IMPORT_TYPES = ("message/rfc822", "application/mbox")


async def _account(services: Services, request: Request) -> Account:
    org_id = await admin_org(services, await require_user(request), request, write=True)
    address = request.path_params["address"]
    accounts = [
        a for a in await services.storage.accounts_by_address(address) if a.org_id == org_id
    ]
    if not accounts:
        raise NotFound(f"no account {address} in this organization", field="address")
    return accounts[0]


def rejected_json(account: Account, item: RejectedMail) -> dict[str, Any]:
    return {
        "id": item.id,
        "reason": item.reason,
        "source": item.source,
        "size": item.size,
        "sha256": item.sha256,
        "created_at": item.created_at // 1000,
        "retried_at": item.retried_at // 1000 if item.retried_at is not None else None,
        "raw_url": f"/api/admin/accounts/{account.address}/rejected/{item.id}/raw",
    }


async def import_mail(request: Request) -> Response:
    """Feed raw mail to a running server, as if the account had received it."""
    services = services_of(request)
    account = await _account(services, request)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in IMPORT_TYPES:
        raise UnsupportedMediaType(f"send message/rfc822 or application/mbox, not {media_type!r}")
    body = await request.body()
    try:
        raws = split_mbox(body) if media_type == "application/mbox" else [body]
    except MalformedMailbox as exc:
        raise InvalidInput(f"the body is not an mbox: {exc}") from None
    result = await ingest(services, account, raws, source="http", total=len(raws))
    return json_response(result.to_json())


async def list_rejected(request: Request) -> Response:
    services = services_of(request)
    account = await _account(services, request)
    items = await services.storage.rejected_mail(account.id)
    return json_response({"rejected": [rejected_json(account, item) for item in items]})


async def _rejected(
    services: Services, account: Account, rejected_id: str
) -> tuple[RejectedMail, bytes]:
    found = await services.storage.rejected_item(rejected_id)
    if found is None or found[0].account_id != account.id:
        raise NotFound(f"no rejected mail {rejected_id} for {account.address}", field="id")
    return found


async def rejected_raw(request: Request) -> Response:
    services = services_of(request)
    account = await _account(services, request)
    item, raw = await _rejected(services, account, request.path_params["rejected_id"])
    headers = {
        "Content-Disposition": f'attachment; filename="rejected-{item.id}.eml"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
    }
    return Response(raw, media_type="message/rfc822", headers=headers)


async def retry_rejected(request: Request) -> Response:
    """Run the mail through ingest again (after an upgrade, or once its cause is fixed):
    stored or found a duplicate, it leaves the list; rejected again, it stays with the
    new reason."""
    services = services_of(request)
    account = await _account(services, request)
    item, raw = await _rejected(services, account, request.path_params["rejected_id"])
    result = await ingest(services, account, [raw], source=item.source, total=1)
    again = result.errors[0].split(": ", 1)[-1] if result.rejected else None
    await services.storage.retried_rejected(item.id, again)
    return json_response(result.to_json())


routes: list[BaseRoute] = [
    Route("/api/admin/accounts/{address}/import", import_mail, methods=["POST"]),
    Route("/api/admin/accounts/{address}/rejected", list_rejected, methods=["GET"]),
    Route(
        "/api/admin/accounts/{address}/rejected/{rejected_id}/raw", rejected_raw, methods=["GET"]
    ),
    Route(
        "/api/admin/accounts/{address}/rejected/{rejected_id}/retry",
        retry_rejected,
        methods=["POST"],
    ),
]
