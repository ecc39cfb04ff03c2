"""The plain y-websocket protocol: one document per socket, authorised at the upgrade.

With `ack` on (`?ack=1`), every accepted update is answered with a sync-status message
`[8, 1]` once it is durable; a dropped one with `[8, 0]`.
"""

from __future__ import annotations

import logging

from crdt import codec
from crdt.awareness import Identity
from crdt.errors import CloseCode, ProtocolError
from crdt.manager import RoomManager
from crdt.room import Room
from crdt.socket import Channel, Grant, SocketLimits, SocketSession, next_peer_id

log = logging.getLogger(__name__)


class YwsSession(SocketSession):
    def __init__(
        self,
        manager: RoomManager,
        channel: Channel,
        limits: SocketLimits,
        name: str,
        grant: Grant,
        ack: bool,
    ) -> None:
        super().__init__(manager, channel, limits)
        self.name = name
        self.id = next_peer_id()
        self.read_only = grant.read_only
        self.identity: Identity | None = grant.identity
        self.ack = ack
        self.room: Room | None = None

    # Peer
    def send(self, message: bytes) -> None:
        self.outbox.put(message)

    def acknowledge(self, saved: bool) -> None:
        if self.ack:
            self.outbox.put(codec.sync_status(saved))

    def deny(self, reason: str) -> None:
        self.acknowledge(False)
        self.outbox.put(codec.permission_denied(reason))

    def evict(self, error: ProtocolError) -> None:
        self.room = None
        self.fail(error)

    # SocketSession
    async def receive(self) -> None:
        self.room = await self.manager.join(self.name, self)
        async for frame in self.channel.frames():
            self.handle(self.room, frame)

    def leave_all(self) -> None:
        if self.room is not None:
            self.manager.leave(self.room, self)
            self.room = None

    def handle(self, room: Room, frame: bytes) -> None:
        decoder = codec.Decoder(frame)
        kind = decoder.read_var_uint()
        if kind == codec.MSG_SYNC:
            room.handle_sync(self, codec.read_sync(decoder))
        elif kind == codec.MSG_AWARENESS:
            room.handle_awareness(self, decoder.read_var_bytes())
        elif kind == codec.MSG_QUERY_AWARENESS:
            room.send_awareness_to(self)
        elif kind == codec.MSG_AUTH:
            log.debug("yws %s: ignored an auth message (auth happens at the upgrade)", self.name)
        else:
            raise ProtocolError(CloseCode.UNKNOWN_MESSAGE, f"unknown message type {kind}")
