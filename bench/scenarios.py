"""Scenarios S1, S2 and S8 of the anchors protocol (§8): fan-out latency, saturation and
simultaneous joins. Each returns one JSON-able dict of figures for one server."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from bench.competitors import Server
from bench.loadgen import Run, close_all, drive, open_receivers, simultaneous_joins
from bench.procstat import CpuMeter, ProcStat

P99_LIMIT_MS = 250.0
DELIVERED_MIN_PCT = 99.9


@dataclass(frozen=True)
class Params:
    s1_clients: tuple[int, ...]
    s1_seconds: float
    drain: float
    s2_rates: tuple[float, ...]
    s2_seconds: float
    s3_docs: int
    s4_opens: int
    s5_seconds: float
    s6_clients: int
    s6_docs: int
    s6_restart: bool
    s6_wait_s: float
    s4_after_unload: bool
    s7_clients: int
    s7_seconds: float
    s2_clients: int = 100
    s2_writers: int = 4
    s3_text_bytes: int = 1024
    s4_updates: int = 10_000
    s4_text_bytes: int = 1_000_000
    s5_rate: float = 50.0
    s7_killed: int = 20
    s8_clients: int = 50

    @classmethod
    def make(cls, quick: bool) -> Params:
        if quick:
            return cls(
                s1_clients=(10, 200),
                s1_seconds=1.0,
                drain=0.5,
                s2_rates=(25.0, 50.0, 100.0, 200.0),
                s2_seconds=1.0,
                s3_docs=200,
                s4_opens=5,
                s5_seconds=2.0,
                s6_clients=40,
                s6_docs=4,
                s6_restart=False,
                s6_wait_s=2.0,
                s4_after_unload=False,
                s7_clients=40,
                s7_seconds=1.0,
            )
        return cls(
            s1_clients=(10, 50, 200, 500),
            s1_seconds=10.0,
            drain=2.0,
            s2_rates=(10.0, 25.0, 50.0, 100.0, 200.0, 400.0),
            s2_seconds=10.0,
            s3_docs=2000,
            s4_opens=30,
            s5_seconds=20.0,
            s6_clients=200,
            s6_docs=20,
            s6_restart=True,
            s6_wait_s=30.0,
            s4_after_unload=True,
            s7_clients=100,
            s7_seconds=15.0,
        )


async def settle(server: Server, within_s: float = 8.0) -> float:
    """Wait until the server is quiet (under 10 % CPU over 0.2 s: background work such as
    unloading and compaction left by the previous scenario is done); the seconds waited."""
    started = time.monotonic()
    pids = await server.cpu_pids()
    while time.monotonic() - started < within_s:
        meter = CpuMeter(pids)
        meter.start()
        await asyncio.sleep(0.2)
        if meter.stop()["cpu_pct"] < 10.0:
            break
    return time.monotonic() - started


async def s1_fanout(server: Server, p: Params) -> dict[str, Any]:
    """One document per client count; 2 writers × 10 updates/s."""
    by_clients: dict[str, Any] = {}
    for i, clients in enumerate(p.s1_clients):
        target, run = server.target(f"s1-{i}"), Run()
        tasks = await open_receivers(target, clients, run)
        try:
            meter = CpuMeter(await server.cpu_pids())
            meter.start()
            figures = await drive(target, run, clients, 2, 10.0, p.s1_seconds, p.drain)
            figures.update(meter.stop())
            figures["rss_kb"] = ProcStat(server.pid).rss_kb()
            figures["connect_errors"] = run.errors
        finally:
            await close_all(tasks)
        by_clients[str(clients)] = figures
    return {"by_clients": by_clients}


async def s2_saturation(server: Server, p: Params) -> dict[str, Any]:
    """100 receivers, 4 writers, the rate stepped up until p99 ≥ 250 ms or < 99.9 %
    delivered within the drain; the figures of the last step that passed."""
    target, run = server.target("s2-0"), Run()
    tasks = await open_receivers(target, p.s2_clients, run)
    steps: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    loadgen = ProcStat(os.getpid())
    try:
        for rate in p.s2_rates:
            meter = CpuMeter(await server.cpu_pids())
            meter.start()
            loadgen.start()
            figures: dict[str, Any] = dict(
                await drive(target, run, p.s2_clients, p.s2_writers, rate, p.s2_seconds, p.drain)
            )
            figures.update(meter.stop())
            figures["loadgen_cpu_pct"] = loadgen.stop()["cpu_pct"]
            figures["deliveries_per_core"] = figures["deliveries"] / max(figures["cpu_s"], 1e-9)
            figures["applied_updates_per_s"] = p.s2_writers * rate
            figures["passed"] = (
                figures["p99_ms"] < P99_LIMIT_MS and figures["delivered_pct"] >= DELIVERED_MIN_PCT
            )
            steps.append(figures)
            if not figures["passed"]:
                break
            best = figures
    finally:
        await close_all(tasks)
    last = steps[-1]
    limit = None
    if not last["passed"]:
        if last["cpu_pct"] >= 90:
            limit = "server (CPU 0 saturated)"
        elif last["loadgen_cpu_pct"] >= 90:
            limit = "load generator (CPU 1 saturated)"
        else:
            limit = "neither core saturated: queueing in the server or the load generator"
    elif best is not None:
        limit = "none reached (highest step passed)"
    return {
        "deliveries_per_core": best["deliveries_per_core"] if best else None,
        "max_sustained_deliveries_per_s": best["deliveries_per_s"] if best else None,
        "applied_updates_per_s": best["applied_updates_per_s"] if best else None,
        "server_cpu_pct_at_max": best["cpu_pct"] if best else None,
        "first_failing_step_limited_by": limit,
        "steps": steps,
    }


async def s8_joins(server: Server, p: Params) -> dict[str, Any]:
    """`s8_clients` connect at the same instant to a document nobody has opened yet."""
    return dict(await simultaneous_joins(server.target("s8-0"), p.s8_clients))
