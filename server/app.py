"""The ASGI application: services are opened in the lifespan and hung on `app.state`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from server.errors import AppError, TooManyRequests
from server.json import json_response
from server.routes import (
    admin,
    admin_mail,
    admin_org,
    admin_users,
    aliases,
    attachments,
    conversations,
    draft_identity,
    drafts,
    health,
    home,
    mailboxes,
    me,
    messages,
    missive,
    missive_messages,
    missive_responses,
    missive_write,
    outbox,
    reply_drafts,
    responses,
    rooms,
    session,
    signatures,
    websocket,
)
from server.services import open_services
from server.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            yield

    routes: list[BaseRoute] = [
        *health.routes,
        *home.routes,
        *session.routes,
        *drafts.routes,
        *reply_drafts.routes,
        *draft_identity.routes,
        *outbox.routes,
        *responses.routes,
        *attachments.routes,
        *missive_responses.routes,
        *aliases.routes,
        *signatures.routes,
        *mailboxes.routes,
        *conversations.routes,
        *messages.routes,
        *me.routes,
        *rooms.routes,
        *missive.routes,
        *missive_messages.routes,
        *missive_write.routes,
        *admin.routes,
        *admin_mail.routes,
        *admin_org.routes,
        *admin_users.routes,
        *websocket.routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_exception_handler(AppError, _app_error)
    return app


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    response = json_response(exc.to_json(), status_code=exc.status)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
