"""JSON in and out with orjson, and request-body parsing with errors that name the field."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.errors import InvalidInput, UnsupportedMediaType


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code)


async def read_json_object(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        # Also what stops a cross-site <form> (text/plain) from posting to the API.
        raise UnsupportedMediaType(
            f"send the body as application/json (got {media_type or 'no content type'})"
        )
    raw = await request.body()
    if not raw:
        raise InvalidInput("request body is empty; send a JSON object")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput("request body must be a JSON object")
    return value


def require_str(body: dict[str, Any], key: str, *, where: str = "") -> str:
    value = body.get(key)
    name = f"{where}.{key}" if where else key
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' is required and must be a non-empty string", field=name)
    return value
