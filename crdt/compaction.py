"""Fold a snapshot and its log tail into one update through a `Doc` (never `merge_updates`:
far slower and larger on many small updates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycrdt import Doc, get_state

from crdt.codec import decode_state_vector


class CompactionRefused(Exception):
    """The log holds updates whose dependencies are missing; a snapshot would drop them."""


def merge_with_doc(snapshot: bytes | None, updates: Sequence[bytes]) -> bytes:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        if snapshot is not None:
            doc.apply_update(snapshot)
        for update in updates:
            doc.apply_update(update)
    have = decode_state_vector(doc.get_state())
    for update in updates:
        for client, clock in decode_state_vector(get_state(update)).items():
            if clock > have.get(client, 0):
                raise CompactionRefused(f"update from client {client} waits for missing data")
    merged: bytes = doc.get_update()
    return merged
