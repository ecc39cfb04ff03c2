"""The storage interface on both backends: accounts, the update log, compaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt.compaction import CompactionRefused, merge_with_doc
from server.errors import Conflict
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.migrations import latest_version


async def test_migrations_are_versioned_and_idempotent(storage: Storage) -> None:
    assert await storage.migrate() == []
    assert await storage.schema_version() == latest_version(storage.backend) >= 1


async def test_accounts_and_unique_fields_are_named(storage: Storage) -> None:
    org = await storage.create_organization("Acme")
    with pytest.raises(Conflict) as duplicate_org:
        await storage.create_organization("Acme")
    assert duplicate_org.value.field == "name"
    user = await storage.create_user("Alice@Acme.test", "Alice", "hash")
    assert user.email == "alice@acme.test"
    with pytest.raises(Conflict) as duplicate_user:
        await storage.create_user("ALICE@acme.test", "Other", None)
    assert duplicate_user.value.field == "email"
    assert await storage.get_user_by_email(" alice@ACME.test ") == user
    await storage.add_membership(org.id, user.id, "admin")
    [membership] = await storage.memberships_for_user(user.id)
    assert (membership.org_id, membership.role) == (org.id, "admin")
    await storage.create_api_token(user.id, "token-hash", "ci")
    assert await storage.user_for_token_hash("token-hash") == user
    assert await storage.user_for_token_hash("other") is None


async def test_sessions_expire_and_can_be_deleted(storage: Storage) -> None:
    user = await storage.create_user("a@b.test", "A", None)
    await storage.create_session(user.id, "live", expires_at=2_000)
    await storage.create_session(user.id, "old", expires_at=500)
    assert await storage.user_for_session_hash("live", now=1_000) == user
    assert await storage.user_for_session_hash("old", now=1_000) is None
    await storage.delete_session("live")
    assert await storage.user_for_session_hash("live", now=1_000) is None


def _text_updates(edits: list[tuple[str, int, str]]) -> tuple[list[bytes], str]:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for op, position, value in edits:
        at = position % (len(text) + 1)
        if op == "insert" or len(text) == 0:
            text.insert(at, value)
        else:
            start = at % len(text)
            del text[start : min(len(text), start + len(value))]
    return updates, str(text)


def _reload(state: Any) -> str:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    if state.snapshot is not None:
        doc.apply_update(state.snapshot)
    for _, update in state.updates:
        doc.apply_update(update)
    return str(text)


async def test_log_appends_in_order_across_documents_in_one_batch(storage: Storage) -> None:
    await storage.create_document("draft:a", "draft", None, None, b"\x00\x00")
    await storage.create_document("draft:b", "draft", None, None, None)
    seqs = await storage.append_updates(
        [("draft:a", b"a2"), ("draft:b", b"b1"), ("draft:gone", b"x"), ("draft:a", b"a3")]
    )
    assert seqs == [2, 1, 0, 3]  # a document that does not exist is not resurrected
    assert await storage.latest_seqs(["draft:a", "draft:b", "draft:gone"]) == {
        "draft:a": 3,
        "draft:b": 1,
    }
    assert await storage.get_document("draft:gone") is None
    state = await storage.load_document("draft:a")
    assert [seq for seq, _ in state.updates] == [1, 2, 3]


edits = st.lists(
    st.tuples(
        st.sampled_from(["insert", "delete"]),
        st.integers(0, 200),
        st.text(alphabet="abcdefgh ", min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edits, cuts=st.lists(st.integers(0, 40), max_size=3))
def test_random_edits_persist_compact_and_reload_identically(
    tmp_path_factory: pytest.TempPathFactory,
    edits: list[tuple[str, int, str]],
    cuts: list[int],
) -> None:
    from server.settings import Settings

    updates, expected = _text_updates(edits)

    async def scenario() -> None:
        path = tmp_path_factory.mktemp("prop")
        store = await open_storage(Settings(data_dir=path, secret_key="x"))
        await store.migrate()
        try:
            await store.create_document("draft:p", "draft", None, None, None)
            done = 0
            for cut in sorted({min(c, len(updates)) for c in cuts} | {len(updates)}):
                for update in updates[done:cut]:
                    await store.append_updates([("draft:p", update)])
                done = cut
                await store.compact_document("draft:p", merge_with_doc)
                assert _reload(await store.load_document("draft:p")) == str(_partial(updates[:cut]))
            assert _reload(await store.load_document("draft:p")) == expected
            assert await store.log_size("draft:p") == (0, 0)
        finally:
            await store.close()

    asyncio.run(scenario())


def _partial(updates: list[bytes]) -> str:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    for update in updates:
        doc.apply_update(update)
    return str(text)


async def test_compaction_on_postgres_and_sqlite_keeps_concurrent_appends(
    storage: Storage,
) -> None:
    updates, expected = _text_updates([("insert", i, f"w{i} ") for i in range(120)])
    await storage.create_document("draft:c", "draft", None, None, None)
    for update in updates[:60]:
        await storage.append_updates([("draft:c", update)])

    async def keep_appending() -> None:
        for update in updates[60:]:
            await storage.append_updates([("draft:c", update)])

    await asyncio.gather(keep_appending(), storage.compact_document("draft:c", merge_with_doc))
    state = await storage.load_document("draft:c")
    assert _reload(state) == expected
    since = await storage.read_updates_since("draft:c", state.snapshot_seq)
    assert since.snapshot is None and since.updates == state.updates
    before = await storage.read_updates_since("draft:c", 0)
    assert before.snapshot is not None or before.updates[0][0] == 1


def test_compaction_refuses_to_drop_updates_waiting_for_dependencies() -> None:
    updates, _ = _text_updates([("insert", 0, "first"), ("insert", 5, " second")])
    with pytest.raises(CompactionRefused):
        merge_with_doc(None, [updates[1]])


async def test_drafts_and_their_documents_are_created_and_deleted_together(
    storage: Storage,
) -> None:
    org = await storage.create_organization("Acme")
    user = await storage.create_user("a@b.test", "A", None)
    draft = await storage.create_draft("d1", org.id, user.id, "Hello", b"\x00\x00")
    assert await storage.get_draft("d1") == draft
    state = await storage.load_document("draft:d1")
    assert [seq for seq, _ in state.updates] == [1]
    with pytest.raises(Conflict):
        await storage.create_draft("d1", org.id, user.id, "again", b"\x00\x00")
    await storage.append_updates([("draft:d1", b"\x00\x00")])
    await storage.compact_document("draft:d1", merge_with_doc)
    assert await storage.delete_draft("d1") is True
    assert await storage.get_document("draft:d1") is None
    assert (await storage.load_document("draft:d1")).snapshot is None
    assert await storage.delete_draft("d1") is False
