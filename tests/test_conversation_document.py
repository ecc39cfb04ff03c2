"""The conv: document mapping: a round trip is lossless and updates stay small."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc

from server.conversations.document import (
    new_conversation_doc,
    read_conversation,
    write_conversation,
)
from server.conversations.model import (
    Comment,
    Conversation,
    Event,
    MessageSummary,
    Post,
    Snooze,
    UserState,
)


def sample() -> Conversation:
    return Conversation(
        id="c1",
        org_id="o1",
        subject="Order #1234",
        team="t1",
        in_team_inbox=True,
        assignees=["u1"],
        labels=["l1", "l2"],
        users={
            "u1": UserState(inbox=True, unread=True, watching=True, bumped_at=1_700_000_000_123),
            "u2": UserState(snooze=Snooze(until=1_800_000_000_000, scope="me", by="u2")),
        },
        snooze=None,
        messages=[MessageSummary("m1", "in", "a@b.c", "Order", "Hi", 1_700_000_000_000)],
        comments=[Comment("k1", "u1", "**hello** @u2", 1_700_000_000_500, ["u2"], {"👍": ["u2"]})],
        events=[Event("assigned", "u1", 1_700_000_000_600, {"users": ["u1"]})],
        last_activity_at=1_700_000_000_600,
        posts=[
            Post(
                "p1",
                "u1",
                1_700_000_000_700,
                text="Payment received",
                markdown="**$12.00** from *Ada*",
                username="Stripe",
                username_icon="https://example.com/s.png",
                notification={"title": "Payment", "body": "$12.00"},
                attachments=[
                    {
                        "title": "Invoice 7",
                        "color": "good",
                        "timestamp": 1_700_000_000,
                        "fields": [{"title": "Plan", "value": "Pro", "short": True}],
                    }
                ],
                references=["inv-7"],
            ),
            Post("p2", "u2", 1_700_000_000_800, text="gone", deleted=True),
        ],
    )


def test_round_trip_is_lossless() -> None:
    doc = new_conversation_doc()
    write_conversation(doc, sample())
    assert read_conversation(doc) == sample()
    copy: Doc[Any] = new_conversation_doc()
    copy.apply_update(doc.get_update())
    assert read_conversation(copy) == sample()


def test_changing_one_field_writes_a_small_update() -> None:
    doc = new_conversation_doc()
    write_conversation(doc, sample())
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    changed = sample()
    changed.users["u1"].starred = True
    write_conversation(doc, changed)
    assert len(updates) == 1 and len(updates[0]) < 80
    write_conversation(doc, changed)  # nothing differs: nothing written
    assert len(updates) == 1
    changed.comments[0].reactions["🎉"] = ["u1"]
    changed.events.append(Event("starred", "u1", 1_700_000_001_000))
    write_conversation(doc, changed)
    assert read_conversation(doc) == changed
    changed.posts[0].deleted = True  # a post deleted: its record is rewritten in place
    changed.posts[0].attachments = []
    changed.posts.append(Post("p3", "u1", 1_700_000_002_000, text="next"))
    write_conversation(doc, changed)
    assert read_conversation(doc) == changed
