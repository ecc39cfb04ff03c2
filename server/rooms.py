"""Builds the room manager the settings ask for: in-process, or fanned out through Redis."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from crdt.broker import Broker, LocalBroker
from crdt.manager import RoomLimits, RoomManager
from crdt.redis_broker import RedisBroker
from crdt.schemas import new_doc
from crdt.socket import SocketLimits
from server.settings import Settings
from server.storage.base import Storage


def room_limits(settings: Settings) -> RoomLimits:
    return RoomLimits(
        max_document_bytes=settings.max_document_bytes,
        max_connections=settings.max_connections_per_document,
        unload_grace_s=settings.unload_grace_s,
        awareness_timeout_s=settings.awareness_timeout_s,
        compact_after_updates=settings.compact_after_updates,
        compact_after_bytes=settings.compact_after_bytes,
        catchup_interval_s=settings.catchup_interval_s,
    )


def socket_limits(settings: Settings) -> SocketLimits:
    return SocketLimits(
        send_queue_messages=settings.send_queue_messages,
        max_bytes_before_auth=settings.max_bytes_before_auth,
        max_documents_per_socket=settings.max_documents_per_socket,
        auth_timeout_s=settings.auth_timeout_s,
    )


@contextlib.asynccontextmanager
async def open_room_manager(settings: Settings, storage: Storage) -> AsyncIterator[RoomManager]:
    broker: Broker
    redis_broker = RedisBroker(settings.redis_url) if settings.redis_url else None
    broker = redis_broker if redis_broker is not None else LocalBroker()
    try:
        async with RoomManager(storage, broker, room_limits(settings), new_doc) as manager:
            yield manager
    finally:
        if redis_broker is not None:
            await redis_broker.close()
