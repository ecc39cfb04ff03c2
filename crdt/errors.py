"""Named websocket close codes and the error that carries one."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    MALFORMED_MESSAGE = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    AUTH_TIMEOUT = 4408
    UNKNOWN_MESSAGE = 4415
    DOCUMENT_TOO_LARGE = 4413
    LOCKED = 4423  # a draft being sent: reopen it read-only
    ROOM_FULL = 4429
    PRE_AUTH_LIMIT = 4431
    TOO_MANY_DOCUMENTS = 4432
    LOAD_FAILED = 4500
    SLOW_CONSUMER = 4508


class ProtocolError(Exception):
    """Ends a connection (or, on a multiplexed socket, one document) with a named code."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(f"{code.name} ({int(code)}): {reason}")
        self.code = code
        self.reason = reason


class AccessDenied(ProtocolError):
    """The credentials do not allow this document."""
