"""The relational projection of a conversation: the rows mailbox queries read. Pure, so
`tandem reindex` can rebuild every row from the documents alone."""

from __future__ import annotations

from dataclasses import dataclass

from server.conversations.model import Conversation


@dataclass(frozen=True)
class ConversationRow:
    id: str
    org_id: str
    kind: str
    subject: str
    status: str
    team_id: str | None
    in_team_inbox: bool
    trashed_for_everyone: bool
    spam: bool
    snoozed_until: int | None
    merged_into: str | None
    last_activity_at: int


@dataclass(frozen=True)
class UserRow:
    user_id: str
    inbox: bool
    unread: bool
    chat_unread: bool
    watching: bool
    starred: bool
    trashed: bool
    snoozed_until: int | None
    assigned: bool
    bumped_at: int


@dataclass(frozen=True)
class ConversationIndex:
    row: ConversationRow
    users: tuple[UserRow, ...]
    labels: tuple[str, ...]


def project(conv: Conversation) -> ConversationIndex:
    row = ConversationRow(
        id=conv.id,
        org_id=conv.org_id,
        kind=conv.kind,
        subject=conv.subject,
        status=conv.status,
        team_id=conv.team,
        in_team_inbox=conv.in_team_inbox,
        trashed_for_everyone=conv.trashed_for_everyone,
        spam=conv.spam,
        snoozed_until=conv.snooze.until if conv.snooze else None,
        merged_into=conv.merged_into,
        last_activity_at=conv.last_activity_at,
    )
    users = tuple(
        UserRow(
            user_id=uid,
            inbox=state.inbox,
            unread=state.unread,
            chat_unread=state.chat_unread,
            watching=state.watching,
            starred=state.starred,
            trashed=state.trashed,
            snoozed_until=state.snooze.until if state.snooze else None,
            assigned=uid in conv.assignees,
            bumped_at=state.bumped_at,
        )
        for uid, state in sorted(conv.users.items())
    )
    return ConversationIndex(row, users, tuple(sorted(set(conv.labels))))
