"""Scenarios S3, S4 and S5 of the anchors protocol (§8): many idle documents, cold load of
large documents, durability under `kill -9`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import Any

import websockets
from pycrdt import Doc, Text

from bench.competitors import Seed, Server
from bench.loadgen import (
    EMPTY_STEP1,
    MARKER,
    Run,
    close_all,
    connect,
    open_receivers,
    percentile,
    sync_kind,
    sync_payload,
    writer,
)
from bench.procstat import CpuMeter, ProcStat
from bench.scenarios import Params, settle


@dataclass(frozen=True)
class Histories:
    """S4's documents: 10k small edits at scattered places, and 1 MB of text."""

    edits: tuple[bytes, ...]  # one update per edit
    edits_state: bytes  # the same document as one update
    large: bytes

    @classmethod
    def make(cls, p: Params) -> Histories:
        doc: Doc[Any] = Doc()
        text = doc.get("t", type=Text)
        edits: list[bytes] = []
        doc.observe(lambda event: edits.append(event.update))
        rnd = random.Random(5)
        for i in range(p.s4_updates):
            text.insert(rnd.randint(0, len(text)), "abcdefgh"[i % 8])
        big: Doc[Any] = Doc()
        big.get("t", type=Text).insert(0, "lorem ipsum " * (p.s4_text_bytes // 12))
        return cls(tuple(edits), doc.get_update(), big.get_update())


def seeds(p: Params, histories: Histories) -> list[Seed]:
    """Every document the scenarios open on a server that serves only existing ones."""
    return [
        Seed("s8-", 1),
        Seed("probe-", 1),
        Seed("s1-", len(p.s1_clients)),
        Seed("s2-", 1),
        Seed("s3-", p.s3_docs),
        Seed("s3b-", p.s3_docs),
        Seed("s4log-", p.s4_opens, histories.edits),
        Seed("s4snap-", p.s4_opens, histories.edits, compact=True),
        Seed("s4big-", p.s4_opens, (histories.large,)),
        Seed("s5-", 1),
        Seed("s6-", p.s6_docs),
        Seed("s6r-", p.s6_docs),
        Seed("s7-", 1),
    ]


def rss(server: Server) -> int:
    return ProcStat(server.pid).rss_kb()


async def s3_idle(server: Server, p: Params) -> dict[str, Any]:
    """One connection on each of `s3_docs` documents, each given 1 KB of text.

    RSS per document is measured twice: over all of them, and over the second half only
    (the marginal cost, without one-off growth such as caches filling on first use). Then
    everyone leaves; after the unload grace period, how much RSS is given back to the OS
    (`released_pct`)? Then, on servers that unload documents, as many other documents
    open: how much of what the first set took did they reuse instead of growing RSS again
    (`reused_pct`)?"""
    doc: Doc[Any] = Doc()
    doc.get("t", type=Text).insert(0, "x" * p.s3_text_bytes)
    update = doc.get_update()
    half = p.s3_docs // 2
    await asyncio.sleep(0.2)
    before = rss(server)
    run = Run()
    tasks = await _open_idle(server, "s3-", range(half), run, update)
    halfway = rss(server)
    tasks += await _open_idle(server, "s3-", range(half, p.s3_docs), run, update)
    try:
        meter = CpuMeter(await server.cpu_pids())
        meter.start()
        await asyncio.sleep(0.5)
        idle = meter.stop()
        loaded = rss(server)
    finally:
        await close_all(tasks)
    # after the grace period, wait for the unloading (and Tandem's compactions) to finish,
    # then one more sweep
    started = time.monotonic()
    grace = server.unload_grace_s
    await asyncio.sleep(grace if grace is not None else 0.0)
    await settle(server, within_s=30.0)
    await asyncio.sleep(1.5)
    wait = time.monotonic() - started
    after = rss(server)
    again, reloaded = Run(), None
    if grace is not None:  # a server that keeps every document has nothing to reuse
        tasks = await _open_idle(server, "s3b-", range(p.s3_docs), again, update)
        reloaded = rss(server)
        await close_all(tasks)
        await asyncio.sleep(grace)
        await settle(server, within_s=30.0)  # the next scenario starts on a quiet server
    grown = loaded - before
    return {
        "documents": p.s3_docs,
        "synced": len(run.synced_at),
        "rss_kb_before": before,
        "rss_kb_loaded": loaded,
        "rss_kb_per_doc": grown / p.s3_docs,
        "rss_kb_per_doc_marginal": (loaded - halfway) / (p.s3_docs - half),
        "idle_cpu_pct": idle["cpu_pct"],
        "rss_kb_after_leave": after,
        "waited_s": wait,
        "released_pct": 100.0 * (loaded - after) / grown if grown > 0 else None,
        "synced_other_set": len(again.synced_at),
        "rss_kb_other_set_loaded": reloaded,
        "reused_pct": (
            100.0 * (1 - (reloaded - after) / grown) if reloaded and grown > 0 else None
        ),
        "unloads_documents": (
            "never (no persistence: kept in memory)"
            if grace is None
            else f"after {grace:g} s without clients"
        ),
    }


async def _open_idle(
    server: Server, prefix: str, indexes: range, run: Run, update: bytes
) -> list[asyncio.Task[None]]:
    """One receiver on each document, given `update`; returns once the updates are applied
    and persisted."""
    targets = [server.target(f"{prefix}{i}") for i in indexes]
    tasks = await open_receivers(targets, len(targets), run, within_s=60.0, initial=update)
    await asyncio.sleep(0.7)
    return tasks


OPEN_ERRORS = (OSError, TimeoutError, websockets.WebSocketException)


async def open_once(server: Server, name: str) -> tuple[float, int]:
    """Connect → SyncStep2 received (within 30 s): seconds and the step-2 update's size."""
    started = time.monotonic()
    async with asyncio.timeout(30):
        conn = await connect(server.target(name))
        try:
            await conn.send(EMPTY_STEP1)
            while True:
                message = await conn.recv()
                if sync_kind(message) == 1:
                    return time.monotonic() - started, len(sync_payload(message))
        finally:
            await conn.close()


async def open_many(server: Server, names: list[str], cold: bool) -> dict[str, Any]:
    """One open after the other; an open that fails or takes over 30 s is counted, not
    timed."""
    times, size, failed = [], 0, 0
    for name in names:
        try:
            seconds, size = await open_once(server, name)
            times.append(seconds)
        except OPEN_ERRORS:
            failed += 1
    return {**_figures(times, size, cold), "failed_opens": failed}


async def s4_cold_load(server: Server, p: Params, histories: Histories) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    if server.persistent:
        # the raw 10k-entry logs last: compacting them once they unload keeps Tandem busy
        kinds = {"10k_updates_snapshot": "s4snap-", "1mb": "s4big-", "10k_updates_log": "s4log-"}
        for label, prefix in kinds.items():
            names = [f"{prefix}{i}" for i in range(p.s4_opens)]
            variants[label] = await open_many(server, names, cold=True)
        result: dict[str, Any] = {"variants": variants}
        if p.s4_after_unload and server.unload_grace_s is not None:
            result.update(await _after_unload(server, server.unload_grace_s))
        return result
    # No storage: the document lives only while someone holds it. Seed it over the wire,
    # keep that connection open, and time warm opens.
    for label, name, update in (
        ("10k_updates", "s4mem-0", histories.edits_state),
        ("1mb", "s4mem-1", histories.large),
    ):
        run = Run()
        holder = await open_receivers(server.target(name), 1, run, initial=update)
        try:
            await asyncio.sleep(0.5)
            variants[label] = await open_many(server, [name] * p.s4_opens, cold=False)
        finally:
            await close_all(holder)
    return {
        "variants": variants,
        "note": "no persistence, so no cold load: warm opens of a document held in memory",
    }


async def _after_unload(server: Server, grace: float) -> dict[str, Any]:
    """Once the opened documents unload (and Tandem compacts their logs): how long does a
    new client wait for a small document, and how long is the server busy?"""
    await asyncio.sleep(grace + 0.5)
    try:
        seconds: float | None = (await open_once(server, "s8-0"))[0]
    except OPEN_ERRORS:
        seconds = None
    return {
        "open_small_doc_during_unload_ms": 1e3 * seconds if seconds is not None else None,
        "busy_after_unload_s": await settle(server, within_s=120.0),
    }


def _figures(times: list[float], size: int, cold: bool) -> dict[str, Any]:
    return {
        "cold": cold,
        "opens": len(times),
        "p50_ms": 1e3 * percentile(times, 0.5),
        "p99_ms": 1e3 * percentile(times, 0.99),
        "max_ms": 1e3 * max(times, default=float("nan")),
        "step2_kb": size / 1024,
    }


async def s5_kill9(server: Server, p: Params) -> dict[str, Any]:
    """One writer at 50 updates/s, acks recorded; `kill -9` after `s5_seconds`; restart; a
    fresh client counts what the document holds."""
    run = Run()
    target = server.target("s5-0", ack=True)
    writing = asyncio.create_task(writer(target, 0, p.s5_rate, p.s5_seconds + 60, run))
    await asyncio.sleep(p.s5_seconds)
    await server.kill9()
    sent = await asyncio.wait_for(writing, 10)
    acked = run.acked.get(0, 0)
    await server.start()
    held = await _held_markers(server, "s5-0")
    lost = [seq for seq in range(sent) if seq not in held]
    result: dict[str, Any] = {
        "sent": sent,
        "acked": acked if server.acks else None,
        "held_after_restart": len(held),
        "acked_lost": sum(1 for seq in lost if seq < acked) if server.acks else None,
        "unacked_lost": sum(1 for seq in lost if seq >= acked) if server.acks else None,
        "sent_lost": len(lost),
        "acks": server.acks_mean or "none (the protocol has no acknowledgement)",
        "durability": "write-ahead log" if server.persistent else "none configured",
    }
    return result


async def _held_markers(server: Server, name: str) -> set[int]:
    with contextlib.suppress(websockets.ConnectionClosed):
        conn = await connect(server.target(name))
        try:
            await conn.send(EMPTY_STEP1)
            async with asyncio.timeout(10):
                while True:
                    message = await conn.recv()
                    if sync_kind(message) == 1:
                        payload = sync_payload(message)
                        return {int(seq) for w, seq in MARKER.findall(payload) if w == b"0"}
        finally:
            await conn.close()
    return set()
