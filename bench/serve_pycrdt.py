"""pycrdt-websocket 0.16.5's plain `ASGIServer` + `WebsocketServer` (no store) under uvicorn,
as the anchors document runs it: `exception_logger` so a failing room does not kill the
process, the same websocket implementation as Tandem (for `python -m bench crdt`).

    python -m bench.serve_pycrdt PORT [WS_IMPLEMENTATION]
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer
from pycrdt.websocket.websocket_server import exception_logger

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

websocket_server = WebsocketServer(exception_handler=exception_logger)
asgi_server = ASGIServer(websocket_server)


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        async with websocket_server:  # runs the rooms' task group for the server's lifetime
            await asgi_server(scope, receive, send)
    else:
        await asgi_server(scope, receive, send)


if __name__ == "__main__":
    port = int(sys.argv[1])
    impl = sys.argv[2] if len(sys.argv) > 2 else "websockets-sansio"
    uvicorn.run(app, host="127.0.0.1", port=port, ws=impl, log_level="warning")
