"""`python -m bench crdt [--quick] [--json]`: Tandem's document server against the anchors
(pycrdt-websocket, the Node y-websocket reference, Hocuspocus), scenarios S1–S8 of
shared/reference/anchors-crdt-servers.md §8, every server started here, back to back."""

from __future__ import annotations

import asyncio
import math
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.competitors import SERVERS, Server
from bench.scenarios import Params, s1_fanout, s2_saturation, s8_joins, settle
from bench.scenarios_clients import s6_storm, s7_awareness
from bench.scenarios_docs import (
    OPEN_ERRORS,
    Histories,
    open_once,
    s3_idle,
    s4_cold_load,
    s5_kill9,
    seeds,
)

Scenario = Callable[[Server], Awaitable[dict[str, Any]]]


def plan(p: Params, histories: Histories, server: Server) -> list[tuple[str, Scenario]]:
    """Scenarios in running order: the fresh-room joins first, RSS on a quiet server next,
    the kill -9 and the large documents (whose unloading keeps Tandem busy) last."""
    steps: list[tuple[str, Scenario]] = [
        ("S8", lambda s: s8_joins(s, p)),
        ("S3", lambda s: s3_idle(s, p)),
        ("S1", lambda s: s1_fanout(s, p)),
        ("S2", lambda s: s2_saturation(s, p)),
        ("S7", lambda s: s7_awareness(s, p)),
        ("S6", lambda s: s6_storm(s, p)),
    ]
    if p.s6_restart and server.persistent:
        steps.append(("S6-restart", lambda s: s6_storm(s, p, restart=True)))
    steps.append(("S5", lambda s: s5_kill9(s, p)))
    steps.append(("S4", lambda s: s4_cold_load(s, p, histories)))
    if server.scenarios is not None:
        steps = [step for step in steps if step[0] in server.scenarios]
    return steps


async def run_server(
    server: Server, p: Params, histories: Histories, emit: Callable[[dict[str, Any]], None]
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    base = {"server": server.name, "description": server.description}
    try:
        wanted = [
            seed
            for seed in seeds(p, histories)
            if server.scenarios is None
            or seed.prefix == "probe-"
            or seed.prefix[:2].upper() in server.scenarios
        ]
        await server.setup(wanted if server.persistent else [])
        await server.start()
        for scenario, run in plan(p, histories, server):
            quiet_after = await settle(server)
            restarted = None
            if not await accepts_clients(server):  # wedged, though its process lives on
                restarted = "it stopped accepting clients: restarted before this scenario"
                await server.stop()
                await server.start()
            started = time.monotonic()
            try:
                async with asyncio.timeout(600):
                    figures = await run(server)
            except Exception as exc:  # one failing scenario must not end the run
                figures = {"result": None, "reason": f"failed: {exc!r}"[:300]}
            figures["seconds"] = time.monotonic() - started
            figures["settled_s"] = quiet_after
            if restarted:
                figures["restarted"] = restarted
            result = {"scenario": scenario, **base, **figures}
            results.append(result)
            emit(result)
            if server.proc is not None and server.proc.poll() is not None:
                await server.start()  # it died: the next scenario gets a fresh one
    except Exception as exc:
        result = {"scenario": "start", **base, "result": None, "reason": repr(exc)[:300]}
        results.append(result)
        emit(result)
    finally:
        await server.stop()
        await server.teardown()
    return results


async def accepts_clients(server: Server) -> bool:
    """Does a client get its SyncStep2 within 10 s (on a document no scenario uses)?"""
    try:
        async with asyncio.timeout(10):
            await open_once(server, "probe-0")
    except (*OPEN_ERRORS, TimeoutError):
        return False
    return True


def _get(results: list[dict[str, Any]], server: str, scenario: str) -> dict[str, Any]:
    for result in results:
        if result["server"] == server and result["scenario"] == scenario:
            return result
    return {}


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def summary(results: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    per_core = {n: _number(_get(results, n, "S2").get("deliveries_per_core")) for n in names}
    mine = per_core.get("tandem")
    ratio = {
        n: (mine / value if mine is not None and value else None)
        for n, value in per_core.items()
        if n != "tandem"
    }

    def by_server(scenario: str, pick: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        out = {}
        for n in names:
            result = _get(results, n, scenario)
            out[n] = pick(result) if result and result.get("result", 0) is not None else None
        return out

    p99_200 = by_server("S1", lambda r: _number(r["by_clients"].get("200", {}).get("p99_ms")))
    acked_lost = by_server("S5", lambda r: r.get("acked_lost"))
    duplicated = by_server("S6", lambda r: r.get("duplicated"))
    ghosts = by_server("S7", lambda r: r.get("ghosts_after_2s"))
    joins = by_server("S8", lambda r: r.get("synced_within_1s"))
    rss = by_server("S3", lambda r: _number(r.get("rss_kb_per_doc_marginal")))
    return {
        "deliveries_per_core": per_core,
        "ratio_vs": ratio,
        "p99_ms_200_clients": p99_200.get("tandem"),
        "acked_lost_kill9": acked_lost.get("tandem"),
        "duplicated_after_storm": duplicated.get("tandem"),
        "ghosts_after_2s": ghosts.get("tandem"),
        "joins_synced_within_1s": joins.get("tandem"),
        "rss_kb_per_idle_doc": rss.get("tandem"),
        "by_server": {
            "p99_ms_200_clients": p99_200,
            "acked_lost_kill9": acked_lost,
            "duplicated_after_storm": duplicated,
            "ghosts_after_2s": ghosts,
            "joins_synced_within_1s": joins,
            "rss_kb_per_idle_doc": rss,
        },
    }


def _short(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.1f}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def table_line(result: dict[str, Any]) -> str:
    shown = []
    for key, value in result.items():
        if key in ("scenario", "server", "description"):
            continue
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k}: " + " ".join(f"{kk}={_short(vv)}" for kk, vv in v.items() if kk in KEYS)
                if isinstance(v, dict)
                else f"{k}={_short(v)}"
                for k, v in value.items()
            )
            shown.append(f"{key}[{inner}]")
        elif isinstance(value, list):
            steps = " | ".join(
                " ".join(f"{k}={_short(v)}" for k, v in step.items() if k in KEYS) for step in value
            )
            shown.append(f"{key}[{steps}]")
        else:
            shown.append(f"{key}={_short(value)}")
    return f"{result['scenario']:<10} {result['server']:<19} " + " ".join(shown)


KEYS = frozenset(
    {
        "rate_per_writer",
        "demanded_per_s",
        "delivered_pct",
        "p50_ms",
        "p99_ms",
        "cpu_pct",
        "deliveries_per_core",
        "loadgen_cpu_pct",
        "passed",
        "cold",
        "step2_kb",
    }
)


async def run_all(quick: bool, as_json: bool) -> None:
    p = Params.make(quick)
    histories = Histories.make(p)
    run_id = secrets.token_hex(3)
    results: list[dict[str, Any]] = []

    def emit(result: dict[str, Any]) -> None:
        if as_json:
            print(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY).decode(), flush=True)
        else:
            print(table_line(result), flush=True)

    names = []
    for server_class in SERVERS:
        server = server_class(run_id)
        names.append(server.name)
        results += await run_server(server, p, histories, emit)
    total = summary(results, names)
    if as_json:
        print(orjson.dumps({"summary": total}).decode(), flush=True)
    else:
        print("\nsummary")
        for key, value in total.items():
            if key != "by_server":
                print(f"  {key}: {value}")
        for key, value in total["by_server"].items():
            print(f"  {key} by server: {value}")


def main(quick: bool, as_json: bool) -> None:
    started = time.monotonic()
    asyncio.run(run_all(quick, as_json))
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
