"""A small, independent Yjs client for tests: raw frames over `websockets`, a pycrdt Doc,
both Tandem protocols. It answers the handshake, applies what the server sends, sends
local changes, counts acknowledgements and keeps the awareness states it hears."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import websockets
from pycrdt import Doc, Map, Text, XmlElement, XmlFragment, XmlText
from websockets.asyncio.client import ClientConnection

from crdt import codec
from crdt.hocuspocus import (
    AUTH,
    AUTH_AUTHENTICATED,
    AUTH_PERMISSION_DENIED,
    AUTH_TOKEN,
    CLOSE,
    SYNC_STATUS,
)


class YClient:
    def __init__(self, name: str, hocuspocus: bool = False) -> None:
        self.name = name
        self.hocuspocus = hocuspocus
        self.doc: Doc = Doc()
        self.doc.get("body", type=XmlFragment)
        self.doc.get("headers", type=Map)
        self.synced = asyncio.Event()
        self.authenticated = asyncio.Event()
        self.denied: str | None = None
        self.closed_reason: str | None = None
        self.acks: list[bool] = []
        self.denials: list[str] = []
        self.awareness: dict[int, tuple[int, Any]] = {}
        self.awareness_seen: list[Any] = []
        self.changed = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._prefix = codec.var_string(name) if hocuspocus else b""
        self._local_updates: list[bytes] = []
        self.sent = 0
        self._applying_remote = False
        self._sub = self.doc.observe(self._on_change)
        self._task: asyncio.Task[None] | None = None

    # --- content helpers ---------------------------------------------------------------

    @property
    def body(self) -> XmlFragment:
        return self.doc.get("body", type=XmlFragment)

    def text(self) -> str:
        out = []
        for block in self.body.children:
            if isinstance(block, XmlElement):
                out.append("".join(str(c) for c in block.children if isinstance(c, XmlText)))
        return "\n".join(out)

    def write_paragraph(self, text: str) -> None:
        with self.doc.transaction():
            paragraph = self.body.children.append(XmlElement("paragraph"))
            paragraph.children.append(XmlText(text))

    def scratch_text(self) -> Text:
        return self.doc.get("scratch", type=Text)

    # --- wire --------------------------------------------------------------------------

    async def connect(self, url: str, token: str | None = None, **kwargs: Any) -> YClient:
        self.ws = await websockets.connect(url, max_size=None, **kwargs)
        if self.hocuspocus:
            await self.send_raw(bytes((AUTH, AUTH_TOKEN)) + codec.var_string(token or ""))
        self._task = asyncio.get_running_loop().create_task(self._read_loop())
        return self

    async def send_raw(self, message: bytes) -> None:
        assert self.ws is not None
        await self.ws.send(self._prefix + message)

    async def _read_loop(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                assert isinstance(frame, bytes)
                await self._handle(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason or ""
            self.changed.set()

    async def _handle(self, frame: bytes) -> None:
        decoder = codec.Decoder(frame)
        if self.hocuspocus:
            decoder.read_var_string()
        kind = decoder.read_var_uint()
        if kind in (codec.MSG_SYNC, 4):
            sync = codec.read_sync(decoder)
            if sync.subtype == codec.SYNC_STEP1:
                await self.send_raw(codec.sync_step2(self.doc.get_update(sync.payload)))
                if not self.synced.is_set() and not self.hocuspocus:
                    await self.send_raw(codec.sync_step1(self.doc.get_state()))
            else:
                self._applying_remote = True
                try:
                    self.doc.apply_update(sync.payload)
                finally:
                    self._applying_remote = False
                if sync.subtype == codec.SYNC_STEP2:
                    self.synced.set()
        elif kind == codec.MSG_AWARENESS:
            for entry in codec.decode_awareness(decoder.read_var_bytes()):
                state = orjson.loads(entry.state)
                if state is None:
                    self.awareness.pop(entry.client_id, None)
                else:
                    self.awareness[entry.client_id] = (entry.clock, state)
                    self.awareness_seen.append(state)
        elif kind == AUTH:
            sub = decoder.read_var_uint()
            reason = decoder.read_var_string()
            if self.hocuspocus and sub == AUTH_AUTHENTICATED:
                self.authenticated.set()
                await self.send_raw(codec.sync_step1(self.doc.get_state()))
            elif self.hocuspocus and sub == AUTH_PERMISSION_DENIED:
                self.denied = reason
                self.authenticated.set()
            else:
                self.denials.append(reason)
        elif kind == SYNC_STATUS:
            self.acks.append(decoder.read_var_uint() == 1)
        elif kind == CLOSE and self.hocuspocus:
            self.closed_reason = decoder.read_var_string()
        self.changed.set()

    def _on_change(self, event: Any) -> None:
        if not self._applying_remote:
            self._local_updates.append(event.update)

    async def flush(self) -> int:
        """Send local changes made since the last flush; return how many updates were sent."""
        updates, self._local_updates = self._local_updates, []
        for update in updates:
            await self.send_raw(codec.sync_update(update))
        self.sent += len(updates)
        return len(updates)

    @property
    def saved(self) -> int:
        """Updates acknowledged as durable (the handshake's SyncStep2 is acknowledged too)."""
        return max(0, self.acks.count(True) - 1)

    async def wait_saved(self, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.saved >= self.sent, timeout)

    async def set_awareness(self, client_id: int, clock: int, state: Any) -> None:
        payload = codec.encode_awareness(
            [codec.AwarenessEntry(client_id, clock, orjson.dumps(state).decode())]
        )
        await self.send_raw(codec.awareness_message(payload))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                if predicate():
                    return
                await self.changed.wait()

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int | None, str]:
        assert self._task is not None
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._task)
        return self.close_code, self.close_reason

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@contextlib.asynccontextmanager
async def yws(base: str, name: str, token: str | None, ack: bool = True) -> AsyncIterator[YClient]:
    query = f"?token={token}" if token else "?"
    client = YClient(name)
    await client.connect(f"{base}/yws/{name}{query}{'&ack=1' if ack else ''}")
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def hocus(base: str, name: str, token: str | None) -> AsyncIterator[YClient]:
    client = YClient(name, hocuspocus=True)
    await client.connect(f"{base}/ws", token)
    try:
        yield client
    finally:
        await client.close()
