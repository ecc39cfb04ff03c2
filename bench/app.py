"""`python -m bench app [--quick] [--json]`: the application scenarios of the benchmark issue.

1. Inbox page (50 rows) and unread counts for one user in an organization of 200,000
   conversations, on SQLite and PostgreSQL (`bench.inbox`: bulk-loaded index rows).
2. 100 concurrent users performing commands against a real server process pinned to CPU 0
   (this process on CPU 1), on SQLite and on PostgreSQL + Redis (`bench.app_users`).
3. Mail in full: `tandem import` of a realistic 10,000-message mbox, and the messages of a
   400-message conversation read page by page from a real server (`bench.app_mail`).

With `--json`: one object per scenario and backend, the last line `{"summary": {...}}`.
`python -m bench.app [--quick] [--json] [--only inbox|users|mail]` runs one scenario."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

import orjson

from bench import app_mail, app_users, inbox

BACKENDS = ("sqlite", "postgres")
USERS = 100


Run = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


def _guarded(scenario: str, backend: str, run: Run) -> dict[str, Any]:
    """The scenario's figures, or a line saying why there are none (a service down, say)."""
    try:
        return asyncio.run(run())
    except Exception as exc:
        traceback.print_exc()
        return {"scenario": scenario, "backend": backend, "failed": f"{type(exc).__name__}: {exc}"}


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 2) for key, value in figures.items()}


def _inbox(backend: str, quick: bool) -> dict[str, Any]:
    result = _guarded(
        "inbox", backend, lambda: inbox.measure(backend, 200_000, 50 if quick else 200)
    )
    for key in ("inbox_page", "all_next_page", "counts"):
        if key in result:
            result[key] = _rounded(result[key])
    return result


def _users(backend: str, quick: bool) -> dict[str, Any]:
    conversations, seconds = (1_500, 15.0) if quick else (4_000, 60.0)
    return _guarded(
        "concurrent_users",
        backend,
        lambda: app_users.measure(backend, USERS, conversations, seconds),
    )


def _mail(quick: bool, as_json: bool) -> list[dict[str, Any]]:
    results = []
    with app_mail.written(quick) as corpus:
        for backend in BACKENDS:
            run = functools.partial(app_mail.measure, backend, corpus)
            results.append(result := _guarded("mail", backend, run))
            _emit(result, as_json, app_mail.print_result)
    return results


def _per_backend(results: list[dict[str, Any]], path: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for result in results:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out[result["backend"]] = value
    return out


def summary(
    inboxes: list[dict[str, Any]], users: list[dict[str, Any]], mails: list[dict[str, Any]]
) -> dict[str, Any]:
    page_p99_pg = _per_backend(inboxes, ("inbox_page", "p99_ms")).get("postgres")
    return {
        "inbox_conversations": 200_000,
        "inbox_p50_ms": _per_backend(inboxes, ("inbox_page", "p50_ms")),
        "inbox_p99_ms": _per_backend(inboxes, ("inbox_page", "p99_ms")),
        "counts_p50_ms": _per_backend(inboxes, ("counts", "p50_ms")),
        "counts_p99_ms": _per_backend(inboxes, ("counts", "p99_ms")),
        "inbox_p99_under_20ms_postgres": page_p99_pg is not None and page_p99_pg < 20.0,
        "concurrent_users": USERS,
        "commands_per_s": _per_backend(users, ("commands_per_s",)),
        "command_p50_ms": _per_backend(users, ("all_commands", "p50_ms")),
        "command_p99_ms": _per_backend(users, ("all_commands", "p99_ms")),
        "command_errors": {
            r["backend"]: r["errors"] + r["one_user"]["errors"] for r in users if "errors" in r
        },
        "one_user_command_p50_ms": _per_backend(users, ("one_user", "all_commands", "p50_ms")),
        "one_user_command_p99_ms": _per_backend(users, ("one_user", "all_commands", "p99_ms")),
        "server_cpu_s": _per_backend(users, ("server_cpu_s",)),
        "server_rss_kb": _per_backend(users, ("server_rss_kb",)),
        "import_messages": _per_backend(mails, ("import", "messages")),
        "import_messages_per_s": _per_backend(mails, ("import", "messages_per_s")),
        "import_counts": {
            r["backend"]: {k: r["import"][k] for k in ("imported", "duplicates", "rejected")}
            for r in mails
            if "import" in r
        },
        "import_unaccounted": _per_backend(mails, ("import", "unaccounted")),
        "messages_page_p50_ms": _per_backend(mails, ("messages_page", "first_page_50", "p50_ms")),
        "messages_page_p99_ms": _per_backend(mails, ("messages_page", "first_page_50", "p99_ms")),
        "messages_page_200_p99_ms": _per_backend(mails, ("messages_page", "page_200", "p99_ms")),
        "failed": [
            f"{r['scenario']}/{r['backend']}" for r in inboxes + users + mails if "failed" in r
        ],
    }


def _print_inbox(result: dict[str, Any]) -> None:
    if "failed" in result:
        print(f"inbox {result['backend']}: FAILED {result['failed']}")
        return
    cells = "  ".join(
        f"{label} {result[key]['p50_ms']:.1f}/{result[key]['p99_ms']:.1f}"
        for label, key in (("page", "inbox_page"), ("next", "all_next_page"), ("counts", "counts"))
    )
    print(
        f"inbox {result['backend']:<8} {result['conversations']:>7} conversations  "
        f"p50/p99 ms: {cells}  (loaded in {result['load_s']} s)"
    )


def _print_users(result: dict[str, Any]) -> None:
    name = result["backend"] + ("+redis" if result.get("redis") else "")
    if "failed" in result:
        print(f"{USERS} users {name}: FAILED {result['failed']}")
        return
    print(
        f"{result['users']} users on {name}, {result['conversations']} conversations, "
        f"{result['wall_s']} s: {result['commands_per_s']} commands/s, "
        f"{result['requests_per_s']} requests/s, errors {result['errors']}, server CPU "
        f"{result['server_cpu_s']} s ({result['server_cpu_pct']} %), "
        f"RSS {result['server_rss_kb']} KB"
    )
    print(f"  {'kind':<14}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, figures in result["latency"].items():
        print(f"  {kind:<14}{figures['n']:>7}{figures['p50_ms']:>10.1f}{figures['p99_ms']:>10.1f}")
    solo = result["one_user"]
    if solo["all_commands"]:
        print(
            f"  one user alone: {solo['commands_per_s']} commands/s, p50/p99 ms "
            f"{solo['all_commands']['p50_ms']}/{solo['all_commands']['p99_ms']}, "
            f"errors {solo['errors']}"
        )
    for example in result["error_examples"] + solo["error_examples"]:
        print(f"  error: {example}")


def _emit(result: dict[str, Any], as_json: bool, table: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        print(orjson.dumps(result).decode())
    else:
        table(result)
    sys.stdout.flush()


def main(quick: bool, as_json: bool, only: str | None = None) -> None:
    os.sched_setaffinity(0, {1})  # the server under test gets CPU 0
    started = time.monotonic()
    inboxes, users, mails = [], [], []
    for backend in BACKENDS if only in (None, "inbox") else ():
        inboxes.append(result := _inbox(backend, quick))
        _emit(result, as_json, _print_inbox)
    for backend in BACKENDS if only in (None, "users") else ():
        users.append(result := _users(backend, quick))
        _emit(result, as_json, _print_users)
    if only in (None, "mail"):
        mails = _mail(quick, as_json)
    final = summary(inboxes, users, mails)
    if as_json:
        print(orjson.dumps({"summary": final}).decode(), flush=True)
    else:
        print("summary: " + orjson.dumps(final).decode(), flush=True)
    print(f"(app suite: {time.monotonic() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.app")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=("inbox", "users", "mail"))
    args = parser.parse_args()
    main(args.quick, args.json, args.only)
