"""Merging two conversations and moving an email out into a new one (rows 48, 49).

Both act on more than one conversation, so the runner loads every conversation involved
under one lock and one transaction (`ConversationWriter.change_many`); these functions
only change the dataclasses they are given.
"""

from __future__ import annotations

import dataclasses

from server.conversations.machine_base import check_actor, empty, record, touch
from server.conversations.model import (
    MAX_LABELS,
    MAX_MESSAGES,
    Conversation,
    Directory,
    UserState,
)
from server.errors import InvalidInput, Unprocessable


def merge(
    source: Conversation,
    target: Conversation,
    actor: str,
    *,
    subject: str | None = None,
    now: int,
    directory: Directory,
) -> None:
    """Fold `source` into `target` (row 48, L7848–7939).

    The target gets the source's messages (one copy of a mail both hold: a mail duplicated
    per team merges back into one), comments and posts in time order, its tasks and Send
    Later drafts, the union of labels, assignees, access and drafts, and a `merged` event;
    the source keeps only a pointer to the target (`merged_into`), so people viewing it
    are sent there. The target keeps its team, status and snooze, except that an open source reopens
    a closed target (its open work must not vanish into the Closed mailbox)."""
    if source.id == target.id:
        raise InvalidInput("a conversation cannot be merged into itself", field="target")
    if target.org_id != source.org_id:
        raise Unprocessable("conversations of different organizations cannot merge", field="target")
    check_actor(source, actor, directory)
    check_actor(target, actor, directory)
    if source.is_room or target.is_room:
        raise Unprocessable("rooms cannot be merged", field="target")
    if source.message_count >= MAX_MESSAGES and target.message_count >= MAX_MESSAGES:
        raise Unprocessable(
            f"both conversations hold {MAX_MESSAGES} or more messages", field="target"
        )
    if subject is not None and not subject.strip():
        raise InvalidInput("the subject must not be empty", field="subject")
    _fold(source, target, actor, subject, now)


SPLIT_EVENTS = frozenset({"message_moved", "moved_from"})


def join_threads(source: Conversation, target: Conversation, *, now: int, link: str) -> None:
    """Fold `source` into `target` because a mail linked them (`link`, the Message-ID that
    did): a thread split by parents that arrived late comes back together. Nobody asked
    for it, so it is refused where a person's choice or a limit stands in the way: either
    was split by moving an email out, a room, the 400-message cap, deleted or merged."""
    for conv in (source, target):
        if conv.merged_into is not None or conv.deleted:
            raise Unprocessable(f"conversation {conv.id} is gone", field="target")
        if conv.is_room:
            raise Unprocessable("rooms cannot be merged", field="target")
        if any(event.type in SPLIT_EVENTS for event in conv.events):
            raise Unprocessable(f"conversation {conv.id} was split by hand", field="target")
    if source.id == target.id or source.org_id != target.org_id:
        raise Unprocessable("not two conversations of one organization", field="target")
    held = {m.rfc_message_id for m in target.messages if m.rfc_message_id}
    moving = sum(1 for m in source.messages if not (m.rfc_message_id and m.rfc_message_id in held))
    if target.message_count + moving > MAX_MESSAGES:
        raise Unprocessable(f"together they would hold over {MAX_MESSAGES} messages")
    _fold(source, target, None, None, now, by="thread", link=link)


def _fold(
    source: Conversation,
    target: Conversation,
    actor: str | None,
    subject: str | None,
    now: int,
    **why: str,
) -> None:
    labels = list(dict.fromkeys([*target.labels, *source.labels]))
    if len(labels) > MAX_LABELS:
        raise Unprocessable(f"the merged conversation would carry over {MAX_LABELS} labels")
    chosen, custom = _merged_subject(source, target, subject)
    target.subject, target.subject_custom = chosen, custom
    held = {m.rfc_message_id for m in target.messages if m.rfc_message_id}
    moving = [m for m in source.messages if not (m.rfc_message_id and m.rfc_message_id in held)]
    target.messages = sorted([*target.messages, *moving], key=lambda m: m.at)
    target.comments = sorted([*target.comments, *source.comments], key=lambda c: c.created_at)
    target.labels = labels
    target.assignees = list(dict.fromkeys([*target.assignees, *source.assignees]))
    target.drafts = list(dict.fromkeys([*target.drafts, *source.drafts]))
    target.tasks = [*target.tasks, *source.tasks]
    target.scheduled = [*target.scheduled, *source.scheduled]
    target.posts = sorted([*target.posts, *source.posts], key=lambda p: p.created_at)
    for uid, theirs in source.users.items():
        target.users[uid] = _merged_state(target.users.get(uid), theirs)
    for uid in target.assignees:
        target.users[uid].watching = True
    if target.team is None and source.team is not None:
        target.team, target.in_team_inbox = source.team, source.in_team_inbox
    if target.assignees:
        target.in_team_inbox = False
    if source.status == "open" and target.status == "closed":
        target.status = "open"
        record(target, "reopened", actor, now)
    target.trashed_for_everyone = target.trashed_for_everyone and source.trashed_for_everyone
    target.spam = target.spam and source.spam
    # a person's merge is activity now; a thread joined by the mail that linked it is not
    touch(target, source.last_activity_at if actor is None else max(source.last_activity_at, now))
    record(target, "merged", actor, now, source=source.id, subject=source.subject, **why)

    empty(source)
    source.merged_into = target.id
    record(source, "merged_into", actor, now, target=target.id, **why)


def _merged_subject(
    source: Conversation, target: Conversation, picked: str | None
) -> tuple[str, bool]:
    """The subject rules (L7898–7918): a picked subject wins; else a custom subject over a
    mail subject; both custom, the shared one when exactly one is shared, else the
    target's; neither custom, the subject of the most recent email."""
    if picked is not None:
        return picked.strip(), True
    if source.subject_custom and target.subject_custom:
        if source.private != target.private:
            shared = target if source.private else source
            return shared.subject, True
        return target.subject, True
    for conv in (source, target):
        if conv.subject_custom:
            return conv.subject, True
    mails = sorted([*source.messages, *target.messages], key=lambda m: m.at)
    return (mails[-1].subject if mails else target.subject), False


def _merged_state(mine: UserState | None, theirs: UserState) -> UserState:
    """Access in either means access in the merged one; being in the Inbox, unread,
    watching or starring in either carries over; Trash only when both are trashed; the
    target's personal snooze wins."""
    if mine is None:
        return dataclasses.replace(theirs)
    return UserState(
        inbox=mine.inbox or theirs.inbox,
        unread=mine.unread or theirs.unread,
        chat_unread=mine.chat_unread or theirs.chat_unread,
        watching=mine.watching or theirs.watching,
        starred=mine.starred or theirs.starred,
        trashed=mine.trashed and theirs.trashed,
        snooze=mine.snooze,
        bumped_at=max(mine.bumped_at, theirs.bumped_at),
        via=mine.via,
    )


def move_message(
    conv: Conversation,
    actor: str,
    *,
    message: str,
    shared: bool,
    new_id: str,
    now: int,
    directory: Directory,
) -> Conversation:
    """Move one email out into a new conversation (row 49, L7945–7951) and return it.

    Private: only the actor has access, in their Inbox. Shared: everyone with access to
    the original keeps it in the new one as they had it (Inbox or archived, watching),
    and the team inbox too; assignees, labels, stars and snoozes stay with the original.
    Comments never move. The original's only email cannot be moved out: there would be
    nothing left to hold its comments and history."""
    check_actor(conv, actor, directory)
    moved = next((m for m in conv.messages if m.id == message), None)
    if moved is None:
        raise InvalidInput(f"no message {message} in this conversation", field="message")
    if len(conv.messages) == 1:
        raise Unprocessable("a conversation's only email cannot be moved out", field="message")
    conv.messages = [m for m in conv.messages if m.id != message]
    new = Conversation(
        id=new_id,
        org_id=conv.org_id,
        subject=moved.subject,
        messages=[dataclasses.replace(moved)],
        last_activity_at=moved.at,
    )
    if shared:
        new.team, new.in_team_inbox = conv.team, conv.in_team_inbox and not conv.assignees
        for uid, state in conv.users.items():
            new.users[uid] = UserState(
                inbox=state.inbox,
                watching=state.watching,
                trashed=state.trashed,
                bumped_at=now if state.inbox else state.bumped_at,
                via=state.via,
            )
    new.users.setdefault(actor, UserState(via="move"))
    mine = new.users[actor]
    mine.inbox, mine.watching, mine.trashed, mine.bumped_at = True, True, False, now
    record(conv, "message_moved", actor, now, message=message, to=new_id, shared=shared)
    record(new, "moved_from", actor, now, message=message, source=conv.id, shared=shared)
    return new
