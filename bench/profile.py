"""`python -m bench profile [--quick] [--json]`: where the document server's time goes.

Tandem (SQLite, as in `bench crdt`) is driven with S2's shape at a fixed rate below its
ceiling (100 receivers, 4 writers × 100 updates/s: 40,000 deliveries/s) while `py-spy`
samples the server process. Each sample is put in the first layer found walking from the
innermost frame outwards (`LAYERS`), so a sample inside pycrdt called from the room counts
as pycrdt; the table shows each layer's share of the samples, then the functions where
the samples were taken (self time). Needs `py-spy` (`pip install -e '.[bench]'`) and
permission to trace the server (CAP_SYS_PTRACE, or a ptrace scope of 0)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.competitors import Seed, Tandem
from bench.loadgen import Run, close_all, drive, open_receivers
from bench.procstat import CpuMeter

CLIENTS, WRITERS, RATE = 100, 4, 100.0
SAMPLES_PER_S = 200

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (  # module path prefixes
    ("pycrdt: applying and encoding updates", ("pycrdt/",)),
    ("SQLite: the update log (aiosqlite thread)", ("aiosqlite/", "sqlite3/")),
    ("websockets: framing and parsing", ("websockets/",)),
    ("uvicorn: websocket transport (socket writes)", ("uvicorn/",)),
    ("Tandem: y-websocket / Hocuspocus protocol", ("crdt/yws.py", "crdt/hocuspocus.py")),
    ("Tandem: codec", ("crdt/codec.py", "crdt/updates.py")),
    ("Tandem: room fan-out and awareness", ("crdt/room.py", "crdt/awareness.py")),
    ("Tandem: group commit", ("crdt/wal.py", "server/storage/")),
    ("Tandem: socket outbox and receive loop", ("crdt/outbox.py", "crdt/socket.py")),
    ("Tandem: other", ("crdt/", "server/")),
    ("starlette", ("starlette/",)),
    ("anyio", ("anyio/",)),
    ("asyncio event loop (uvloop)", ("asyncio/", "uvloop/")),
)
ROOT = str(Path(__file__).resolve().parent.parent) + "/"


@dataclass(frozen=True)
class Profile:
    samples: int
    layers: dict[str, int]
    functions: dict[str, int]


def layer_of(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost last in py-spy's raw format
        path = module_path(frame)
        for layer, prefixes in LAYERS:
            if path.startswith(prefixes):
                return layer
    return "other (interpreter, GC, threads)"


def module_path(frame: str) -> str:
    """`send (/…/site-packages/websockets/protocol.py:321)` → `websockets/protocol.py`."""
    path = frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib-dynload/"):
        if marker in path:
            return path.split(marker, 1)[1]
    if path.startswith(ROOT):
        return path[len(ROOT) :]
    if "/lib/python3" in path:
        return path.split("/lib/python3", 1)[1].partition("/")[2]
    return path


def parse_collapsed(text: str) -> Profile:
    """py-spy's `--format raw`: one line per distinct stack, `frame;frame;… count`."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        total += n
        layers[layer_of(frames)] += n
        functions[_short(frames[-1])] += n
    return Profile(total, dict(layers.most_common()), dict(functions.most_common(25)))


def _short(frame: str) -> str:
    name = frame.partition(" (")[0]
    path = module_path(frame)
    return f"{name} ({path})" if path else name


async def _run(quick: bool, spy: str) -> dict[str, Any]:
    seconds = 8.0 if quick else 20.0
    server = Tandem(f"p{uuid.uuid4().hex[:6]}-")
    await server.setup([Seed("s2-", 1)])
    await server.start()
    out = Path(tempfile.mkdtemp(prefix="bench-profile-")) / "stacks.txt"
    try:
        target, run = server.target("s2-0"), Run()
        tasks = await open_receivers(target, CLIENTS, run)
        try:
            spying = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(server.pid), "--rate", str(SAMPLES_PER_S),
                "--duration", str(int(seconds)), "--format", "raw", "--output", str(out),
                "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            meter = CpuMeter(await server.cpu_pids())
            meter.start()
            figures = await drive(target, run, CLIENTS, WRITERS, RATE, seconds, 1.0)
            figures.update(meter.stop())
            _, err = await spying.communicate()
            if spying.returncode != 0 or not out.exists():
                raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        finally:
            await close_all(tasks)
        profile = parse_collapsed(out.read_text())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
        await server.stop()
        await server.teardown()
    return {
        "scenario": "profile",
        "server": server.name,
        "load": f"{CLIENTS} clients, {WRITERS} writers × {RATE:g} updates/s, {seconds:g} s",
        "delivered_pct": figures["delivered_pct"],
        "p99_ms": figures["p99_ms"],
        "server_cpu_pct": figures["cpu_pct"],
        "samples": profile.samples,
        "layers_pct": {k: 100.0 * v / profile.samples for k, v in profile.layers.items()},
        "functions_pct": {k: 100.0 * v / profile.samples for k, v in profile.functions.items()},
    }


def main(quick: bool, as_json: bool) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    result = asyncio.run(_run(quick, spy))
    if as_json:
        print(orjson.dumps(result).decode(), flush=True)
        return
    print(f"{result['load']}: delivered {result['delivered_pct']:.1f} %, ", end="")
    print(f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu_pct']:.0f} %")
    print(f"\n{result['samples']} samples; by layer (innermost recognised frame):")
    for layer, pct in result["layers_pct"].items():
        print(f"  {pct:5.1f} %  {layer}")
    print("\nself time by function:")
    for function, pct in result["functions_pct"].items():
        print(f"  {pct:5.1f} %  {function}")
