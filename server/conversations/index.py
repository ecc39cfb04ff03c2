"""The relational projection of a conversation: the rows mailbox queries read. Pure, so
`tandem reindex` can rebuild every row from the documents alone."""

from __future__ import annotations

from dataclasses import dataclass

from server.conversations.model import Conversation, UserState


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
    preview: str
    assignee_ids: str  # comma-joined, for list rows
    last_activity_at: int
    sent_at: int | None  # the last outbound message (the Sent mailbox)
    drafts_count: int  # live drafts listed (the Drafts mailbox)
    scheduled_count: int  # drafts set to Send Later (the Send Later mailbox)


@dataclass(frozen=True)
class UserRow:
    user_id: str
    inbox: bool
    unread: bool
    chat_unread: bool
    watching: bool
    starred: bool
    trashed: bool
    snoozed_until: int | None  # the later of their own snooze and the one for everyone
    snooze_hides: bool  # one of them hides it from their Inbox (no "leave in Inbox")
    assigned: bool
    bumped_at: int
    activity_at: int  # the conversation's last activity, copied so per-user lists sort on an index
    hidden_until: int | None  # the later of the snoozes that hide it (Inbox, team inboxes)


@dataclass(frozen=True)
class ConversationIndex:
    row: ConversationRow
    users: tuple[UserRow, ...]
    labels: tuple[str, ...]
    keys: tuple[tuple[str, str], ...] = ()  # (kind, key) the API finds it by: "post", "reference"


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
        preview=_preview(conv),
        assignee_ids=",".join(conv.assignees),
        last_activity_at=conv.last_activity_at,
        sent_at=max((m.at for m in conv.messages if m.direction == "out"), default=None),
        drafts_count=len(conv.drafts),
        scheduled_count=len(conv.scheduled),
    )
    users = tuple(_user_row(conv, uid, state) for uid, state in sorted(conv.users.items()))
    keys = {("post", post.id) for post in conv.posts}
    keys |= {("reference", ref) for post in conv.posts for ref in post.references}
    return ConversationIndex(row, users, tuple(sorted(set(conv.labels))), tuple(sorted(keys)))


def _user_row(conv: Conversation, uid: str, state: UserState) -> UserRow:
    snoozes = [s for s in (state.snooze, conv.snooze) if s is not None]
    hiding = [s.until for s in snoozes if not s.leave_in_inbox]
    return UserRow(
        user_id=uid,
        inbox=state.inbox,
        unread=state.unread,
        chat_unread=state.chat_unread,
        watching=state.watching,
        starred=state.starred,
        trashed=state.trashed,
        snoozed_until=max((s.until for s in snoozes), default=None),
        snooze_hides=bool(hiding),
        assigned=uid in conv.assignees or conv.has_open_task_for(uid),
        bumped_at=state.bumped_at,
        activity_at=conv.last_activity_at,
        hidden_until=max(hiding, default=None),
    )


def _preview(conv: Conversation) -> str:
    """The last message's preview; without messages, the last post's, else the last comment."""
    if conv.messages:
        return conv.messages[-1].preview
    posts = [p for p in conv.posts if not p.deleted]
    if posts:
        title = (posts[-1].notification or {}).get("title", "")
        return (posts[-1].text or posts[-1].markdown or title)[:200]
    comments = [c for c in conv.comments if not c.deleted]
    return comments[-1].body[:200] if comments else ""
