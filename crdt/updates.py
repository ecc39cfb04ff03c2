"""Facts about Yjs updates that pycrdt does not state directly."""

from __future__ import annotations

from pycrdt import get_update


def has_missing_structs(update: bytes, state_vector: bytes) -> bool:
    """True when `update` carries structs a document at `state_vector` has not integrated,
    i.e. the document holds them as pending until their dependencies arrive.

    (`pycrdt.get_state(update)` cannot tell: it reports nothing for an update that does
    not start at clock 0.) The diff against the state vector starts with the number of
    client blocks it still carries; zero means nothing is missing."""
    return get_update(update, state_vector)[:1] != b"\x00"


def is_yrs_panic(exc: BaseException) -> bool:
    """A Rust panic inside yrs surfaces as pyo3's PanicException, a BaseException: it must
    end the offending message, not the room or the process."""
    return type(exc).__name__ == "PanicException"
