"""What the room layer needs from durable storage: an append-only update log per document.

`server/storage` implements this protocol on SQLite and PostgreSQL; the room manager only
sees the protocol. Sequence numbers are allocated per document by the store, start at 1
and have no gaps; a compacted snapshot covers every update up to its `seq`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

Merge = Callable[[bytes | None, Sequence[bytes]], bytes]
"""Folds a snapshot (or None) and the updates after it into one new snapshot update."""


@dataclass(frozen=True)
class StoredState:
    """A document as stored: an optional snapshot, then the log entries after it."""

    snapshot: bytes | None = None
    snapshot_seq: int = 0
    updates: list[tuple[int, bytes]] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.updates[-1][0] if self.updates else self.snapshot_seq


class UpdateLog(Protocol):
    async def load_document(self, name: str) -> StoredState:
        """The whole document: latest snapshot and every update after it, in seq order."""
        ...

    async def read_updates_since(self, name: str, after_seq: int) -> StoredState:
        """Updates with seq > after_seq. If compaction already folded some of them into the
        snapshot, the snapshot is included (snapshot_seq > after_seq); otherwise it is None."""
        ...

    async def append_updates(self, batch: Sequence[tuple[str, bytes]]) -> list[int]:
        """Append every (document name, update) in ONE transaction (group commit) and return
        the seq given to each item, in order; 0 for an item whose document no longer exists
        (nothing is stored for it). Durable when this returns."""
        ...

    async def compact_document(self, name: str, merge: Merge) -> int:
        """Read snapshot and tail, `merge` them (with no transaction held), then in one
        transaction write the new snapshot with the merged tail's last seq and delete the
        merged entries. Entries appended meanwhile stay in the log. Returns the snapshot's
        seq (0 if the document no longer exists)."""
        ...

    async def latest_seqs(self, names: Sequence[str]) -> dict[str, int]:
        """The last allocated seq of each named document that exists."""
        ...

    async def log_size(self, name: str) -> tuple[int, int]:
        """(number of log entries, their total bytes) after the snapshot."""
        ...
