"""`python -m bench <suite> [--quick] [--json]`, server pinned to CPU 0 and load generator to
CPU 1, on loopback (see bench/README.md):

- `crdt`: the document server against pycrdt-websocket, the Node y-websocket reference and
  Hocuspocus, scenarios S1–S8 (`bench.crdt`);
- `app`: the application scenarios (`bench.app`);
- `inbox`: the Inbox page and counts (`bench.inbox`);
- `profile`: where the document server's time goes under load, sampled by py-spy
  (`bench.profile`);
- `asgi`: Tandem's fan-out under each ASGI websocket implementation (below), the choice of
  ASGI server recorded in docs/performance.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.competitors import Seed, seed_tandem
from bench.loadgen import fanout, simultaneous_joins
from bench.procstat import ProcStat, wait_listening

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = ("websockets-sansio", "websockets", "wsproto")


def _start(impl: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TANDEM_DATA_DIR": str(data_dir), "SECRET_KEY": "bench"}
    env["TANDEM_LOG_LEVEL"] = "WARNING"
    command = [sys.executable, "-m", "bench.serve", impl, str(port)]
    return subprocess.Popen(["taskset", "-c", "0", *command], cwd=ROOT, env=env)


async def measure(impl: str, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        token = await seed_tandem(data_dir, "", "", [Seed("b", 8)])
        port = 18000 + IMPLEMENTATIONS.index(impl)
        server = _start(impl, data_dir, port)
        try:
            await wait_listening(port, server)
            stat = ProcStat(server.pid)
            base = f"ws://127.0.0.1:{port}/yws"
            joins = await simultaneous_joins(f"{base}/draft:b0?token={token}", 50)
            results: dict[str, Any] = {"server": f"tandem+uvicorn[{impl}]", "joins": joins}
            steps = (
                [(100, 4, 25.0), (100, 4, 50.0)]
                if quick
                else [(200, 2, 10.0), (100, 4, 25.0), (100, 4, 50.0), (100, 4, 100.0)]
            )
            for n, (clients, writers, rate) in enumerate(steps, start=1):
                stat.start()
                figures = await fanout(
                    f"{base}/draft:b{n}?token={token}", clients, writers, rate, 3 if quick else 8
                )
                figures.update(stat.stop())
                figures["deliveries_per_cpu_s"] = figures["deliveries"] / max(
                    figures["cpu_s"], 1e-9
                )
                results[f"{clients}x{writers}x{int(rate)}"] = figures
            results["rss_kb"] = stat.rss_kb()
            return results
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("suite", choices=["crdt", "app", "asgi", "inbox", "profile"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=("inbox", "users", "mail"), help="app: one scenario")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    started = time.monotonic()
    if args.suite == "crdt":
        from bench import crdt

        crdt.main(args.quick, args.json)
        return
    if args.suite == "app":
        import importlib

        importlib.import_module("bench.app").main(args.quick, args.json, args.only)
        return
    if args.suite == "profile":
        from bench import profile

        profile.main(args.quick, args.json)
        return
    if args.suite == "inbox":
        from bench import inbox

        for result in inbox.run(args.quick):
            print(orjson.dumps(result).decode(), flush=True)
        print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
        return
    for impl in IMPLEMENTATIONS:
        result = asyncio.run(measure(impl, args.quick))
        if args.json:
            print(orjson.dumps(result).decode(), flush=True)
        else:
            print(result["server"])
            for key, value in result.items():
                if isinstance(value, dict):
                    shown = ", ".join(
                        f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in value.items()
                    )
                    print(f"  {key}: {shown}")
            print(f"  rss_kb: {result['rss_kb']}", flush=True)
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
