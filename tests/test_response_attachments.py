"""Canned responses carry files, on both backends: whoever may edit a response adds and
removes them, the response lists them, and inserting it into a draft copies them into the
draft (new rows) and lists them in the same single update as its text and recipients —
or, past the draft's limit, inserts nothing at all."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pycrdt import Doc, Map, XmlElement, XmlFragment

from crdt.schemas import new_doc
from server.settings import Settings
from tests.fixtures.desk import start_reply, support_desk
from tests.fixtures.server import LiveServer, Person, run_server, with_settings
from tests.yclient import yws

LOGO = b"\x89PNG\r\n\x1a\n" + b"logo" * 50
TERMS = b"%PDF-1.7 terms and conditions"


async def _setup(live: LiveServer) -> tuple[Person, Person, str]:
    """The support desk; alice started a reply to the mail."""
    desk = await support_desk(live)
    return desk.alice, desk.bob, await start_reply(live, desk.alice, desk.conversation)


async def _response(http: httpx.AsyncClient, scope: str = "organization") -> str:
    made = await http.post(
        "/api/responses",
        json={"title": "Terms", "scope": scope, "body": "Our terms are attached.",
              "cc": [{"address": "legal@example.com"}]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["response"]["attachments"] == []
    response: str = made.json()["response"]["id"]
    return response


async def _attach(
    http: httpx.AsyncClient, response: str, name: str, data: bytes, kind: str, inline: int = 0
) -> httpx.Response:
    return await http.post(
        f"/api/responses/{response}/attachments",
        params={"filename": name, "inline": str(inline)},
        content=data,
        headers={"content-type": kind},
    )


def _replayed(updates: list[bytes]) -> Doc[Any]:
    doc = new_doc("draft:x")
    for update in updates:
        doc.apply_update(update)
    return doc


async def test_files_of_a_response_follow_its_editing_rules(live_server: LiveServer) -> None:
    alice, bob, _ = await _setup(live_server)
    async with live_server.client(alice.token) as http:
        shared = await _response(http)
        personal = await _response(http, "personal")
        logo = await _attach(http, shared, "logo.png", LOGO, "image/png", inline=1)
        assert logo.status_code == 201, logo.text
        assert logo.json()["attachment"]["cid"] == f"cid:{logo.json()['attachment']['id']}"
        assert (await _attach(http, personal, "a.txt", b"mine", "text/plain")).status_code == 201
    async with live_server.client(bob.token) as http:  # a shared response: bob edits it too
        terms = await _attach(http, shared, "terms.pdf", TERMS, "application/pdf")
        assert terms.status_code == 201
        assert (await _attach(http, personal, "x.txt", b"x", "text/plain")).status_code == 404
        listed = {r["id"]: r for r in (await http.get("/api/responses")).json()["responses"]}
        assert [a["filename"] for a in listed[shared]["attachments"]] == ["logo.png", "terms.pdf"]
        assert personal not in listed
        got = await http.get(f"/api/attachments/{terms.json()['attachment']['id']}")
        assert got.content == TERMS
        mine = (await live_server.services.storage.attachments_of(response_id=personal))[0]
        assert (await http.get(f"/api/attachments/{mine.id}")).status_code == 404
        empty = await http.post(f"/api/responses/{shared}/attachments?filename=a",
                                headers={"content-type": "text/plain"})  # fmt: skip
        assert (empty.status_code, empty.json()["error"]["field"]) == (400, "body")
        path = f"/api/responses/{shared}/attachments/{terms.json()['attachment']['id']}"
        assert (await http.delete(path)).status_code == 204
        assert (await http.delete(path)).status_code == 404
        edited = await http.patch(f"/api/responses/{shared}", json={"title": "Terms (v2)"})
        assert [a["filename"] for a in edited.json()["response"]["attachments"]] == ["logo.png"]
    async with live_server.client(alice.token) as http:
        assert (await http.delete(f"/api/responses/{shared}")).status_code == 204
    storage = live_server.services.storage
    assert await storage.attachment(logo.json()["attachment"]["id"]) is None  # deleted along


async def test_inserting_a_response_copies_its_files_in_the_same_update(
    live_server: LiveServer,
) -> None:
    alice, bob, draft = await _setup(live_server)
    storage = live_server.services.storage
    async with live_server.client(alice.token) as http:
        response = await _response(http)
        logo = (await _attach(http, response, "logo.png", LOGO, "image/png", 1)).json()
        terms = (await _attach(http, response, "terms.pdf", TERMS, "application/pdf")).json()
    name = f"draft:{draft}"
    before = await storage.load_document(name)
    async with yws(live_server.ws, name, bob.token) as editor:
        await asyncio.wait_for(editor.synced.wait(), 5)
        async with live_server.client(bob.token) as http:
            done = await http.post(f"/api/drafts/{draft}/responses", json={"response": response})
            assert done.status_code == 200, done.text
        copied = done.json()["inserted"]["attachments"]
        originals = [logo["attachment"]["id"], terms["attachment"]["id"]]
        assert len(copied) == 2 and not set(copied) & set(originals)
        listing = editor.doc.get("attachments", type=Map)
        await editor.wait_for(lambda: len(listing) == 2)
        assert "Our terms are attached." in editor.text()  # arrived with the entries
        assert listing.to_py()[copied[0]] == {
            "filename": "logo.png", "content_type": "image/png", "size": len(LOGO),
            "inline": True,
        }  # fmt: skip
        images = [
            dict(node.attributes.__iter__())
            for node in editor.doc.get("body", type=XmlFragment).children
            if isinstance(node, XmlElement) and node.tag == "image"
        ]
        assert images == [{"src": f"cid:{copied[0]}", "alt": "logo.png"}]
    after = await storage.load_document(name)
    assert after.snapshot == before.snapshot
    known = [u for _, u in before.updates]
    fresh = [u for seq, u in after.updates if seq > max([0, *(s for s, _ in before.updates)])]
    assert len(fresh) == 1  # text, recipients and files: one update
    base = [*([before.snapshot] if before.snapshot else []), *known]
    assert _replayed(base).get("attachments", type=Map).to_py() in (None, {})
    one = _replayed([*base, fresh[0]])
    assert set(one.get("attachments", type=Map).to_py() or {}) == set(copied)
    assert "legal@example.com" in str(one.get("headers", type=Map).to_py())
    assert "Our terms are attached." in str(one.get("body", type=XmlFragment))
    async with live_server.client(bob.token) as http:
        assert (await http.get(f"/api/attachments/{copied[1]}")).content == TERMS
    rows = await storage.attachments_of(draft_id=draft)
    assert [(r.id, r.response_id, r.created_by) for r in rows] == [
        (copied[0], None, bob.user.id),
        (copied[1], None, bob.user.id),
    ]
    assert len(await storage.attachments_of(response_id=response)) == 2  # left as they were


async def test_a_response_too_big_for_the_draft_inserts_nothing(app_settings: Settings) -> None:
    async with run_server(with_settings(app_settings, max_attachment_bytes=100)) as live:
        alice, _, draft = await _setup(live)
        storage = live.services.storage
        async with live.client(alice.token) as http:
            response = await _response(http)
            assert (await _attach(http, response, "a.bin", b"a" * 50, "x/y")).status_code == 201
            over = await _attach(http, response, "b.bin", b"b" * 51, "x/y")
            assert (over.status_code, over.json()["error"]["field"]) == (413, "attachments")
            assert "response" in over.json()["error"]["message"]
            held = await http.post(
                f"/api/drafts/{draft}/attachments?filename=held.bin", content=b"h" * 60
            )
            assert held.status_code == 201
            before = await storage.load_document(f"draft:{draft}")
            refused = await http.post(f"/api/drafts/{draft}/responses", json={"response": response})
            assert (refused.status_code, refused.json()["error"]["field"]) == (413, "attachments")
            assert (refused.json()["error"]["limit"], refused.json()["error"]["total"]) == (100, 60)
        after = await storage.load_document(f"draft:{draft}")
        assert after.updates == before.updates  # no text, no recipients, no entries
        assert [r.filename for r in await storage.attachments_of(draft_id=draft)] == ["held.bin"]
