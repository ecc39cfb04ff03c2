"""Awareness ownership, identity from the server, removal on disconnect, expiry."""

from __future__ import annotations

import orjson

from crdt.awareness import AwarenessRegistry, Identity
from crdt.codec import AwarenessEntry

ALICE = Identity("u-alice", "Alice")


def test_identity_is_overwritten_by_the_authenticated_user() -> None:
    registry = AwarenessRegistry()
    forged = '{"user": {"id": "u-boss", "name": "The Boss", "color": "#f00"}, "cursor": 3}'
    accepted = registry.apply(1, ALICE, [AwarenessEntry(7, 1, forged)], now=0.0)
    state = orjson.loads(accepted[0].state)
    assert state["user"] == {"id": "u-alice", "name": "Alice", "color": "#f00"}
    assert state["cursor"] == 3


def test_another_connection_cannot_take_over_a_client_id() -> None:
    registry = AwarenessRegistry()
    registry.apply(1, ALICE, [AwarenessEntry(7, 1, "{}")], now=0.0)
    assert registry.apply(2, ALICE, [AwarenessEntry(7, 5, "null")], now=0.0) == []
    assert registry.client_ids() == [7]


def test_removing_an_owner_removes_its_clients_with_a_newer_clock() -> None:
    registry = AwarenessRegistry()
    registry.apply(1, ALICE, [AwarenessEntry(7, 4, "{}"), AwarenessEntry(8, 1, "{}")], now=0.0)
    registry.apply(2, ALICE, [AwarenessEntry(9, 1, "{}")], now=0.0)
    removed = registry.remove_owner(1)
    assert removed == [AwarenessEntry(7, 5, "null"), AwarenessEntry(8, 2, "null")]
    assert registry.client_ids() == [9]


def test_states_not_renewed_expire() -> None:
    registry = AwarenessRegistry()
    registry.apply(1, ALICE, [AwarenessEntry(7, 1, "{}")], now=0.0)
    registry.apply(1, ALICE, [AwarenessEntry(8, 1, "{}")], now=20.0)
    assert [e.client_id for e in registry.expire(older_than=10.0)] == [7]
    assert registry.client_ids() == [8]


def test_old_clocks_are_ignored_and_bad_json_is_refused() -> None:
    registry = AwarenessRegistry()
    registry.apply(1, ALICE, [AwarenessEntry(7, 3, '{"a": 1}')], now=0.0)
    assert registry.apply(1, ALICE, [AwarenessEntry(7, 2, '{"a": 2}')], now=0.0) == []
    assert registry.apply(1, ALICE, [AwarenessEntry(8, 1, "not json")], now=0.0) == []
