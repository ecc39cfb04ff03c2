"""The storage interface on both backends: accounts, the update log, compaction."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt.compaction import CompactionRefused, merge_with_doc
from crdt.store import StoredState
from server.errors import Conflict
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.migrations import latest_version, migrations_for
from tests.fixtures.storage import fresh_postgres_database


async def _row(storage: Storage, sql: str, *args: Any) -> tuple[Any, ...] | None:
    """Look under the interface (tests of the storage layer itself only)."""
    async with cast(Any, storage).db.transaction(readonly=True) as tx:
        return cast("tuple[Any, ...] | None", await tx.fetchone(sql, *args))


async def test_migrations_are_versioned_and_idempotent(storage: Storage) -> None:
    assert await storage.migrate() == []
    assert await storage.schema_version() == latest_version(storage.backend) >= 1
    assert await _row(storage, "SELECT COUNT(*) FROM schema_migrations") == (
        len(migrations_for(storage.backend)),
    )


async def test_a_skipped_migration_reads_as_an_outdated_schema(storage: Storage) -> None:
    """Migrations landing out of order (0007 after 0010) must still make web processes ask
    for `tandem migrate`: the version is the last one with every file before it applied."""
    versions = [m.version for m in migrations_for(storage.backend)]
    skipped = versions[len(versions) // 2]
    db = cast(Any, storage).db
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM schema_migrations WHERE version = ?", skipped)
    try:
        assert await storage.schema_version() == versions[versions.index(skipped) - 1]
        assert await storage.schema_version() < latest_version(storage.backend)
    finally:  # the database is shared with later tests: put the record back
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", skipped
            )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_concurrent_migrations_apply_each_version_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async def race(settings: Settings) -> None:
        stores = [await open_storage(settings) for _ in range(3)]
        try:
            assert await stores[0].schema_version() == 0
            results = await asyncio.gather(*(store.migrate() for store in stores))
            assert sorted(v for applied in results for v in applied) == [
                m.version for m in migrations_for(backend)
            ]
            assert await stores[1].schema_version() == latest_version(backend)
        finally:
            for store in stores:
                await store.close()

    if backend == "sqlite":
        await race(Settings(data_dir=tmp_path / "fresh", secret_key="x"))
        return
    async with fresh_postgres_database(request.getfixturevalue("postgres_url")) as url:
        await race(Settings(database_url=url, secret_key="x"))


async def test_sqlite_is_durable_and_checks_foreign_keys(tmp_path: Path) -> None:
    store = await open_storage(Settings(data_dir=tmp_path / "new" / "dir", secret_key="x"))
    try:
        await store.migrate()
        assert await _row(store, "PRAGMA journal_mode") == ("wal",)
        assert await _row(store, "PRAGMA synchronous") == (2,)  # FULL
        assert await _row(store, "PRAGMA foreign_keys") == (1,)
        with pytest.raises(sqlite3.IntegrityError):
            await store.add_membership("no-org", "no-user", "member")
    finally:
        await store.close()


async def test_sqlite_recovers_from_a_transaction_cancelled_while_the_database_is_busy(
    tmp_path: Path,
) -> None:
    store = await open_storage(Settings(data_dir=tmp_path, secret_key="x"))
    try:
        await store.migrate()
        other = sqlite3.connect(tmp_path / "tandem.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        waiting = asyncio.create_task(store.create_organization("Waits"))
        await asyncio.sleep(0.2)  # its BEGIN IMMEDIATE is now queued on the connection
        waiting.cancel()
        other.execute("ROLLBACK")  # the cancelled BEGIN now goes through, after all
        other.close()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert (await store.create_organization("Next")).name == "Next"
        assert [org.name for org in await store.list_organizations()] == ["Next"]
    finally:
        await store.close()


async def test_organizations_and_users(storage: Storage) -> None:
    await storage.ping()
    org = await storage.create_organization("Acme")
    with pytest.raises(Conflict) as duplicate_org:
        await storage.create_organization("Acme")
    assert duplicate_org.value.field == "name"
    beta = await storage.create_organization("Beta")
    assert await storage.get_organization(org.id) == org
    assert await storage.get_organization_by_name("Beta") == beta
    assert await storage.get_organization("missing") is None
    assert await storage.list_organizations() == [org, beta]

    assert await storage.count_users() == 0
    user = await storage.create_user("Alice@Acme.test", "Alice", None)
    assert user.email == "alice@acme.test"
    with pytest.raises(Conflict) as duplicate_user:
        await storage.create_user("ALICE@acme.test", "Other", None)
    assert duplicate_user.value.field == "email"
    assert await storage.get_user_by_email(" alice@ACME.test ") == user
    await storage.set_password_hash(user.id, "hash")
    assert await storage.get_user(user.id) == dataclasses.replace(user, password_hash="hash")
    assert await storage.get_user("missing") is None
    assert await storage.count_users() == 1


async def test_memberships_and_api_tokens(storage: Storage) -> None:
    org = await storage.create_organization("Acme")
    user = await storage.create_user("a@b.test", "A", "hash")
    await storage.add_membership(org.id, user.id, "admin")
    with pytest.raises(Conflict):
        await storage.add_membership(org.id, user.id, "member")
    [membership] = await storage.memberships_for_user(user.id)
    assert (membership.org_id, membership.role) == (org.id, "admin")

    token_id = await storage.create_api_token(user.id, "token-hash", "ci")
    assert await _row(storage, "SELECT last_used_at FROM api_tokens WHERE id = ?", token_id) == (
        None,
    )
    assert await storage.user_for_token_hash("token-hash") == user
    used = await _row(storage, "SELECT last_used_at FROM api_tokens WHERE id = ?", token_id)
    assert used is not None and used[0] > 0
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


def _reload(state: StoredState) -> str:
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    with doc.transaction():
        if state.snapshot is not None:
            doc.apply_update(state.snapshot)
        for _, update in state.updates:
            doc.apply_update(update)
    return str(text)


async def test_documents_start_with_their_initial_update_as_seq_1(storage: Storage) -> None:
    record = await storage.create_document("draft:a", "draft", None, None, b"\x00\x00")
    assert await storage.get_document("draft:a") == record
    assert (await storage.load_document("draft:a")).updates == [(1, b"\x00\x00")]
    with pytest.raises(Conflict) as duplicate:
        await storage.create_document("draft:a", "draft", None, None, None)
    assert duplicate.value.field == "name"
    await storage.create_document("inbox:x", "inbox", None, None, None)
    assert await storage.load_document("inbox:x") == StoredState()
    assert await storage.latest_seqs(["draft:a", "inbox:x", "nope"]) == {"draft:a": 1, "inbox:x": 0}
    assert await storage.get_document("nope") is None


async def test_log_appends_in_order_across_documents_in_one_batch(storage: Storage) -> None:
    await storage.create_document("draft:a", "draft", None, None, b"\x00\x00")
    await storage.create_document("draft:b", "draft", None, None, None)
    assert await storage.append_updates([]) == []
    seqs = await storage.append_updates(
        [("draft:a", b"a2"), ("draft:b", b"b1"), ("draft:gone", b"x"), ("draft:a", b"a3")]
    )
    assert seqs == [2, 1, 0, 3]  # a document that does not exist is not resurrected
    assert await storage.append_updates([("draft:gone", b"x")]) == [0]
    assert await storage.latest_seqs(["draft:a", "draft:b", "draft:gone"]) == {
        "draft:a": 3,
        "draft:b": 1,
    }
    assert await storage.get_document("draft:gone") is None
    state = await storage.load_document("draft:a")
    assert state.updates == [(1, b"\x00\x00"), (2, b"a2"), (3, b"a3")]
    assert await storage.log_size("draft:a") == (3, 6)


async def test_two_processes_appending_to_one_document_never_collide(
    storage: Storage, storage_settings: Settings
) -> None:
    await storage.create_document("draft:c", "draft", None, None, None)
    other = await open_storage(storage_settings)
    try:

        async def append(store: Storage, tag: bytes) -> list[int]:
            seqs: list[int] = []
            for i in range(30):
                seqs += await store.append_updates([("draft:c", tag + bytes([i]))] * (i % 3 + 1))
            return seqs

        mine, theirs = await asyncio.gather(append(storage, b"m"), append(other, b"t"))
    finally:
        await other.close()
    assert sorted(mine + theirs) == list(range(1, 121))
    assert [seq for seq, _ in (await storage.load_document("draft:c")).updates] == list(
        range(1, 121)
    )


async def test_read_updates_since_before_and_after_compaction(storage: Storage) -> None:
    updates, expected = _text_updates([("insert", i, f"{i} ") for i in range(6)])
    await storage.create_document("draft:r", "draft", None, None, None)
    assert await storage.append_updates([("draft:r", u) for u in updates[:4]]) == [1, 2, 3, 4]
    assert await storage.compact_document("draft:r", merge_with_doc) == 4
    assert await storage.log_size("draft:r") == (0, 0)
    assert await storage.compact_document("draft:r", merge_with_doc) == 4  # nothing new
    await storage.append_updates([("draft:r", u) for u in updates[4:]])

    tail = [(5, updates[4]), (6, updates[5])]
    for after in (0, 2):  # compacted away: the snapshot stands in for them
        state = await storage.read_updates_since("draft:r", after)
        assert (state.snapshot is not None, state.snapshot_seq, state.updates) == (True, 4, tail)
        assert _reload(state) == expected
    assert await storage.read_updates_since("draft:r", 4) == StoredState(None, 4, tail)
    assert await storage.read_updates_since("draft:r", 5) == StoredState(None, 5, tail[1:])
    assert await storage.read_updates_since("draft:r", 6) == StoredState(None, 6, [])
    assert _reload(await storage.load_document("draft:r")) == expected
    assert await storage.compact_document("draft:missing", merge_with_doc) == 0


async def test_compaction_racing_appends_from_two_processes_loses_nothing(
    storage: Storage, storage_settings: Settings
) -> None:
    updates, expected = _text_updates([("insert", i * 7, f"w{i} ") for i in range(150)])
    await storage.create_document("draft:c", "draft", None, None, None)
    await storage.append_updates([("draft:c", u) for u in updates[:50]])
    compactor = await open_storage(storage_settings)
    appending = True

    async def keep_appending() -> None:
        nonlocal appending
        for update in updates[50:]:
            await storage.append_updates([("draft:c", update)])
        appending = False

    async def keep_compacting(store: Storage) -> int:
        rounds = 0
        while appending:
            await store.compact_document("draft:c", merge_with_doc)
            rounds += 1
            await asyncio.sleep(0)
        return rounds

    try:
        _, theirs, mine = await asyncio.gather(
            keep_appending(), keep_compacting(compactor), keep_compacting(storage)
        )
    finally:
        await compactor.close()
    assert theirs + mine > 2  # compactions really were interleaved with the appends
    state = await storage.load_document("draft:c")
    assert state.last_seq == 150 and _reload(state) == expected
    assert await storage.compact_document("draft:c", merge_with_doc) == 150
    assert _reload(await storage.load_document("draft:c")) == expected
    assert await storage.log_size("draft:c") == (0, 0)


class HeldMerge:
    """`merge_with_doc` that says when it starts (in its worker thread) and then waits to
    be released."""

    def __init__(self) -> None:
        self.merging, self.release = asyncio.Event(), threading.Event()
        self._loop = asyncio.get_running_loop()

    def __call__(self, snapshot: bytes | None, tail: Sequence[bytes]) -> bytes:
        self._loop.call_soon_threadsafe(self.merging.set)
        self.release.wait(10)
        return merge_with_doc(snapshot, tail)


async def test_appends_and_reads_go_on_while_a_compaction_merges(storage: Storage) -> None:
    """The merge holds no transaction: writers to the same document (and readers) are not
    held up by it, and what they append meanwhile stays in the log after the snapshot."""
    updates, expected = _text_updates([("insert", i, f"{i} ") for i in range(5)])
    await storage.create_document("draft:m", "draft", None, None, None)
    await storage.append_updates([("draft:m", u) for u in updates[:3]])
    held = HeldMerge()
    compaction = asyncio.create_task(storage.compact_document("draft:m", held))
    try:
        await asyncio.wait_for(held.merging.wait(), 5)
        async with asyncio.timeout(5):  # would hang if the merge held the database
            assert await storage.append_updates([("draft:m", u) for u in updates[3:]]) == [4, 5]
            assert (await storage.load_document("draft:m")).last_seq == 5
    finally:
        held.release.set()
    assert await compaction == 3
    state = await storage.load_document("draft:m")
    assert (state.snapshot_seq, [seq for seq, _ in state.updates]) == (3, [4, 5])
    assert _reload(state) == expected


async def test_a_compaction_gives_way_to_one_that_finished_first(
    storage: Storage, storage_settings: Settings
) -> None:
    updates, expected = _text_updates([("insert", i, f"{i} ") for i in range(4)])
    await storage.create_document("draft:g", "draft", None, None, None)
    await storage.append_updates([("draft:g", u) for u in updates[:2]])
    other = await open_storage(storage_settings)
    held = HeldMerge()
    try:
        slow = asyncio.create_task(storage.compact_document("draft:g", held))
        await asyncio.wait_for(held.merging.wait(), 5)
        await other.append_updates([("draft:g", u) for u in updates[2:]])
        assert await other.compact_document("draft:g", merge_with_doc) == 4
        held.release.set()
        assert await slow == 4  # its older snapshot (seq 2) is not written over seq 4
    finally:
        held.release.set()
        await other.close()
    state = await storage.load_document("draft:g")
    assert (state.snapshot_seq, state.updates) == (4, [])
    assert _reload(state) == expected


def test_compaction_refuses_to_drop_updates_waiting_for_dependencies() -> None:
    updates, _ = _text_updates([("insert", 0, "first"), ("insert", 5, " second")])
    with pytest.raises(CompactionRefused):
        merge_with_doc(None, [updates[1]])


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def property_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Session-scoped (hypothesis reruns the test body, not function fixtures); every
    example writes its own document, so nothing needs emptying."""
    if request.param == "postgres":
        yield Settings(
            database_url=request.getfixturevalue("postgres_database_url"), secret_key="x"
        )
    else:
        yield Settings(data_dir=tmp_path_factory.mktemp("prop"), secret_key="x")


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
    property_settings: Settings, edits: list[tuple[str, int, str]], cuts: list[int]
) -> None:
    updates, expected = _text_updates(edits)
    name = f"draft:{uuid.uuid4()}"

    async def scenario() -> None:
        store = await open_storage(property_settings)
        try:
            await store.migrate()
            await store.create_document(name, "draft", None, None, None)
            done = 0
            for cut in sorted({min(c, len(updates)) for c in cuts} | {len(updates)}):
                for update in updates[done:cut]:
                    await store.append_updates([(name, update)])
                done = cut
                assert await store.compact_document(name, merge_with_doc) == cut
                partial = _reload(StoredState(updates=list(enumerate(updates[:cut], 1))))
                assert _reload(await store.load_document(name)) == partial
            assert _reload(await store.load_document(name)) == expected
            assert await store.log_size(name) == (0, 0)
        finally:
            await store.close()

    asyncio.run(scenario())


async def test_drafts_and_their_documents_are_created_and_deleted_together(
    storage: Storage,
) -> None:
    org = await storage.create_organization("Acme")
    user = await storage.create_user("a@b.test", "A", None)
    draft = await storage.create_draft("d1", org.id, user.id, "Hello", b"\x00\x00")
    assert await storage.get_draft("d1") == draft
    record = await storage.get_document("draft:d1")
    assert record is not None and (record.kind, record.org_id, record.owner_id) == (
        "draft",
        org.id,
        user.id,
    )
    assert await storage.latest_seqs(["draft:d1"]) == {"draft:d1": 1}
    assert [seq for seq, _ in (await storage.load_document("draft:d1")).updates] == [1]
    with pytest.raises(Conflict):
        await storage.create_draft("d1", org.id, user.id, "again", b"\x00\x00")
    await storage.append_updates([("draft:d1", b"\x00\x00")])
    await storage.compact_document("draft:d1", merge_with_doc)
    await storage.append_updates([("draft:d1", b"\x00\x00")])
    assert await storage.delete_draft("d1") is True
    assert await storage.get_draft("d1") is None
    assert await storage.get_document("draft:d1") is None
    assert await storage.load_document("draft:d1") == StoredState()
    assert await storage.log_size("draft:d1") == (0, 0)
    assert await _row(storage, "SELECT COUNT(*) FROM doc_snapshots") == (0,)
    assert await storage.delete_draft("d1") is False
