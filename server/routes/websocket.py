"""The two websocket endpoints: `/ws` (Hocuspocus, multiplexed) and `/yws/<document>`
(plain y-websocket). Starlette's websocket is adapted to the room layer's `Channel`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from crdt.errors import AccessDenied, CloseCode, ProtocolError
from crdt.hocuspocus import HocuspocusSession
from crdt.socket import Grant
from crdt.yws import YwsSession
from server.access import grant_for
from server.auth import SESSION_COOKIE, user_from_credentials
from server.rooms import socket_limits
from server.services import Services, services_of

log = logging.getLogger(__name__)


class StarletteChannel:
    def __init__(self, websocket: WebSocket, max_frame_bytes: int) -> None:
        self.websocket = websocket
        self.max_frame_bytes = max_frame_bytes
        client = websocket.client
        self.remote = f"{client.host}:{client.port}" if client else "unknown"

    async def frames(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                raise ProtocolError(CloseCode.MALFORMED_MESSAGE, "text frames are not accepted")
            if len(data) > self.max_frame_bytes:
                raise ProtocolError(
                    CloseCode.MESSAGE_TOO_BIG,
                    f"frame of {len(data)} bytes exceeds {self.max_frame_bytes}",
                )
            yield data

    async def send(self, data: bytes) -> None:
        await self.websocket.send_bytes(data)

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            return
        try:
            await self.websocket.close(code, reason)
        except (RuntimeError, OSError, WebSocketDisconnect):
            log.debug("socket %s was gone before it could be closed", self.remote)


async def _authorize(
    services: Services, websocket: WebSocket, name: str, token: str | None
) -> Grant:
    user = await user_from_credentials(
        services.storage, bearer=token, session_cookie=websocket.cookies.get(SESSION_COOKIE)
    )
    return await grant_for(services.storage, user, name)


async def hocuspocus_endpoint(websocket: WebSocket) -> None:
    services = services_of(websocket)
    await websocket.accept()
    channel = StarletteChannel(websocket, services.settings.max_frame_bytes)

    async def authorize(name: str, token: str | None) -> Grant:
        return await _authorize(services, websocket, name, token)

    session = HocuspocusSession(
        services.rooms, channel, socket_limits(services.settings), authorize
    )
    await session.run()


async def yws_endpoint(websocket: WebSocket) -> None:
    services = services_of(websocket)
    name = websocket.path_params["document"]
    await websocket.accept()
    channel = StarletteChannel(websocket, services.settings.max_frame_bytes)
    try:
        grant = await _authorize(services, websocket, name, websocket.query_params.get("token"))
    except AccessDenied as denied:
        log.info("yws: %s denied %s: %s", channel.remote, name, denied.reason)
        await channel.close(int(denied.code), denied.reason[:120])
        return
    if grant.feed:  # y-websocket has no stateless message to carry it
        log.info("yws: %s asked for feed %s, which only /ws serves", channel.remote, name)
        await channel.close(int(CloseCode.NOT_FOUND), f"{name} is served on /ws only")
        return
    ack = websocket.query_params.get("ack") in {"1", "true"}
    session = YwsSession(
        services.rooms, channel, socket_limits(services.settings), name, grant, ack
    )
    await session.run()


routes: list[BaseRoute] = [
    WebSocketRoute("/ws", hocuspocus_endpoint),
    WebSocketRoute("/yws/{document:path}", yws_endpoint),
]
