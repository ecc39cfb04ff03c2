"""The product's organization limits: 1,000 teams and 10,000 labels; the next one is
refused with a clear error and nothing is created."""

from __future__ import annotations

from typing import Any, cast

import pytest

from server.errors import Unprocessable
from server.storage.base import Storage
from server.storage.organization import MAX_LABELS, MAX_TEAMS


async def _fill(storage: Storage, org_id: str, table: str, column: str, count: int) -> None:
    async with cast(Any, storage).db.transaction() as tx:
        await tx.executemany(
            f"INSERT INTO {table} (id, org_id, {column}, created_at) VALUES (?, ?, ?, 0)",
            [(f"{table}-{n}", org_id, f"{table} {n}") for n in range(count)],
        )


async def _count(storage: Storage, table: str, org_id: str) -> int:
    async with cast(Any, storage).db.transaction(readonly=True) as tx:
        row = await tx.fetchone(f"SELECT COUNT(*) FROM {table} WHERE org_id = ?", org_id)
    return int(row[0])


async def test_the_thousand_and_first_team_is_refused(storage: Storage) -> None:
    org = await storage.create_organization("Acme")
    await _fill(storage, org.id, "teams", "name", MAX_TEAMS - 1)
    await storage.create_team(org.id, "The last one", [], [], True)
    with pytest.raises(Unprocessable, match="at most 1000 teams"):
        await storage.create_team(org.id, "One too many", [], [], True)
    assert await _count(storage, "teams", org.id) == MAX_TEAMS
    other = await storage.create_organization("Other")  # the limit is per organization
    await storage.create_team(other.id, "Support", [], [], True)


async def test_the_ten_thousand_and_first_label_is_refused(storage: Storage) -> None:
    org = await storage.create_organization("Acme")
    await _fill(storage, org.id, "labels", "path", MAX_LABELS - 1)
    await storage.create_label(org.id, "last", [])
    with pytest.raises(Unprocessable, match="at most 10000 labels"):
        await storage.create_label(org.id, "one/too/many", [])
    assert await _count(storage, "labels", org.id) == MAX_LABELS
