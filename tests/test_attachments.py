"""A draft's files on both backends: upload, download and delete with the exact bytes, the
entry every editor sees in the draft's `attachments` map, the size limit (refused while the
body streams in, nothing stored), who may touch them, a draft being sent, every bad input
named; and `draft_parts`, which turns a snapshot's entries into the MIME parts sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pycrdt import Map

from crdt.schemas import draft_seed
from server.actions.attachments import draft_parts
from server.errors import Conflict, InvalidInput
from server.settings import Settings
from server.storage.attachments import AttachmentRecord, OverLimit
from server.storage.base import Storage
from sync.compose import Part
from tests.fixtures.desk import start_reply, support_desk
from tests.fixtures.server import LiveServer, Person, make_person, run_server, with_settings
from tests.yclient import yws

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"\x00\xff" * 300


async def _setup(live: LiveServer) -> tuple[Person, Person, Person, str]:
    """The support desk, where alice started a reply; carol is in the organization
    without access. (alice, bob, carol, draft)"""
    desk = await support_desk(live)
    carol = await make_person(live.services, "carol@acme.test")
    draft = await start_reply(live, desk.alice, desk.conversation)
    return desk.alice, desk.bob, carol, draft


async def _upload(
    http: httpx.AsyncClient, draft: str, name: str, data: Any, kind: str, inline: int = 0
) -> httpx.Response:
    return await http.post(
        f"/api/drafts/{draft}/attachments",
        params={"filename": name, "inline": str(inline)},
        content=data,
        headers={"content-type": kind},
    )


def _error(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"].get("field")


async def test_upload_download_delete_round_trip_reaches_every_editor(
    live_server: LiveServer,
) -> None:
    alice, bob, _, draft = await _setup(live_server)
    async with yws(live_server.ws, f"draft:{draft}", bob.token) as editor:
        await asyncio.wait_for(editor.synced.wait(), 5)
        listing = editor.doc.get("attachments", type=Map)
        async with live_server.client(alice.token) as http:
            image = await _upload(http, draft, "logo.png", PNG, "image/png", inline=1)
            assert image.status_code == 201, image.text
            doc = await _upload(http, draft, "Facture été.pdf", PDF, "application/pdf")
            assert doc.status_code == 201, doc.text
        made, filed = image.json()["attachment"], doc.json()["attachment"]
        assert made == {"id": made["id"], "filename": "logo.png", "content_type": "image/png",
                        "size": len(PNG), "inline": True, "cid": f"cid:{made['id']}"}  # fmt: skip
        assert "cid" not in filed and filed["inline"] is False
        await editor.wait_for(lambda: len(listing) == 2)
        assert listing.to_py()[filed["id"]] == {
            "filename": "Facture été.pdf", "content_type": "application/pdf",
            "size": len(PDF), "inline": False,
        }  # fmt: skip
        async with live_server.client(bob.token) as http:  # a co-writer reads them
            got = await http.get(f"/api/attachments/{filed['id']}")
            assert got.status_code == 200 and got.content == PDF
            assert got.headers["content-type"] == "application/pdf"
            assert got.headers["content-disposition"] == (
                'attachment; filename="Facture _t_.pdf";'
                " filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf"
            )
            assert got.headers["x-content-type-options"] == "nosniff"
            shown = await http.get(f"/api/attachments/{made['id']}")
            assert shown.content == PNG
            assert shown.headers["content-disposition"].startswith("inline;")
            gone = await http.delete(f"/api/drafts/{draft}/attachments/{filed['id']}")
            assert gone.status_code == 204
            await editor.wait_for(lambda: filed["id"] not in listing)
            assert (await http.get(f"/api/attachments/{filed['id']}")).status_code == 404
            again = await http.delete(f"/api/drafts/{draft}/attachments/{filed['id']}")
            assert again.status_code == 404
    stored = live_server.services.storage
    assert [a.id for a in await stored.attachments_of(draft_id=draft)] == [made["id"]]


async def test_outsiders_get_nothing(live_server: LiveServer) -> None:
    alice, _, carol, draft = await _setup(live_server)
    async with live_server.client(alice.token) as http:
        made = (await _upload(http, draft, "a.txt", b"hello", "text/plain")).json()["attachment"]
        private = await http.post("/v1/drafts", json={"drafts": {"subject": "Mine"}})
        own = private.json()["drafts"]["id"]
        mine = (await _upload(http, own, "b.txt", b"hi", "text/plain")).json()["attachment"]
    async with live_server.client(carol.token) as http:
        assert (await _upload(http, draft, "x.txt", b"x", "text/plain")).status_code == 404
        assert (await _upload(http, own, "x.txt", b"x", "text/plain")).status_code == 404
        for attachment in (made, mine):
            assert (await http.get(f"/api/attachments/{attachment['id']}")).status_code == 404
        deleting = await http.delete(f"/api/drafts/{draft}/attachments/{made['id']}")
        assert deleting.status_code == 404
    async with live_server.client() as http:
        assert (await http.get(f"/api/attachments/{made['id']}")).status_code == 401
    assert len(await live_server.services.storage.attachments_of(draft_id=draft)) == 1


async def test_bad_inputs_are_named(live_server: LiveServer) -> None:
    alice, _, _, draft = await _setup(live_server)
    path = f"/api/drafts/{draft}/attachments"
    async with live_server.client(alice.token) as http:
        cases = [
            ({}, b"x", "text/plain", "filename"),
            ({"filename": "  "}, b"x", "text/plain", "filename"),
            ({"filename": "a" * 256}, b"x", "text/plain", "filename"),
            ({"filename": "a\r\nb.txt"}, b"x", "text/plain", "filename"),
            ({"filename": "a.txt", "inline": "yes"}, b"x", "text/plain", "inline"),
            ({"filename": "a.txt", "inline": "1"}, b"x", "text/plain", "inline"),
            ({"filename": "a.txt"}, b"", "text/plain", "body"),
        ]
        for params, data, kind, field in cases:
            answer = await http.post(path, params=params, content=data,
                                     headers={"content-type": kind})  # fmt: skip
            assert _error(answer) == (400, field), (params, answer.text)
        odd = await _upload(http, draft, "a" * 255, b"x", "not a type")
        assert odd.status_code == 201
        assert odd.json()["attachment"]["content_type"] == "application/octet-stream"
        charset = await _upload(http, draft, "a.txt", b"x", "Text/Plain; charset=utf-8")
        assert charset.json()["attachment"]["content_type"] == "text/plain"
        assert (await _upload(http, "nope", "a.txt", b"x", "text/plain")).status_code == 404
    assert len(await live_server.services.storage.attachments_of(draft_id=draft)) == 2


async def test_past_the_limit_is_413_and_nothing_changes(app_settings: Settings) -> None:
    async with run_server(with_settings(app_settings, max_attachment_bytes=100)) as live:
        alice, _, _, draft = await _setup(live)
        async with live.client(alice.token) as http:
            first = await _upload(http, draft, "a.bin", b"a" * 60, "application/octet-stream")
            assert first.status_code == 201
            declared = await _upload(http, draft, "b.bin", b"b" * 41, "application/octet-stream")
            assert _error(declared) == (413, "attachments")
            error = declared.json()["error"]
            assert (error["limit"], error["total"]) == (100, 60)
            assert "100" in error["message"] and "60" in error["message"]

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read as it comes
                for _ in range(5):
                    yield b"c" * 20

            streamed = await _upload(http, draft, "c.bin", chunks(), "application/octet-stream")
            assert _error(streamed) == (413, "attachments")
            fits = await _upload(http, draft, "d.bin", b"d" * 40, "application/octet-stream")
            assert fits.status_code == 201
            full = await _upload(http, draft, "e.bin", b"e", "application/octet-stream")
            assert _error(full) == (413, "attachments")
            kept = first.json()["attachment"]["id"]
            assert (await http.get(f"/api/attachments/{kept}")).content == b"a" * 60
        rows = await live.services.storage.attachments_of(draft_id=draft)
        assert [r.filename for r in rows] == ["a.bin", "d.bin"]
        stored = await live.services.storage.load_document(f"draft:{draft}")
        logged = b"".join([stored.snapshot or b"", *(u for _, u in stored.updates)])
        assert b"b.bin" not in logged and b"c.bin" not in logged


async def test_a_draft_being_sent_takes_no_files(live_server: LiveServer) -> None:
    alice, _, _, draft = await _setup(live_server)
    async with live_server.client(alice.token) as http:
        made = (await _upload(http, draft, "a.txt", b"x", "text/plain")).json()["attachment"]
        await live_server.services.storage.set_draft_status(draft, "sending")
        assert _error(await _upload(http, draft, "b.txt", b"y", "text/plain")) == (409, "draft")
        deleting = await http.delete(f"/api/drafts/{draft}/attachments/{made['id']}")
        assert _error(deleting) == (409, "draft")
        assert (await http.get(f"/api/attachments/{made['id']}")).content == b"x"


# --- storage and draft_parts -----------------------------------------------------------


async def _draft(storage: Storage, draft_id: str = "d1") -> tuple[str, str]:
    org = await storage.get_organization_by_name("Acme") or await storage.create_organization(
        "Acme"
    )
    user = await storage.get_user_by_email("a@acme.test") or await storage.create_user(
        "a@acme.test", "A", None
    )
    await storage.create_draft(draft_id, org.id, user.id, "Hi", draft_seed("Hi", [""], {}))
    return org.id, user.id


async def _add(
    storage: Storage, draft_id: str, name: str, data: bytes, inline: bool = False, limit: int = 1000
) -> AttachmentRecord:
    org_id, user_id = await _draft_owner(storage, draft_id)
    kind = "image/png" if inline else "application/pdf"
    record = AttachmentRecord("", org_id, draft_id, None, name, kind, 0, "", inline, user_id)
    return await storage.add_attachment(record, data, limit=limit)


async def _draft_owner(storage: Storage, draft_id: str) -> tuple[str, str]:
    draft = await storage.get_draft(draft_id)
    assert draft is not None
    return draft.org_id, draft.author_id


def _entries(*records: AttachmentRecord) -> dict[str, Any]:
    return {r.id: {"filename": r.filename, "content_type": r.content_type,
                   "size": float(r.size), "inline": r.inline} for r in records}  # fmt: skip


async def test_draft_parts_inline_in_body_order_then_attached_in_upload_order(
    storage: Storage,
) -> None:
    await _draft(storage)
    report = await _add(storage, "d1", "report.pdf", b"%PDF report")
    logo = await _add(storage, "d1", "logo.png", b"logo", inline=True)
    deleted = await _add(storage, "d1", "old.png", b"old", inline=True)
    chart = await _add(storage, "d1", "chart.png", b"chart", inline=True)
    invoice = await _add(storage, "d1", "invoice.pdf", b"%PDF invoice")
    entries = _entries(report, logo, deleted, chart, invoice)
    images = [f"cid:{chart.id}", "https://example.com/x.png", f"cid:{logo.id}", f"cid:{chart.id}"]
    parts = await draft_parts(storage, Settings(secret_key="x"), "d1", entries, images)
    assert parts == [
        Part("chart.png", "image/png", b"chart", chart.id),
        Part("logo.png", "image/png", b"logo", logo.id),
        Part("report.pdf", "application/pdf", b"%PDF report"),
        Part("invoice.pdf", "application/pdf", b"%PDF invoice"),
    ]  # old.png: inline, no longer in the body, dropped
    assert await draft_parts(storage, Settings(secret_key="x"), "d1", {}, images) == []


async def test_draft_parts_refuses_a_missing_blob_or_too_much(storage: Storage) -> None:
    await _draft(storage, "d1")
    await _draft(storage, "d2")
    mine = await _add(storage, "d1", "a.pdf", b"a" * 30)
    theirs = await _add(storage, "d2", "theirs.pdf", b"secret")
    settings = Settings(secret_key="x")
    for entries, named in (
        ({**_entries(mine), "ghost": {"filename": "ghost.pdf", "inline": False}}, "ghost.pdf"),
        (_entries(mine, theirs), "theirs.pdf"),  # another draft's file is not this draft's
    ):
        with pytest.raises(InvalidInput) as refused:
            await draft_parts(storage, settings, "d1", entries, [])
        assert refused.value.field == "attachments" and named in refused.value.message
    small = Settings(secret_key="x", max_attachment_bytes=20)
    with pytest.raises(InvalidInput) as too_big:
        await draft_parts(storage, small, "d1", _entries(mine), [])
    assert too_big.value.field == "attachments" and "20" in too_big.value.message


async def test_the_store_keeps_the_limit_the_status_and_cascades(storage: Storage) -> None:
    await _draft(storage, "d1")
    first = await _add(storage, "d1", "a.pdf", b"a" * 60, limit=100)
    assert (first.size, len(first.sha256)) == (60, 64)
    with pytest.raises(OverLimit) as over:
        await _add(storage, "d1", "b.pdf", b"b" * 41, limit=100)
    assert (over.value.total, over.value.limit) == (60, 100)
    second = await _add(storage, "d1", "c.pdf", b"c" * 40, limit=100)
    assert second.created_at > first.created_at
    assert await storage.attachment_total(draft_id="d1") == 100
    assert await storage.attachment_data(first.id) == b"a" * 60
    await storage.set_draft_status("d1", "scheduled")
    with pytest.raises(Conflict) as locked:
        await _add(storage, "d1", "d.pdf", b"d")
    assert locked.value.field == "draft"
    with pytest.raises(Conflict):
        await storage.delete_attachment(first.id, draft_id="d1")
    await storage.delete_draft("d1")
    assert await storage.attachment(first.id) is None
    assert await storage.attachment_data(second.id) is None
