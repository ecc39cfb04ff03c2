"""Mailbox pages and counts over HTTP, read from the index the writer maintains."""

from __future__ import annotations

import time

from server.conversations.model import Conversation, Snooze, UserState
from tests.fixtures.server import LiveServer, Person, make_person

HOUR = 3_600_000


async def _seed(live: LiveServer, alice: Person, bob: Person) -> dict[str, str]:
    now = int(time.time() * 1000)
    label = await live.services.storage.create_label(alice.org.id, "Billing/Refunds", [])
    plans = {
        "inbox-unread": UserState(inbox=True, unread=True, bumped_at=now - 1),
        "inbox-read": UserState(inbox=True, bumped_at=now - 2),
        "archived-starred": UserState(starred=True, bumped_at=now - 3),
        "snoozed": UserState(inbox=True, bumped_at=now - 4, snooze=Snooze(now + HOUR, "me")),
        "snoozed-visible": UserState(
            inbox=True, bumped_at=now - 5, snooze=Snooze(now + HOUR, "me", leave_in_inbox=True)
        ),
        "trashed": UserState(inbox=True, trashed=True, bumped_at=now - 6),
    }
    ids = {}
    for i, (name, state) in enumerate(plans.items()):
        conv = Conversation(
            id=f"c{i}",
            org_id=alice.org.id,
            kind="chat",
            subject=name,
            last_activity_at=now - i,
            users={alice.user.id: state, bob.user.id: UserState()},
            labels=[label.id] if name == "inbox-read" else [],
            assignees=[bob.user.id] if name == "inbox-unread" else [],
        )
        await live.services.conversations.create(conv)
        ids[name] = conv.id
    ids["label"] = label.id
    return ids


async def test_mailboxes_follow_the_spec_predicates(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    ids = await _seed(live_server, alice, bob)

    async def subjects(path: str) -> list[str]:
        async with live_server.client(alice.token) as http:
            response = await http.get(path)
        assert response.status_code == 200, response.text
        return [row["subject"] for row in response.json()["conversations"]]

    assert await subjects("/api/mailboxes/inbox") == [
        "inbox-unread",
        "inbox-read",
        "snoozed-visible",
    ]
    assert await subjects("/api/mailboxes/inbox?unread=true") == ["inbox-unread"]
    assert sorted(await subjects("/api/mailboxes/snoozed")) == ["snoozed", "snoozed-visible"]
    assert await subjects("/api/mailboxes/starred") == ["archived-starred"]
    assert await subjects("/api/mailboxes/trash") == ["trashed"]
    assert "trashed" not in await subjects("/api/mailboxes/all")
    assert await subjects(f"/api/mailboxes/label?label={ids['label']}") == ["inbox-read"]
    assert await subjects("/api/mailboxes/assigned_to_others") == ["inbox-unread"]
    assert await subjects("/api/mailboxes/drafts") == []
    async with live_server.client(alice.token) as http:
        counts = (await http.get("/api/counts")).json()
    assert counts["mailboxes"]["inbox"] == 1
    assert counts["badge"] == 1


async def test_pages_follow_the_cursor_without_gaps_or_repeats(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    await _seed(live_server, alice, bob)
    seen: list[str] = []
    cursor = None
    async with live_server.client(alice.token) as http:
        for _ in range(10):
            query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
            page = (await http.get(f"/api/mailboxes/all{query}")).json()
            seen += [row["id"] for row in page["conversations"]]
            cursor = page["next"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 5


async def test_bad_mailbox_requests_are_named(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    async with live_server.client(alice.token) as http:
        assert (await http.get("/api/mailboxes/nonsense")).status_code == 404
        bad_cursor = await http.get("/api/mailboxes/inbox?cursor=%%%")
        assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["field"] == "cursor"
        no_team = await http.get("/api/mailboxes/team_inbox")
        assert no_team.json()["error"]["field"] == "team"
        too_many = await http.get("/api/mailboxes/inbox?limit=1000")
        assert too_many.json()["error"]["field"] == "limit"
