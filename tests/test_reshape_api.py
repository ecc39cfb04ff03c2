"""Merging, moving an email out, deleting forever and spam through the commands API, on
both backends: the stored mail follows (later replies thread into the right conversation),
viewers of a merged conversation learn where it went, and refusals change nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pycrdt import Map

from tests.fixtures.mail import mail
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import yws

FIRST = mail("<a-1@example.com>", "Where is my order?", "It has not arrived.")
SECOND = mail("<b-1@example.com>", "Refund please", "For the same order.")
REPLY_TO_FIRST = mail(
    "<a-2@example.com>", "Re: Where is my order?", "Any news?", reply_to="<a-1@example.com>"
)
REPLY_TO_SECOND = mail(
    "<b-2@example.com>", "Re: Refund please", "Still waiting.", reply_to="<b-1@example.com>"
)
RFC822 = {"content-type": "message/rfc822"}


async def _owner_with_account(live: LiveServer) -> Person:
    """alice, owner of the organization and of the personal account alice@acme.test."""
    services = live.services
    alice = await make_person(services, "alice@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    await services.storage.create_account(
        alice.org.id, "alice@acme.test", alice.user.id, "inbox", None, []
    )
    return alice


async def _import(http: httpx.AsyncClient, raw: bytes) -> str:
    response = await http.post(
        "/api/admin/accounts/alice@acme.test/import", content=raw, headers=RFC822
    )
    assert response.status_code == 200, response.text
    [conv] = response.json()["conversations"]
    return str(conv)


async def _command(http: httpx.AsyncClient, conv: str, **body: Any) -> httpx.Response:
    return await http.post(f"/api/conversations/{conv}/commands", json=body)


async def test_merge_moves_the_mail_and_sends_viewers_to_the_target(
    live_server: LiveServer,
) -> None:
    alice = await _owner_with_account(live_server)
    async with live_server.client(alice.token) as http:
        source, target = await _import(http, FIRST), await _import(http, SECOND)
        async with yws(live_server.ws, f"conv:{source}", alice.token) as viewer:
            await asyncio.wait_for(viewer.synced.wait(), 5)
            merged = await _command(http, source, command="merge_into", target=target)
            assert merged.status_code == 200, merged.text
            body = merged.json()["conversation"]
            assert (body["id"], body["messages_count"]) == (target, 2)
            assert body["subject"] == "Refund please"  # neither custom: the latest email's

            def redirected() -> bool:
                return viewer.doc.get("conv", type=Map).get("merged_into") == target

            await viewer.wait_for(redirected)
        gone = await http.get(f"/api/conversations/{source}")
        assert gone.status_code == 404
        assert gone.json()["error"] == {
            "code": "merged",
            "message": gone.json()["error"]["message"],
            "target": target,
        }
        again = await _command(http, source, command="star")
        assert again.status_code == 404 and again.json()["error"]["target"] == target
        inbox = [
            row["id"] for row in (await http.get("/api/mailboxes/inbox")).json()["conversations"]
        ]
        assert inbox == [target]
        # a reply to the merged-away thread now threads into the survivor
        assert await _import(http, REPLY_TO_FIRST) == target
        messages = (await http.get(f"/v1/conversations/{target}/messages")).json()["messages"]
        assert len(messages) == 3


async def test_merge_refusals_are_named_and_change_nothing(live_server: LiveServer) -> None:
    alice = await _owner_with_account(live_server)
    bob = await make_person(live_server.services, "bob@acme.test")
    async with live_server.client(alice.token) as http:
        source, target = await _import(http, FIRST), await _import(http, SECOND)
        rooms = (await http.get("/api/rooms")).json()
        before = await live_server.services.storage.load_document(f"conv:{source}")
        itself = await _command(http, source, command="merge_into", target=source)
        assert (itself.status_code, itself.json()["error"]["field"]) == (400, "target")
        room = next(r["id"] for r in rooms["rooms"] if r["kind"] == "org_room")
        into_room = await _command(http, source, command="merge_into", target=room)
        assert (into_room.status_code, into_room.json()["error"]["field"]) == (422, "target")
        missing = await _command(http, source, command="merge_into", target="no-such-conv")
        assert missing.status_code == 404
        assert await live_server.services.storage.load_document(f"conv:{source}") == before
    async with live_server.client(bob.token) as http:  # bob has access to neither
        refused = await _command(http, source, command="merge_into", target=target)
        assert refused.status_code == 403


async def test_move_an_email_out_and_its_replies_follow(live_server: LiveServer) -> None:
    alice = await _owner_with_account(live_server)
    async with live_server.client(alice.token) as http:
        conv = await _import(http, FIRST)
        other = await _import(http, SECOND)
        await _command(http, other, command="merge_into", target=conv)
        moved = await _command(http, conv, command="move_message", message="nope")
        assert (moved.status_code, moved.json()["error"]["field"]) == (400, "message")
        state = (await http.get(f"/v1/conversations/{conv}/messages")).json()["messages"]
        refund = next(m["id"] for m in state if m["subject"] == "Refund please")
        moved = await _command(http, conv, command="move_message", message=refund, shared=False)
        assert moved.status_code == 200, moved.text
        new = moved.json()["new_conversation"]
        assert moved.json()["conversation"]["messages_count"] == 1
        fresh = (await http.get(f"/api/conversations/{new}")).json()["conversation"]
        assert (fresh["subject"], fresh["messages_count"]) == ("Refund please", 1)
        assert list(fresh["users"]) == [alice.user.id]
        assert await _import(http, REPLY_TO_SECOND) == new
        last = await _command(http, conv, command="move_message", message=refund)
        assert last.status_code == 400  # it is not in this conversation any more


async def test_delete_forever_by_the_owner_erases_the_mail_and_closes_viewers(
    live_server: LiveServer,
) -> None:
    alice = await _owner_with_account(live_server)
    bob = await make_person(live_server.services, "bob@acme.test")
    async with live_server.client(alice.token) as http:
        conv = await _import(http, FIRST)
        await _command(http, conv, command="add_people", users=[bob.user.id])
        not_trashed = await _command(http, conv, command="delete_forever")
        assert not_trashed.status_code == 409
    async with live_server.client(bob.token) as http:  # bob's delete only drops bob's access
        await _command(http, conv, command="trash")
        mine = await _command(http, conv, command="delete_forever")
        assert mine.status_code == 200 and mine.json()["deleted"] is False
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 403
    async with live_server.client(alice.token) as http:
        await _command(http, conv, command="trash")
        async with yws(live_server.ws, f"conv:{conv}", alice.token) as viewer:
            await asyncio.wait_for(viewer.synced.wait(), 5)
            deleted = await _command(http, conv, command="delete_forever")
            assert deleted.status_code == 200 and deleted.json()["deleted"] is True
            code, _ = await viewer.wait_closed()
            assert code == 4404
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 404
        trash = (await http.get("/api/mailboxes/trash")).json()["conversations"]
        assert trash == []
        assert await live_server.services.storage.message_count(conv) == 0
        # the mail is gone for good: importing it again makes a new conversation
        assert await _import(http, FIRST) != conv


async def test_spam_and_not_spam_through_http(live_server: LiveServer) -> None:
    alice = await _owner_with_account(live_server)
    async with live_server.client(alice.token) as http:
        conv = await _import(http, FIRST)
        spam = await _command(http, conv, command="mark_spam")
        assert spam.status_code == 200, spam.text
        rows = (await http.get("/api/mailboxes/spam")).json()["conversations"]
        assert [row["id"] for row in rows] == [conv]
        assert (await http.get("/api/mailboxes/inbox")).json()["conversations"] == []
        await _command(http, conv, command="not_spam")
        rows = (await http.get("/api/mailboxes/inbox")).json()["conversations"]
        assert [row["id"] for row in rows] == [conv]


async def test_the_missive_merge_endpoint_and_posts_follow_the_merge(
    live_server: LiveServer,
) -> None:
    alice = await _owner_with_account(live_server)
    async with live_server.client(alice.token) as http:
        source, target = await _import(http, FIRST), await _import(http, SECOND)
        posted = await http.post(
            "/v1/posts",
            json={"posts": {"conversation": source, "text": "Order shipped", "references": ["o-1"],
                            "notification": {"title": "Shop", "body": "shipped"}}},
        )  # fmt: skip
        assert posted.status_code in (200, 201), posted.text
        missing = await http.post(f"/v1/conversations/{source}/merge", json={})
        assert (missing.status_code, missing.json()["error"]["field"]) == (400, "target")
        merged = await http.post(
            f"/v1/conversations/{source}/merge", json={"target": target, "subject": "Order 1234"}
        )
        assert merged.status_code == 200, merged.text
        [conv] = merged.json()["conversations"]
        assert (conv["id"], conv["subject"]) == (target, "Order 1234")
        posts = (await http.get(f"/v1/conversations/{target}/posts")).json()["posts"]
        assert [p["notification"]["title"] for p in posts] == ["Shop"]
        again = await http.post(f"/v1/conversations/{source}/merge", json={"target": target})
        assert again.status_code == 404
        # a later post with the same reference threads onto the survivor
        later = await http.post(
            "/v1/posts", json={"posts": {"references": ["o-1"], "text": "Delivered",
                                         "notification": {"title": "Shop", "body": "done"}}}
        )  # fmt: skip
        assert later.status_code in (200, 201), later.text
        posts = (await http.get(f"/v1/conversations/{target}/posts")).json()["posts"]
        assert len(posts) == 2
