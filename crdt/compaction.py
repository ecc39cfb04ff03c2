"""Fold a snapshot and its log tail into one update through a `Doc` (never `merge_updates`:
far slower and larger on many small updates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycrdt import Doc

from crdt.updates import has_missing_structs


class CompactionRefused(Exception):
    """The log holds updates whose dependencies are missing; a snapshot would drop them."""


def merge_with_doc(snapshot: bytes | None, updates: Sequence[bytes]) -> bytes:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        if snapshot is not None:
            doc.apply_update(snapshot)
        for update in updates:
            doc.apply_update(update)
    state = doc.get_state()
    for seq, update in enumerate(updates, 1):
        if has_missing_structs(update, state):
            raise CompactionRefused(f"log entry {seq} of the tail waits for missing data")
    merged: bytes = doc.get_update()
    return merged
