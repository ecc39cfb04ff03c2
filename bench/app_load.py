"""Concurrent users for the application benchmark: each is one httpx client with its own
API token, looping for a fixed time over what an agent does — read the Inbox page, open a
conversation from it, run a few commands on it, refresh the unread counts.

The loop is closed (no think time): every user keeps one request in flight, so the
latencies include queueing behind the other users' requests and `commands_per_s` is the
server's throughput at that concurrency. The commands come in pairs that undo each other,
so the Inboxes keep their size over the run."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.app_seed import Member, Seeded

CYCLES: tuple[tuple[str, ...], ...] = (
    ("comment",),
    ("assign", "add_labels", "remove_labels", "unassign"),
    ("assign", "close", "reopen", "unassign"),
    ("archive", "move_to_inbox"),
)
COMMANDS = ("comment", "assign", "unassign", "add_labels", "remove_labels", "close", "reopen",
            "archive", "move_to_inbox")  # fmt: skip
READS = ("inbox", "all", "open", "counts")


@dataclass
class Tally:
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, ms: float) -> None:
        self.samples.setdefault(kind, []).append(ms)

    def fail(self, kind: str, reason: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {reason}"[:300])


def _body(name: str, member: Member, labels: list[str], rng: random.Random) -> dict[str, Any]:
    if name == "comment":
        return {"command": name, "body": f"Looking into this ({rng.randrange(10**6)})."}
    if name in ("assign", "unassign"):
        return {"command": name, "users": [member.id]}
    if name in ("add_labels", "remove_labels"):
        return {"command": name, "labels": rng.sample(labels, 2)}
    return {"command": name}


async def _request(
    client: httpx.AsyncClient, tally: Tally, kind: str, method: str, url: str, **kw: Any
) -> Any:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        tally.fail(kind, f"{type(exc).__name__}: {exc}")
        return None
    tally.add(kind, (time.perf_counter() - started) * 1e3)
    if response.status_code >= 400:
        tally.fail(kind, f"{response.status_code} {response.text}")
        return None
    return response.json()


async def _user(
    client: httpx.AsyncClient,
    member: Member,
    labels: list[str],
    deadline: float,
    turn: int,
    tally: Tally,
) -> None:
    rng = random.Random(member.id)
    while time.monotonic() < deadline:
        kind, page = "inbox", await _request(client, tally, "inbox", "GET", "/api/mailboxes/inbox")
        if page is not None and not page["conversations"]:  # archived away meanwhile
            kind, page = "all", await _request(client, tally, "all", "GET", "/api/mailboxes/all")
        if page is None or not page["conversations"]:
            if page is not None:
                tally.fail(kind, "no conversation to open")
            await asyncio.sleep(0.1)
            continue
        conv = rng.choice(page["conversations"])["id"]
        await _request(client, tally, "open", "GET", f"/api/conversations/{conv}")
        for name in CYCLES[turn % len(CYCLES)]:
            if time.monotonic() >= deadline:
                return
            body = _body(name, member, labels, rng)
            url = f"/api/conversations/{conv}/commands"
            await _request(client, tally, name, "POST", url, json=body)
        if time.monotonic() < deadline:
            await _request(client, tally, "counts", "GET", "/api/counts")
        turn += 1


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"n": len(ordered), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}


async def run_users(base_url: str, seeded: Seeded, users: int, seconds: float) -> dict[str, Any]:
    """`users` clients for `seconds` (each finishes the round it is in); the figures."""
    tally = Tally()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            headers={"authorization": f"Bearer {member.token}"},
            limits=limits,
            timeout=30.0,
            verify=False,  # plain HTTP: no CA bundle loaded 100 times
        )
        for member in seeded.members[:users]
    ]
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds + 120):
            await asyncio.gather(
                *(
                    _user(client, member, seeded.labels, started + seconds, n, tally)
                    for n, (client, member) in enumerate(zip(clients, seeded.members, strict=False))
                )
            )
    finally:
        for client in clients:
            await client.aclose()
    wall = time.monotonic() - started
    commands = sum(len(tally.samples.get(name, [])) for name in COMMANDS)
    requests = sum(len(samples) for samples in tally.samples.values())
    every = [ms for name in COMMANDS for ms in tally.samples.get(name, [])]
    return {
        "users": users,
        "wall_s": round(wall, 1),
        "commands": commands,
        "commands_per_s": round(commands / wall, 1),
        "requests_per_s": round(requests / wall, 1),
        "all_commands": percentiles(every) if every else None,
        "latency": {
            kind: percentiles(tally.samples[kind])
            for kind in (*READS, *COMMANDS)
            if tally.samples.get(kind)
        },
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "error_examples": tally.examples,
    }
