"""`/api/admin/organization`: the organization's name and settings. Members read them;
owners and admins change them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.auth import require_user
from server.errors import InvalidInput, NotFound
from server.json import json_response, read_json_object
from server.routes.admin import admin_org as organization_of
from server.services import Services, services_of
from server.storage.organization import MULTI_TEAM_DELIVERY

FIELDS = ("name", "multi_team_delivery")
MAX_NAME = 200


async def _answer(services: Services, org_id: str) -> dict[str, Any]:
    org = await services.storage.get_organization(org_id)
    if org is None:
        raise NotFound(f"no organization {org_id}")
    settings = await services.storage.org_settings(org_id)
    return {
        "organization": {
            "id": org.id,
            "name": org.name,
            "multi_team_delivery": settings.multi_team_delivery,
        }
    }


def _changes(body: dict[str, Any]) -> dict[str, object]:
    changes: dict[str, object] = {}
    for key, value in body.items():
        if key not in FIELDS:
            raise InvalidInput(f"unknown field {key!r} (expected {', '.join(FIELDS)})", field=key)
        if key == "name":
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
                raise InvalidInput(
                    f"'name' must be a non-empty string of at most {MAX_NAME} characters",
                    field="name",
                )
            changes["name"] = value.strip()
        elif value not in MULTI_TEAM_DELIVERY:
            raise InvalidInput(
                f"'multi_team_delivery' must be one of {', '.join(MULTI_TEAM_DELIVERY)}",
                field="multi_team_delivery",
            )
        else:
            changes["multi_team_delivery"] = value
    return changes


async def get_organization(request: Request) -> Response:
    services = services_of(request)
    org_id = await organization_of(services, await require_user(request), request, write=False)
    return json_response(await _answer(services, org_id))


async def update_organization(request: Request) -> Response:
    """`{"name"?, "multi_team_delivery"?: "duplicate"|"single"}`; checked whole before
    anything changes."""
    services = services_of(request)
    org_id = await organization_of(services, await require_user(request), request, write=True)
    changes = _changes(await read_json_object(request))
    if changes:
        await services.storage.update_organization(org_id, changes)
    return json_response(await _answer(services, org_id))


routes: list[BaseRoute] = [
    Route("/api/admin/organization", get_organization, methods=["GET"]),
    Route("/api/admin/organization", update_organization, methods=["PATCH"]),
]
