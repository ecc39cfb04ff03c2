"""The `conv:<id>` document: how a `Conversation` is laid out in Yjs types, written with
the smallest changes (so updates stay small) and read back.

Layout: Map `conv` (scalar fields; `snooze` as a JSON value), Map `users` (one Map per
user with access), Arrays `assignees`, `labels`, `drafts` (ids), and append-mostly Arrays
`messages`, `comments`, `events`, `tasks`, `posts` of JSON objects. JSON numbers come back as
floats, so reading converts them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from pycrdt import Array, Doc, Map

from server.conversations.model import (
    Comment,
    Conversation,
    Event,
    MessageSummary,
    Post,
    ScheduledSend,
    Snooze,
    Task,
    UserState,
)

SCALARS = (
    "id",
    "org_id",
    "kind",
    "subject",
    "subject_custom",
    "status",
    "team",
    "in_team_inbox",
    "color",
    "trashed_for_everyone",
    "spam",
    "last_activity_at",
    "merged_into",
    "deleted",
)
ID_LISTS = ("assignees", "labels", "drafts")
RECORD_LISTS = ("messages", "comments", "events", "tasks", "posts", "scheduled")


def new_conversation_doc() -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.get("conv", type=Map)
    doc.get("users", type=Map)
    for key in (*ID_LISTS, *RECORD_LISTS):
        doc.get(key, type=Array)
    return doc


def write_conversation(doc: Doc[Any], conv: Conversation) -> None:
    """Make `doc` hold `conv`, touching only what differs."""
    with doc.transaction():
        fields = doc.get("conv", type=Map)
        for key in SCALARS:
            _set(fields, key, getattr(conv, key))
        _set(fields, "snooze", _plain(conv.snooze))
        _write_users(doc.get("users", type=Map), conv.users)
        for key in ID_LISTS:
            _write_ids(doc.get(key, type=Array), getattr(conv, key))
        for key in RECORD_LISTS:
            _write_records(doc.get(key, type=Array), [_plain(r) for r in getattr(conv, key)])


def read_conversation(doc: Doc[Any]) -> Conversation:
    fields = doc.get("conv", type=Map).to_py() or {}
    users = doc.get("users", type=Map).to_py() or {}
    conv = Conversation(id=str(fields["id"]), org_id=str(fields["org_id"]))
    for key in SCALARS:
        if key in fields:
            setattr(conv, key, _number(fields[key]))
    conv.snooze = _snooze(fields.get("snooze"))
    conv.users = {uid: _user(state) for uid, state in users.items()}
    for key in ID_LISTS:
        setattr(conv, key, [str(v) for v in doc.get(key, type=Array).to_py() or []])
    conv.messages = [MessageSummary(**_numbers(m)) for m in _records(doc, "messages")]
    conv.comments = [Comment(**_numbers(c)) for c in _records(doc, "comments")]
    conv.events = [Event(**_numbers(e)) for e in _records(doc, "events")]
    conv.tasks = [Task(**_numbers(t)) for t in _records(doc, "tasks")]
    conv.scheduled = [ScheduledSend(**_numbers(x)) for x in _records(doc, "scheduled")]
    conv.posts = [Post(**_numbers(p)) for p in _records(doc, "posts")]
    return conv


def _records(doc: Doc[Any], key: str) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], doc.get(key, type=Array).to_py() or [])


def _write_users(users: Map[Any], wanted: dict[str, UserState]) -> None:
    for uid in [uid for uid in users.keys() if uid not in wanted]:  # noqa: SIM118 (a Yjs Map)
        del users[uid]
    for uid, state in wanted.items():
        values = _plain(state)
        current = users.get(uid)
        if not isinstance(current, Map):
            users[uid] = Map(values)
            continue
        for key, value in values.items():
            _set(current, key, value)


def _write_ids(array: Array[Any], wanted: list[str]) -> None:
    if array.to_py() != wanted:
        array.clear()
        array.extend(wanted)


def _write_records(array: Array[Any], wanted: list[dict[str, Any]]) -> None:
    current = array.to_py() or []
    if len(current) > len(wanted) or [_numbers(c) for c in current] != wanted[: len(current)]:
        # something earlier changed (an edit, a reaction, a removal): rewrite from there
        first = next(
            (i for i, (a, b) in enumerate(zip(current, wanted, strict=False)) if _numbers(a) != b),
            min(len(current), len(wanted)),
        )
        del array[first:]
        current = current[:first]
    if len(wanted) > len(current):
        array.extend(wanted[len(current) :])


def _set(target: Map[Any], key: str, value: Any) -> None:
    if key not in target or _number(target[key]) != value:
        target[key] = value


def _plain(value: Any) -> Any:
    if value is None:
        return None
    return dataclasses.asdict(value)


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return _number(value)


def _snooze(value: Any) -> Snooze | None:
    return Snooze(**_numbers(value)) if isinstance(value, dict) else None


def _user(value: dict[str, Any]) -> UserState:
    state = _numbers(dict(value))
    state["snooze"] = _snooze(state.get("snooze"))
    return UserState(**state)
