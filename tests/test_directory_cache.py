"""The organization directory is cached per process, and every change to what it is built
from shows at once, in this process and in another one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from server.actions.directory import VERIFY_ENV, StaleDirectory, load_directory, read_directory
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage


async def _org(storage: Storage) -> tuple[str, str, str]:
    org = await storage.create_organization("Acme")
    ann = await storage.create_user("ann@acme.test", "Ann", None)
    bob = await storage.create_user("bob@acme.test", "Bob", None)
    await storage.add_membership(org.id, ann.id, "owner")
    await storage.add_membership(org.id, bob.id, "member")
    return org.id, ann.id, bob.id


async def test_an_unchanged_directory_is_served_from_the_cache(storage: Storage) -> None:
    org_id, _, _ = await _org(storage)
    first = await load_directory(storage, org_id)
    assert await load_directory(storage, org_id) is first
    assert await read_directory(storage, org_id) == first


Change = Callable[[Storage, str, str, str], Awaitable[object]]


async def _team(storage: Storage, org_id: str, ann: str, bob: str) -> str:
    teams = await storage.teams(org_id)
    if teams:
        return teams[0].id
    return (await storage.create_team(org_id, "Support", [ann], [], True)).id


async def _update_team(storage: Storage, org_id: str, ann: str, bob: str) -> None:
    await storage.update_team(await _team(storage, org_id, ann, bob), {"active": [ann, bob]})


async def _update_label(storage: Storage, org_id: str, ann: str, bob: str) -> None:
    label = await storage.create_label(org_id, "Billing", [])
    await storage.update_labels(org_id, {label.id: {"auto_share": [bob]}})


CHANGES: dict[str, Change] = {
    "role": lambda s, o, a, b: s.update_member(o, b, {"role": "admin"}),
    "handle": lambda s, o, a, b: s.update_member(o, b, {"handle": "bobby"}),
    "new member": lambda s, o, a, b: s.add_member(o, "cy@acme.test", "Cy", None, "member"),
    "removed member": lambda s, o, a, b: s.remove_member(o, b),
    "new team": _team,
    "team members": _update_team,
    "new label": lambda s, o, a, b: s.create_label(o, "Urgent", [a], None, "delegates"),
    "label auto-share": _update_label,
    "preferences": lambda s, o, a, b: s.save_preferences(b, {"time_zone": "Europe/Paris"}),
    "mention group": lambda s, o, a, b: s.set_mention_group(o, "oncall", [a, b]),
    "settings": lambda s, o, a, b: s.update_organization(o, {"multi_team_delivery": "single"}),
    "personal account": lambda s, o, a, b: s.create_account(
        o, "bob@mail.test", b, "inbox", None, []
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_every_change_to_the_directory_shows_at_once(
    storage: Storage, storage_settings: Settings, change: str
) -> None:
    org_id, ann, bob = await _org(storage)
    other = await open_storage(storage_settings)  # another process, with its own cache
    try:
        before = await load_directory(storage, org_id)
        before_there = await load_directory(other, org_id)
        await CHANGES[change](storage, org_id, ann, bob)
        after = await load_directory(storage, org_id)
        fresh = await read_directory(storage, org_id)
        assert after == fresh != before
        assert await load_directory(other, org_id) == fresh != before_there
    finally:
        await other.close()


async def test_a_write_that_bypasses_the_version_is_caught_in_tests(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net the whole suite runs with: a stale cache hit fails loudly."""
    monkeypatch.setenv(VERIFY_ENV, "1")
    org_id, _, bob = await _org(storage)
    await load_directory(storage, org_id)
    async with storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", bob)
    with pytest.raises(StaleDirectory, match=org_id):
        await load_directory(storage, org_id)
