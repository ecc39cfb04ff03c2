"""`GET /healthz`: 200 once the database answers, 503 while it does not."""

from __future__ import annotations

import logging

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.json import json_response
from server.services import services_of

log = logging.getLogger(__name__)

# A database that hangs is as unhealthy as one that refuses: answer before the prober gives up.
PING_TIMEOUT_S = 5.0


async def healthz(request: Request) -> Response:
    storage = services_of(request).storage
    try:
        with anyio.fail_after(PING_TIMEOUT_S):
            await storage.ping()
            version = await storage.schema_version()
    except Exception as exc:  # any driver failure means "not healthy"; logged with traceback
        log.exception("health check: database unreachable")
        reason = str(exc) or type(exc).__name__
        return json_response({"status": "unavailable", "error": reason}, status_code=503)
    return json_response({"status": "ok", "database": storage.backend, "schema_version": version})


routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
