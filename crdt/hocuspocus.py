"""The Hocuspocus protocol: many documents over one socket, each frame prefixed with the
document's address (its name, or `name\\0session` for newer providers), each document
authenticated by its own Auth message before it is served.

Frame: varstring address, varuint type, payload. Types: 0 sync, 1 awareness, 2 auth,
3 query-awareness, 4 sync-reply, 5 stateless, 6 broadcast-stateless (server only), 7 close,
8 sync-status, 9 ping, 10 pong.

A feed (`crdt.feeds`) is served like a read-only document that stays empty; the server
pushes stateless messages (5, varstring payload) on it.
"""

from __future__ import annotations

import logging

import anyio

from crdt import codec
from crdt.awareness import Identity
from crdt.errors import AccessDenied, CloseCode, ProtocolError
from crdt.manager import RoomManager
from crdt.room import Room
from crdt.socket import Authorize, Channel, Grant, SocketLimits, SocketSession, next_peer_id

log = logging.getLogger(__name__)

SYNC, AWARENESS, AUTH, QUERY_AWARENESS, SYNC_REPLY = 0, 1, 2, 3, 4
STATELESS, BROADCAST_STATELESS, CLOSE, SYNC_STATUS, PING, PONG = 5, 6, 7, 8, 9, 10
AUTH_TOKEN, AUTH_PERMISSION_DENIED, AUTH_AUTHENTICATED = 0, 1, 2
EMPTY_STATE_VECTOR = b"\x00"


def stateless_message(payload: str) -> bytes:
    return bytes((STATELESS,)) + codec.var_string(payload)


class DocumentPeer:
    """One document on a Hocuspocus socket; the room's `Peer`."""

    def __init__(self, session: HocuspocusSession, address: str, grant: Grant) -> None:
        self.id = next_peer_id()
        self.address = address
        self.name = address.split("\0", 1)[0]
        self.read_only = grant.read_only
        self.feed = grant.feed
        self.identity: Identity | None = grant.identity
        self.room: Room | None = None
        self._session = session
        self._prefix = codec.var_string(address)

    def send(self, message: bytes) -> None:
        self._session.outbox.put(self._prefix + message)

    def stateless(self, payload: str) -> None:
        self._session.outbox.put(self._prefix + stateless_message(payload))

    def acknowledge(self, saved: bool) -> None:
        self._session.outbox.put(self._prefix + bytes((SYNC_STATUS, 1 if saved else 0)))

    def deny(self, reason: str) -> None:
        log.info("hocuspocus %s: %s", self.name, reason)
        self.acknowledge(False)

    def evict(self, error: ProtocolError) -> None:
        """Close this document only; the socket keeps serving the others."""
        log.info("hocuspocus %s: closed: %s", self.name, error)
        self.room = None
        self._session.documents.pop(self.address, None)
        reason = f"{int(error.code)} {error.reason}"
        self._session.outbox.put(self._prefix + bytes((CLOSE,)) + codec.var_string(reason))


class HocuspocusSession(SocketSession):
    def __init__(
        self, manager: RoomManager, channel: Channel, limits: SocketLimits, authorize: Authorize
    ) -> None:
        super().__init__(manager, channel, limits)
        self.authorize = authorize
        self.documents: dict[str, DocumentPeer] = {}
        self._waiting: dict[str, list[bytes]] = {}
        self._waiting_bytes = 0
        self._authenticated_once = False

    async def receive(self) -> None:
        assert self._tg is not None
        self._tg.start_soon(self._auth_deadline)
        async for frame in self.channel.frames():
            decoder = codec.Decoder(frame)
            address = decoder.read_var_string()
            peer = self.documents.get(address)
            if peer is not None and (peer.room is not None or peer.feed):
                self._handle(peer, decoder)
                continue
            kind = decoder.read_var_uint()
            if kind == AUTH:
                await self._authenticate(address, decoder)
            else:
                self._wait_for_auth(address, frame)

    def leave_all(self) -> None:
        for peer in list(self.documents.values()):
            self._leave(peer)

    def _leave(self, peer: DocumentPeer) -> None:
        self.documents.pop(peer.address, None)
        if peer.feed:
            self.manager.feeds.unsubscribe(peer.name, peer)
        if peer.room is not None:
            self.manager.leave(peer.room, peer)
            peer.room = None

    async def _auth_deadline(self) -> None:
        await anyio.sleep(self.limits.auth_timeout_s)
        if not self._authenticated_once:
            self.fail(
                ProtocolError(
                    CloseCode.AUTH_TIMEOUT,
                    f"no document authenticated within {self.limits.auth_timeout_s:g} s",
                )
            )

    def _wait_for_auth(self, address: str, frame: bytes) -> None:
        self._waiting_bytes += len(frame)
        if self._waiting_bytes > self.limits.max_bytes_before_auth:
            raise ProtocolError(
                CloseCode.PRE_AUTH_LIMIT,
                f"more than {self.limits.max_bytes_before_auth} bytes sent before authentication",
            )
        self._check_document_count(address)
        self._waiting.setdefault(address, []).append(frame)

    def _check_document_count(self, address: str) -> None:
        known = self.documents.keys() | self._waiting.keys()
        if address not in known and len(known) >= self.limits.max_documents_per_socket:
            raise ProtocolError(
                CloseCode.TOO_MANY_DOCUMENTS,
                f"more than {self.limits.max_documents_per_socket} documents on one socket",
            )

    async def _authenticate(self, address: str, decoder: codec.Decoder) -> None:
        subtype = decoder.read_var_uint()
        if subtype != AUTH_TOKEN:
            raise codec.malformed(f"auth message of type {subtype} from a client")
        token = decoder.read_var_string()
        self._check_document_count(address)
        prefix = codec.var_string(address)
        name = address.split("\0", 1)[0]
        try:
            grant = await self.authorize(name, token or None)
        except AccessDenied as denied:
            log.info("hocuspocus: %s denied %s: %s", self.channel.remote, name, denied.reason)
            self._drop_waiting(address)
            reason = f"{int(denied.code)} {denied.reason}"
            self.outbox.put(
                prefix + bytes((AUTH, AUTH_PERMISSION_DENIED)) + codec.var_string(reason)
            )
            return
        old = self.documents.get(address)
        if old is not None:
            self._leave(old)
        peer = DocumentPeer(self, address, grant)
        self.documents[address] = peer
        scope = "readonly" if grant.read_only else "read-write"
        self.outbox.put(prefix + bytes((AUTH, AUTH_AUTHENTICATED)) + codec.var_string(scope))
        self._authenticated_once = True
        if peer.feed:
            peer.send(codec.sync_step1(EMPTY_STATE_VECTOR))
            await self.manager.feeds.subscribe(peer.name, peer)
        else:
            peer.room = await self.manager.join(peer.name, peer)
        for frame in self._drop_waiting(address):
            queued = codec.Decoder(frame)
            queued.read_var_string()
            self._handle(peer, queued)

    def _drop_waiting(self, address: str) -> list[bytes]:
        frames = self._waiting.pop(address, [])
        self._waiting_bytes -= sum(map(len, frames))
        return frames

    def _handle(self, peer: DocumentPeer, decoder: codec.Decoder) -> None:
        kind = decoder.read_var_uint()
        room = peer.room
        if kind in (SYNC, SYNC_REPLY):
            message = codec.read_sync(decoder)
            if room is not None:
                room.handle_sync(peer, message)
            else:
                _feed_sync(peer, message)
        elif kind == AWARENESS:
            payload = decoder.read_var_bytes()
            if room is not None:
                room.handle_awareness(peer, payload)  # a feed has nobody to show it to
        elif kind == QUERY_AWARENESS:
            if room is not None:
                room.send_awareness_to(peer)
            else:
                peer.send(codec.awareness_message(codec.encode_awareness([])))
        elif kind == AUTH:
            log.debug("hocuspocus %s: token refresh ignored; the grant stands", peer.name)
        elif kind == STATELESS:
            log.debug("hocuspocus %s: stateless message ignored", peer.name)
        elif kind == CLOSE:
            self._leave(peer)
        elif kind == PING:
            peer.send(bytes((PONG,)))
        elif kind == BROADCAST_STATELESS:
            raise ProtocolError(CloseCode.UNKNOWN_MESSAGE, "broadcast-stateless is server-only")
        else:
            raise ProtocolError(CloseCode.UNKNOWN_MESSAGE, f"unknown message type {kind}")


def _feed_sync(peer: DocumentPeer, message: codec.SyncMessage) -> None:
    """A feed stays empty: the client's state vector gets an empty reply, and anything but
    the empty update of a fresh client is refused as on any read-only document."""
    if message.subtype == codec.SYNC_STEP1:
        peer.send(codec.sync_step2(codec.EMPTY_UPDATE))
    elif message.payload == codec.EMPTY_UPDATE:
        peer.acknowledge(True)
    else:
        peer.deny("read-only: a feed accepts no updates")
