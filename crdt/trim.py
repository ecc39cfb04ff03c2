"""Hand the heap's free pages back to the operating system.

Unloaded rooms and closed sockets go back to the allocator, which keeps the memory for
the next ones; glibc's `malloc_trim` returns its free pages to the kernel. Called after a
burst of unloads and after every full collection of the cyclic GC that freed a lot (some
of a socket's objects, uvicorn's HTTP parser among them, sit in reference cycles until
then). Elsewhere than glibc it does nothing. CPython's small-object arenas go back only
when wholly empty, which this cannot change."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

FREED_BY_GC = 10_000  # objects a full collection must free to be worth a trim


def _load_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc
    return trim


_malloc_trim = _load_malloc_trim()


def give_back_memory() -> None:
    """Return free heap pages to the OS, where the C library can."""
    if _malloc_trim is None:
        return
    started = time.perf_counter()
    _malloc_trim(0)
    log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1e3)


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2 and info["collected"] >= FREED_BY_GC:
        give_back_memory()


def trim_after_full_collections() -> None:
    """Trim after each full collection that freed at least `FREED_BY_GC` objects (once per
    process, however often it is called)."""
    if _malloc_trim is not None and _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)
