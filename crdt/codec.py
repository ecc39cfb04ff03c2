"""The y-protocols wire format, bytes in and bytes out. No I/O, no pycrdt.

Outer message: varuint type (0 sync, 1 awareness, 2 auth, 3 query-awareness), then a payload.
Sync: varuint subtype (0 step1 state vector, 1 step2 update, 2 update) and a var-length byte
string. Awareness: a var-length byte string holding `n, (client, clock, json-state)*`.
"""

from __future__ import annotations

from dataclasses import dataclass

from crdt.errors import CloseCode, ProtocolError

MSG_SYNC = 0
MSG_AWARENESS = 1
MSG_AUTH = 2
MSG_QUERY_AWARENESS = 3
MSG_SYNC_STATUS = 8  # Tandem's acknowledgement on /yws (same number as Hocuspocus)

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

AUTH_PERMISSION_DENIED = 0  # y-protocols/auth

EMPTY_UPDATE = b"\x00\x00"
MAX_VARUINT_BYTES = 10


def malformed(what: str) -> ProtocolError:
    return ProtocolError(CloseCode.MALFORMED_MESSAGE, what)


class Decoder:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def read_var_uint(self) -> int:
        result = shift = 0
        for _ in range(MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise malformed("truncated varuint")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
        raise malformed("varuint longer than 10 bytes")

    def read_var_bytes(self) -> bytes:
        length = self.read_var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise malformed(f"byte string of {length} bytes runs past the end of the frame")
        value = self.data[self.pos : end]
        self.pos = end
        return value

    def read_var_string(self) -> str:
        raw = self.read_var_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("string is not valid UTF-8") from None

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)


def var_uint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varuint cannot be negative")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def var_bytes(value: bytes) -> bytes:
    return var_uint(len(value)) + value


def var_string(value: str) -> bytes:
    return var_bytes(value.encode("utf-8"))


# --- sync -----------------------------------------------------------------------------


def sync_step1(state_vector: bytes) -> bytes:
    return bytes((MSG_SYNC, SYNC_STEP1)) + var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes((MSG_SYNC, SYNC_STEP2)) + var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return bytes((MSG_SYNC, SYNC_UPDATE)) + var_bytes(update)


def awareness_message(payload: bytes) -> bytes:
    return bytes((MSG_AWARENESS,)) + var_bytes(payload)


def permission_denied(reason: str) -> bytes:
    return bytes((MSG_AUTH, AUTH_PERMISSION_DENIED)) + var_string(reason)


def sync_status(saved: bool) -> bytes:
    return bytes((MSG_SYNC_STATUS, 1 if saved else 0))


@dataclass(frozen=True)
class SyncMessage:
    subtype: int
    payload: bytes


def read_sync(decoder: Decoder) -> SyncMessage:
    subtype = decoder.read_var_uint()
    if subtype not in (SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE):
        raise ProtocolError(CloseCode.UNKNOWN_MESSAGE, f"unknown sync message type {subtype}")
    return SyncMessage(subtype, decoder.read_var_bytes())


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    decoder = Decoder(state_vector)
    count = decoder.read_var_uint()
    vector = {}
    for _ in range(count):
        client = decoder.read_var_uint()
        vector[client] = decoder.read_var_uint()
    return vector


# --- awareness --------------------------------------------------------------------------


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # JSON text; "null" means the client is gone


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    decoder = Decoder(payload)
    count = decoder.read_var_uint()
    if count > len(payload):
        raise malformed(f"awareness update claims {count} entries in {len(payload)} bytes")
    entries = [
        AwarenessEntry(decoder.read_var_uint(), decoder.read_var_uint(), decoder.read_var_string())
        for _ in range(count)
    ]
    if not decoder.done:
        raise malformed("trailing bytes after awareness entries")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [var_uint(len(entries))]
    for entry in entries:
        parts += (var_uint(entry.client_id), var_uint(entry.clock), var_string(entry.state))
    return b"".join(parts)
