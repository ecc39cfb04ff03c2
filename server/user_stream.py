"""The per-user live stream: which of a user's mailbox rows changed, so lists refresh
without polling.

The conversation writer tells `UserStream.changed` about every commit and whose rows it
touched; for each of those users the stream notes the conversation and where it now is for
them, gathers what arrives within `COALESCE_S`, and publishes one stateless message per
user on the feed `user:<id>` (`crdt.feeds`), in this process and through the broker to the
others. `docs/protocol.md` describes the messages.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import orjson

from crdt.feeds import FeedHub
from server.conversations.mailboxes import in_mailbox, unread_for
from server.conversations.model import Conversation, Directory

COALESCE_S = 0.01
PERSONAL_MAILBOXES = (
    "inbox",
    "assigned_to_me",
    "assigned_to_others",
    "starred",
    "snoozed",
    "sent",
    "closed",
    "all",
    "trash",
    "spam",
)
"""The mailboxes that depend on the conversation and the user alone. Team and label
mailboxes need the organization's teams, so a row names its `team` and `labels` instead."""

Row = dict[str, object]


def feed_name(user_id: str) -> str:
    return f"user:{user_id}"


def row_change(conv: Conversation, user_id: str, now: int) -> Row:
    """What `user_id` needs to place `conv` in the lists it shows."""
    # Organization membership was checked when the user opened the feed.
    directory = Directory(org_id=conv.org_id, members={user_id: "member"})
    mailboxes = [m for m in PERSONAL_MAILBOXES if in_mailbox(conv, user_id, m, directory, now)]
    return {
        "id": conv.id,
        "access": user_id in conv.users,
        "mailboxes": mailboxes,
        "team": conv.team,
        "labels": sorted(conv.labels),
        "unread": unread_for(conv, user_id),
    }


def encode(rows: list[Row]) -> str:
    return orjson.dumps({"type": "conversations", "changed": rows}).decode()


class UserStream:
    def __init__(self, feeds: FeedHub, coalesce_s: float = COALESCE_S) -> None:
        self.feeds = feeds
        self.coalesce_s = coalesce_s
        self._pending: dict[str, dict[str, Row]] = {}  # user -> conversation -> row
        self._waiting = asyncio.Event()

    def changed(self, conv: Conversation, users: frozenset[str]) -> None:
        """The writer's listener: `conv` was committed; `users` are those whose rows it
        touched. A later change of the same conversation replaces the earlier row."""
        now = int(time.time() * 1000)
        for user_id in users:
            if self.feeds.wanted(feed_name(user_id)):
                rows = self._pending.setdefault(user_id, {})
                rows[conv.id] = row_change(conv, user_id, now)
        if self._pending:
            self._waiting.set()

    async def run(self) -> None:
        while True:
            await self._waiting.wait()
            await anyio.sleep(self.coalesce_s)
            self._waiting.clear()
            pending, self._pending = self._pending, {}
            for user_id, rows in pending.items():
                await self.feeds.publish(feed_name(user_id), encode(list(rows.values())))
