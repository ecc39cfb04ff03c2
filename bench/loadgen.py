"""Load generator: y-websocket clients on raw frames. Writers send real Yjs updates that
carry `<writer:seq>` markers; receivers find the markers in the raw bytes (no CRDT work)
and time delivery on the monotonic clock shared by every process on the machine."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from pycrdt import Doc, Text

from crdt import codec

MARKER = re.compile(rb"<(\d+):(\d+)>")
EMPTY_STEP2 = codec.sync_step2(codec.EMPTY_UPDATE)
EMPTY_STEP1 = codec.sync_step1(b"\x00")


@dataclass
class Run:
    sent: dict[tuple[int, int], float] = field(default_factory=dict)
    received: list[float] = field(default_factory=list)  # latencies in seconds
    synced_at: list[float] = field(default_factory=list)


async def receiver(url: str, run: Run, stop: asyncio.Event, started: float) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(EMPTY_STEP1)
        async for frame in _until(ws, stop):
            assert isinstance(frame, bytes)
            if frame[:2] == b"\x00\x00":  # the server's SyncStep1
                await ws.send(EMPTY_STEP2)
            elif frame[:2] == b"\x00\x01":
                run.synced_at.append(time.monotonic() - started)
            elif frame[:2] == b"\x00\x02":
                now = time.monotonic()
                for writer, seq in MARKER.findall(frame):
                    sent = run.sent.get((int(writer), int(seq)))
                    if sent is not None:
                        run.received.append(now - sent)


async def _until(ws: Any, stop: asyncio.Event) -> Any:
    while not stop.is_set():
        try:
            yield await asyncio.wait_for(ws.recv(), 0.2)
        except TimeoutError:
            continue
        except websockets.ConnectionClosed:
            return


async def writer(url: str, index: int, rate: float, duration: float, run: Run) -> None:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(EMPTY_STEP1)
        interval, deadline, seq = 1.0 / rate, time.monotonic() + duration, 0
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            text.insert(len(text), f"<{index}:{seq}>")
            run.sent[(index, seq)] = time.monotonic()
            await ws.send(codec.sync_update(updates.pop()))
            seq += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fanout(
    url: str, clients: int, writers: int, rate: float, duration: float
) -> dict[str, float]:
    run, stop = Run(), asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.ensure_future(receiver(url, run, stop, started)) for _ in range(clients)]
    async with asyncio.timeout(30):
        while len(run.synced_at) < clients:
            await asyncio.sleep(0.05)
    await asyncio.gather(*(writer(url, i, rate, duration, run) for i in range(writers)))
    await asyncio.sleep(2.0)  # drain
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = len(run.sent) * clients
    return {
        "clients": clients,
        "demanded_per_s": writers * rate * clients,
        "delivered_pct": 100.0 * len(run.received) / expected if expected else 0.0,
        "p50_ms": 1e3 * percentile(run.received, 0.50),
        "p99_ms": 1e3 * percentile(run.received, 0.99),
        "deliveries": len(run.received),
    }


async def simultaneous_joins(url: str, clients: int) -> dict[str, float]:
    run, stop = Run(), asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.ensure_future(receiver(url, run, stop, started)) for _ in range(clients)]
    async with asyncio.timeout(10):
        while len(run.synced_at) < clients:
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients,
        "synced_within_1s": sum(1 for t in run.synced_at if t <= 1.0),
        "slowest_ms": 1e3 * max(run.synced_at),
    }
