"""Presence for one document: who owns which awareness client ids, and their latest states.

Each state belongs to the connection that first announced its client id; another connection
cannot overwrite or remove it. Identity comes from the server: the `user` field of every
state is rewritten with the authenticated user's id and name. When a connection goes away,
its client ids are removed for everyone (a `null` state with the next clock).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson

from crdt.codec import AwarenessEntry

log = logging.getLogger(__name__)

REMOTE_OWNER = -1  # states relayed from another process


@dataclass
class _State:
    clock: int
    state: str
    owner: int
    seen_at: float


@dataclass(frozen=True)
class Identity:
    user_id: str
    name: str


class AwarenessRegistry:
    def __init__(self) -> None:
        self._states: dict[int, _State] = {}
        self._owned: dict[int, set[int]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def client_ids(self) -> list[int]:
        return list(self._states)

    def apply(
        self, owner: int, identity: Identity | None, entries: list[AwarenessEntry], now: float
    ) -> list[AwarenessEntry]:
        """Apply entries from `owner`; return the accepted (rewritten) ones to broadcast."""
        accepted: list[AwarenessEntry] = []
        for entry in entries:
            current = self._states.get(entry.client_id)
            if current is not None and current.owner != owner:
                log.warning(
                    "awareness: connection %s tried to change client %s owned by %s",
                    owner,
                    entry.client_id,
                    current.owner,
                )
                continue
            if current is not None and entry.clock < current.clock:
                continue
            if entry.state == "null":
                if current is not None:
                    self._drop(entry.client_id)
                    accepted.append(entry)
                continue
            state = entry.state if identity is None else _with_identity(entry.state, identity)
            if state is None:
                log.warning("awareness: client %s sent a state that is not JSON", entry.client_id)
                continue
            self._states[entry.client_id] = _State(entry.clock, state, owner, now)
            self._owned.setdefault(owner, set()).add(entry.client_id)
            accepted.append(AwarenessEntry(entry.client_id, entry.clock, state))
        return accepted

    def remove_owner(self, owner: int) -> list[AwarenessEntry]:
        """Forget every client id `owner` announced; return their removal entries."""
        removed = []
        for client_id in sorted(self._owned.pop(owner, set())):
            state = self._states.pop(client_id, None)
            if state is not None:
                removed.append(AwarenessEntry(client_id, state.clock + 1, "null"))
        return removed

    def expire(self, older_than: float) -> list[AwarenessEntry]:
        """Drop states not renewed since `older_than` (monotonic seconds)."""
        stale = [cid for cid, st in self._states.items() if st.seen_at < older_than]
        removed = []
        for client_id in stale:
            clock = self._states[client_id].clock
            self._drop(client_id)
            removed.append(AwarenessEntry(client_id, clock + 1, "null"))
        return removed

    def snapshot(self) -> list[AwarenessEntry]:
        return [AwarenessEntry(cid, st.clock, st.state) for cid, st in self._states.items()]

    def _drop(self, client_id: int) -> None:
        state = self._states.pop(client_id)
        owned = self._owned.get(state.owner)
        if owned is not None:
            owned.discard(client_id)
            if not owned:
                del self._owned[state.owner]


def _with_identity(state_json: str, identity: Identity) -> str | None:
    try:
        state: Any = orjson.loads(state_json)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(state, dict):
        return None
    user = state.get("user")
    user = dict(user) if isinstance(user, dict) else {}
    user["id"] = identity.user_id
    user["name"] = identity.name
    state["user"] = user
    return orjson.dumps(state).decode()
