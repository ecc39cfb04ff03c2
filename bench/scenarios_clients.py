"""Scenarios S6 and S7 of the anchors protocol (§8), with clients that keep state: a
reconnect storm of CRDT clients (content equality, no duplicated text) and awareness
fan-out with ghost cursors after abrupt disconnects."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from typing import Any

import websockets
from pycrdt import Doc, Text, TransactionEvent

from bench.competitors import Server
from bench.loadgen import (
    EMPTY_STEP1,
    EMPTY_STEP2,
    MARKER,
    Conn,
    Target,
    connect,
    percentile,
    sync_kind,
    sync_payload,
)
from bench.procstat import CpuMeter
from bench.scenarios import Params
from crdt import codec

SOCKET_ERRORS = (OSError, TimeoutError, websockets.WebSocketException)


class DocClient:
    """A y-websocket client with a real `Doc`: syncs both ways on every (re)connection, so
    what it wrote offline reaches the server in its SyncStep2."""

    def __init__(self, target: Target, client_id: int) -> None:
        self.target = target
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.text = self.doc.get("t", type=Text)
        self.conn: Conn | None = None
        self.synced = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._pending: list[bytes] = []
        self._remote = False
        self.doc.observe(self._observe)

    def _observe(self, event: TransactionEvent) -> None:
        if not self._remote:
            self._pending.append(event.update)

    async def connect(self) -> None:
        self.synced.clear()
        self._pending.clear()  # the SyncStep2 answering the server's state vector has them
        conn = await connect(self.target)
        self.conn = conn
        await conn.send(codec.sync_step1(self.doc.get_state()))
        self._reader = asyncio.create_task(self._read(conn))

    async def _read(self, conn: Conn) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = await conn.recv()
                kind = sync_kind(message)
                if kind == 0:
                    await conn.send(codec.sync_step2(self.doc.get_update(sync_payload(message))))
                elif kind in (1, 2):
                    self._remote = True
                    try:
                        self.doc.apply_update(sync_payload(message))
                    finally:
                        self._remote = False
                    if kind == 1:
                        self.synced.set()

    async def write(self, value: str) -> None:
        self.text.insert(len(self.text), value)
        updates, self._pending = self._pending, []
        if self.conn is not None:
            try:
                for update in updates:
                    await self.conn.send(codec.sync_update(update))
            except websockets.ConnectionClosed:
                pass  # offline now: the next handshake carries it

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.abort()
            self.conn = None
        if self._reader is not None:
            self._reader.cancel()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


def _check(groups: list[list[DocClient]], expected: list[set[bytes]]) -> dict[str, Any]:
    equal = duplicated = missing = 0
    for clients, markers in zip(groups, expected, strict=True):
        texts = [str(client.text) for client in clients]
        equal += len(set(texts)) == 1
        for text in texts:
            counts = Counter(m.group(0) for m in MARKER.finditer(text.encode()))
            duplicated += sum(1 for n in counts.values() if n > 1)
            missing += len(markers - counts.keys())
    return {"docs_equal": equal, "duplicated_markers": duplicated, "missing_markers": missing}


async def _converged(
    groups: list[list[DocClient]], expected: list[set[bytes]], within_s: float
) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        check = _check(groups, expected)
        if check["docs_equal"] == len(groups) and check["missing_markers"] == 0:
            return True
        await asyncio.sleep(0.1)
    return False


async def s6_storm(server: Server, p: Params, restart: bool = False) -> dict[str, Any]:
    """`s6_clients` clients on `s6_docs` documents drop at once (or the server is killed
    and restarted) and reconnect within 1 s with their local state, writing all along."""
    prefix = "s6r-" if restart else "s6-"
    per_doc = p.s6_clients // p.s6_docs
    groups = [
        [DocClient(server.target(f"{prefix}{d}"), 1000 + d * per_doc + i) for i in range(per_doc)]
        for d in range(p.s6_docs)
    ]
    clients = [client for group in groups for client in group]
    expected: list[set[bytes]] = [set() for _ in groups]

    async def write_all(round_: int) -> None:
        for d, group in enumerate(groups):
            for client in group:
                marker = f"<{client.doc.client_id}:{round_}>"
                expected[d].add(marker.encode())
                await client.write(marker)

    try:
        # the first client of each document syncs before the others join (pycrdt-websocket's
        # join race is S8's business)
        await asyncio.gather(*(group[0].connect() for group in groups))
        await _wait_synced([group[0] for group in groups], p.s6_wait_s)
        await asyncio.gather(*(client.connect() for group in groups for client in group[1:]))
        await _wait_synced(clients, p.s6_wait_s)
        await write_all(0)
        settled = await _converged(groups, expected, p.s6_wait_s)
        meter = CpuMeter(await server.cpu_pids())
        meter.start()
        if restart:
            await server.kill9()
        for client in clients:
            client.drop()
        await write_all(1)  # offline edits
        started = time.monotonic()
        if restart:
            await server.start()
            meter = CpuMeter([*await server.cpu_pids()])
            meter.start()
        rnd = random.Random(6)

        async def come_back(client: DocClient) -> None:
            await asyncio.sleep(rnd.uniform(0.0, 1.0))
            for _ in range(20):
                try:
                    await client.connect()
                    return
                except SOCKET_ERRORS:
                    await asyncio.sleep(0.2)

        await asyncio.gather(*(come_back(client) for client in clients))
        await write_all(2)  # live edits while the others are still syncing
        all_synced = await _wait_synced(clients, p.s6_wait_s)
        converged = await _converged(groups, expected, p.s6_wait_s)
        seconds = time.monotonic() - started
        cpu = meter.stop()
        result: dict[str, Any] = {
            "clients": len(clients),
            "documents": len(groups),
            "server_restarted": restart,
            "settled_before": settled,
            "all_synced": all_synced,
            "converged": converged,
            "seconds_to_converge": seconds if converged else None,
            **_check(groups, expected),
            "cpu_pct": cpu["cpu_pct"],
        }
        result["duplicated"] = result["duplicated_markers"] > 0
        return result
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


async def _wait_synced(clients: list[DocClient], within_s: float) -> bool:
    try:
        await asyncio.wait_for(asyncio.gather(*(c.synced.wait() for c in clients)), within_s)
        return True
    except TimeoutError:
        return False


class Presence:
    """A raw client that announces a cursor in awareness and keeps every state it hears."""

    def __init__(self, client_id: int, sent: dict[tuple[int, int], float], lat: list[float]):
        self.client_id = client_id
        self.clock = 0
        self.states: dict[int, str] = {}
        self.conn: Conn | None = None
        self.synced = asyncio.Event()
        self._sent = sent
        self._latencies = lat
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, target: Target) -> None:
        self.conn = await connect(target)
        await self.conn.send(EMPTY_STEP1)
        self._reader = asyncio.create_task(self._read(self.conn))

    async def _read(self, conn: Conn) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = await conn.recv()
                kind = sync_kind(message)
                if kind == 0:
                    await conn.send(EMPTY_STEP2)
                elif kind == 1:
                    self.synced.set()
                elif message[:1] == b"\x01":
                    now = time.monotonic()
                    payload = codec.Decoder(message, 1).read_var_bytes()
                    for entry in codec.decode_awareness(payload):
                        self.states[entry.client_id] = entry.state
                        sent = self._sent.get((entry.client_id, entry.clock))
                        mine = entry.client_id == self.client_id
                        if sent is not None and not mine and entry.state != "null":
                            self._latencies.append(now - sent)

    async def announce(self) -> None:
        assert self.conn is not None
        self.clock += 1
        state = json.dumps({"cursor": {"anchor": self.clock, "head": self.clock}})
        entry = codec.AwarenessEntry(self.client_id, self.clock, state)
        self._sent[(self.client_id, self.clock)] = time.monotonic()
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.conn.send(codec.awareness_message(codec.encode_awareness([entry])))

    def kill(self) -> None:
        if self.conn is not None:
            self.conn.abort()
        if self._reader is not None:
            self._reader.cancel()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.conn is not None:
            await self.conn.close()

    def sees(self, client_id: int) -> bool:
        return self.states.get(client_id, "null") != "null"


async def s7_awareness(server: Server, p: Params) -> dict[str, Any]:
    """`s7_clients` clients send a cursor at 2 Hz; then `s7_killed` sockets die abruptly
    (no null state sent): how many of those ids do the others still see 2 s later?"""
    target = server.target("s7-0")
    sent: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    clients = [Presence(5000 + i, sent, latencies) for i in range(p.s7_clients)]
    try:
        await clients[0].connect(target)  # the room exists before the others join (see S8)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(clients[0].synced.wait(), 5.0)
        await asyncio.gather(*(client.connect(target) for client in clients[1:]))
        await asyncio.sleep(0.3)
        meter = CpuMeter(await server.cpu_pids())
        meter.start()
        rnd = random.Random(7)

        async def cursor(client: Presence) -> None:
            await asyncio.sleep(rnd.uniform(0.0, 0.5))
            for _ in range(int(2 * p.s7_seconds)):
                await client.announce()
                await asyncio.sleep(0.5)

        await asyncio.gather(*(cursor(client) for client in clients))
        await asyncio.sleep(0.5)
        cpu = meter.stop()
        expected = len(sent) * (len(clients) - 1)
        delivered = list(latencies)
        killed, remaining = clients[: p.s7_killed], clients[p.s7_killed :]
        seen_before = sum(1 for c in killed for r in remaining if r.sees(c.client_id))
        for client in killed:
            client.kill()
        await asyncio.sleep(2.0)
        ghost_ids = [c.client_id for c in killed if any(r.sees(c.client_id) for r in remaining)]
        ghost_views = sum(1 for c in killed for r in remaining if r.sees(c.client_id))
        return {
            "clients": len(clients),
            "awareness_updates": len(sent),
            "delivered_pct": 100.0 * len(delivered) / expected if expected else 0.0,
            "p50_ms": 1e3 * percentile(delivered, 0.5),
            "p99_ms": 1e3 * percentile(delivered, 0.99),
            "cpu_pct": cpu["cpu_pct"],
            "killed": len(killed),
            "killed_visible_before": seen_before,
            "ghosts_after_2s": len(ghost_ids),
            "ghost_views_after_2s": ghost_views,
        }
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
