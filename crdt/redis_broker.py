"""Redis pub/sub broker: one channel per document, each message tagged with the sender's
process id so a process ignores its own. Delivery is best effort by design; gaps are
repaired from the log (see `crdt.manager`)."""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid

import redis.asyncio as aioredis

from crdt.broker import BrokerHandler

log = logging.getLogger(__name__)

PREFIX = "tandem:doc:"
_UPDATE = b"u"
_AWARENESS = b"a"
_STATELESS = b"s"
_SEQ = struct.Struct(">Q")
_ID_LEN = 16


class RedisBroker:
    distributed = True

    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._process_id = uuid.uuid4().bytes
        self._subscribed: set[str] = set()
        self._ready = asyncio.Event()

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

    async def run(self, handler: BrokerHandler) -> None:
        # a pub/sub connection with no subscription returns immediately; keep one open
        await self._pubsub.subscribe(PREFIX + "\x00")
        self._ready.set()
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            try:
                self._dispatch(handler, message["channel"], message["data"])
            except (ValueError, struct.error):
                log.warning("redis broker: ignored a malformed message on %r", message["channel"])

    def _dispatch(self, handler: BrokerHandler, channel: bytes, data: bytes) -> None:
        name = channel.decode()[len(PREFIX) :]
        kind, sender, body = data[:1], data[1 : 1 + _ID_LEN], data[1 + _ID_LEN :]
        if sender == self._process_id or name not in self._subscribed:
            return
        if kind == _UPDATE:
            (seq,) = _SEQ.unpack_from(body)
            handler.on_remote_update(name, seq, body[_SEQ.size :])
        elif kind == _AWARENESS:
            handler.on_remote_awareness(name, body)
        elif kind == _STATELESS:
            handler.on_remote_stateless(name, body.decode())
        else:
            raise ValueError(f"unknown kind {kind!r}")

    async def subscribe(self, name: str) -> None:
        await self._ready.wait()
        self._subscribed.add(name)
        await self._pubsub.subscribe(PREFIX + name)

    async def unsubscribe(self, name: str) -> None:
        self._subscribed.discard(name)
        await self._pubsub.unsubscribe(PREFIX + name)

    async def publish_update(self, name: str, seq: int, update: bytes) -> None:
        await self._redis.publish(
            PREFIX + name, _UPDATE + self._process_id + _SEQ.pack(seq) + update
        )

    async def publish_awareness(self, name: str, payload: bytes) -> None:
        await self._redis.publish(PREFIX + name, _AWARENESS + self._process_id + payload)

    async def publish_stateless(self, name: str, payload: str) -> None:
        await self._redis.publish(PREFIX + name, _STATELESS + self._process_id + payload.encode())
