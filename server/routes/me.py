"""`GET|PATCH /api/me/preferences`: the settings that change what actions do for a user."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.directory import preferences_from
from server.auth import require_user
from server.conversations.model import UNDO_SEND_DELAYS as UNDO_DELAYS
from server.conversations.model import Preferences
from server.conversations.times import zone
from server.errors import InvalidInput
from server.json import json_response, read_json_object
from server.services import services_of

FIELDS = {f.name: f.type for f in dataclasses.fields(Preferences)}


async def get_preferences(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    stored = (await services.storage.preferences([user.id])).get(user.id, {})
    return json_response({"preferences": dataclasses.asdict(preferences_from(stored))})


async def patch_preferences(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    body = await read_json_object(request)
    stored = (await services.storage.preferences([user.id])).get(user.id, {})
    for key, value in body.items():
        if key not in FIELDS:
            raise InvalidInput(f"no preference {key!r}", field=key)
        if key == "time_zone":
            if not isinstance(value, str):
                raise InvalidInput("'time_zone' must be an IANA zone name", field=key)
            zone(value)
        elif key == "undo_send_s":
            if value not in UNDO_DELAYS or isinstance(value, bool):
                raise InvalidInput(f"'undo_send_s' is one of {UNDO_DELAYS}", field=key)
        elif not isinstance(value, bool):
            raise InvalidInput(f"'{key}' must be true or false", field=key)
        stored[key] = value
    await services.storage.save_preferences(user.id, stored)
    return json_response({"preferences": dataclasses.asdict(preferences_from(stored))})


routes: list[BaseRoute] = [
    Route("/api/me/preferences", get_preferences, methods=["GET"]),
    Route("/api/me/preferences", patch_preferences, methods=["PATCH"]),
]
