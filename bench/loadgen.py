"""Load generator: Yjs clients on raw frames, speaking plain y-websocket or Hocuspocus (every
frame prefixed with the document name, an Auth message first). Writers send real Yjs updates
that carry `<writer:seq>` markers; receivers find the markers in the raw bytes (no CRDT work)
and time delivery on the monotonic clock shared by every process on the machine."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from pycrdt import Doc, Text

from crdt import codec

MARKER = re.compile(rb"<(\d+):(\d+)>")
EMPTY_STEP2 = codec.sync_step2(codec.EMPTY_UPDATE)
EMPTY_STEP1 = codec.sync_step1(b"\x00")
SYNC, AWARENESS, AUTH, SYNC_REPLY, SYNC_STATUS = 0, 1, 2, 4, 8


@dataclass(frozen=True)
class Target:
    """One document on one server: `url` is the socket to open (for Hocuspocus the same for
    every document), `doc` the name put before every frame when `hocuspocus` is set."""

    url: str
    doc: str = ""
    hocuspocus: bool = False
    token: str = ""


class Conn:
    """One client socket for one document; `send` and `recv` carry bare y-protocols
    messages, the Hocuspocus prefix is added and removed here."""

    def __init__(self, ws: Any, prefix: bytes) -> None:
        self.ws = ws
        self.prefix = prefix

    async def send(self, message: bytes) -> None:
        await self.ws.send(self.prefix + message if self.prefix else message)

    async def recv(self) -> bytes:
        while True:
            frame = await self.ws.recv()
            if not isinstance(frame, bytes):
                continue
            if not self.prefix:
                return frame
            if frame.startswith(self.prefix):
                return frame[len(self.prefix) :]

    def abort(self) -> None:
        """Drop the TCP connection without a close frame or a null awareness state."""
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


async def connect(target: Target) -> Conn:
    ws = await websockets.connect(
        target.url,
        max_size=None,
        compression=None,  # every server measured without permessage-deflate
        ping_interval=None,
        open_timeout=30,
        close_timeout=1,
    )
    prefix = codec.var_string(target.doc) if target.hocuspocus else b""
    if target.hocuspocus:
        await ws.send(prefix + bytes((AUTH, 0)) + codec.var_string(target.token or "bench"))
    return Conn(ws, prefix)


def sync_kind(message: bytes) -> int | None:
    """The sync subtype (0 step1, 1 step2, 2 update) of a sync message, else None."""
    if len(message) > 1 and message[0] in (SYNC, SYNC_REPLY):
        return message[1]
    return None


def sync_payload(message: bytes) -> bytes:
    return codec.Decoder(message, 2).read_var_bytes()


@dataclass
class Run:
    sent: dict[tuple[int, int], float] = field(default_factory=dict)
    received: list[float] = field(default_factory=list)  # latencies in seconds
    synced_at: list[float] = field(default_factory=list)
    acked: dict[int, int] = field(default_factory=dict)  # writer -> updates acknowledged
    errors: int = 0
    writers_done: int = 0


async def receiver(
    target: Target,
    run: Run,
    started: float,
    on_awareness: Callable[[bytes], None] | None = None,
    initial: bytes | None = None,
) -> None:
    """Runs until cancelled (or the server closes the socket); sends the update `initial`
    right after its SyncStep1."""
    try:
        conn = await connect(target)
    except (OSError, websockets.WebSocketException, TimeoutError):
        run.errors += 1
        return
    try:
        await conn.send(EMPTY_STEP1)
        if initial is not None:
            await conn.send(codec.sync_update(initial))
        synced = False
        while True:
            message = await conn.recv()
            kind = sync_kind(message)
            if kind == 0:  # the server's SyncStep1
                await conn.send(EMPTY_STEP2)
            elif kind == 1 and not synced:
                synced = True
                run.synced_at.append(time.monotonic() - started)
            elif kind == 2:
                now = time.monotonic()
                for writer, seq in MARKER.findall(message):
                    sent = run.sent.get((int(writer), int(seq)))
                    if sent is not None:
                        run.received.append(now - sent)
            elif message[:1] == b"\x01" and on_awareness is not None:
                on_awareness(message)
    except websockets.ConnectionClosed:
        if not synced:
            run.errors += 1
    finally:
        await conn.close()


async def writer(
    target: Target,
    index: int,
    rate: float,
    duration: float,
    run: Run,
    linger: asyncio.Event | None = None,
) -> int:
    """Sends `<index:seq>` inserts at `rate` for `duration` seconds (or until the socket
    dies); counts sync-status acks in `run.acked`; then keeps the socket open until
    `linger` is set (a writer leaving must not disturb the step being measured). Returns
    the number of updates sent."""
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    run.acked[index] = 0
    conn = await connect(target)

    async def read_acks() -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = await conn.recv()
                if message[:1] == bytes((SYNC_STATUS,)) and message[1:2] == b"\x01":
                    run.acked[index] += 1

    reading = asyncio.ensure_future(read_acks())
    seq = 0
    try:
        await conn.send(EMPTY_STEP1)
        interval, deadline = 1.0 / rate, time.monotonic() + duration
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            text.insert(len(text), f"<{index}:{seq}>")
            run.sent[(index, seq)] = time.monotonic()
            await conn.send(codec.sync_update(updates.pop()))
            seq += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    except (websockets.ConnectionClosed, OSError):
        run.sent.pop((index, seq), None)
    finally:
        run.writers_done += 1
        if linger is not None:
            await linger.wait()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        await conn.close()
    return seq


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def as_target(target: Target | str) -> Target:
    return target if isinstance(target, Target) else Target(target)


async def open_receivers(
    target: Target | list[Target],
    clients: int,
    run: Run,
    within_s: float = 30.0,
    initial: bytes | None = None,
) -> list[asyncio.Task[None]]:
    """`clients` receivers (on one target, or one per target), returned once all of them
    are synced (or `within_s` passed). On one target, the first is synced before the others
    connect: S8 measures simultaneous joins, the other scenarios do not."""
    started = time.monotonic()
    deadline = time.monotonic() + within_s
    targets = target if isinstance(target, list) else [target] * clients
    tasks = [asyncio.create_task(receiver(targets[0], run, started, initial=initial))]
    while not isinstance(target, list) and clients > 1 and not (run.synced_at or run.errors):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    tasks += [
        asyncio.create_task(receiver(t, run, started, initial=initial)) for t in targets[1:clients]
    ]
    while len(run.synced_at) + run.errors < clients and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return tasks


async def close_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def drive(
    target: Target, run: Run, clients: int, writers: int, rate: float, duration: float, drain: float
) -> dict[str, float]:
    """Writers on already-open receivers; the figures of this one step."""
    run.sent.clear()
    run.received.clear()
    first, linger = len(run.acked), asyncio.Event()
    done = run.writers_done + writers
    tasks = [
        asyncio.create_task(writer(target, first + i, rate, duration, run, linger))
        for i in range(writers)
    ]
    while run.writers_done < done and not all(task.done() for task in tasks):
        await asyncio.sleep(0.02)
    await asyncio.sleep(drain)
    expected = len(run.sent) * clients
    received = list(run.received)
    linger.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients,
        "writers": writers,
        "rate_per_writer": rate,
        "demanded_per_s": writers * rate * clients,
        "delivered_pct": 100.0 * len(received) / expected if expected else 0.0,
        "p50_ms": 1e3 * percentile(received, 0.50),
        "p95_ms": 1e3 * percentile(received, 0.95),
        "p99_ms": 1e3 * percentile(received, 0.99),
        "max_ms": 1e3 * max(received, default=float("nan")),
        "deliveries": len(received),
        "deliveries_per_s": len(received) / duration,
    }


async def fanout(
    target: Target | str,
    clients: int,
    writers: int,
    rate: float,
    duration: float,
    drain: float = 2.0,
) -> dict[str, float]:
    target, run = as_target(target), Run()
    tasks = await open_receivers(target, clients, run)
    try:
        figures = await drive(target, run, clients, writers, rate, duration, drain)
    finally:
        await close_all(tasks)
    figures["connect_errors"] = run.errors
    return figures


async def simultaneous_joins(target: Target | str, clients: int) -> dict[str, float]:
    run = Run()
    started = time.monotonic()
    tasks = [asyncio.create_task(receiver(as_target(target), run, started)) for _ in range(clients)]
    while len(run.synced_at) + run.errors < clients and time.monotonic() < started + 2.0:
        await asyncio.sleep(0.01)
    await close_all(tasks)
    return {
        "clients": clients,
        "synced_within_1s": sum(1 for t in run.synced_at if t <= 1.0),
        "synced": len(run.synced_at),
        "slowest_ms": 1e3 * max(run.synced_at, default=float("nan")),
    }
