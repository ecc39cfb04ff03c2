"""Reply drafts in a conversation (state machine rows 45, 47).

A reply draft is a `draft:<id>` document that everyone with access to the conversation
co-writes; the conversation lists it, which puts the conversation in every such person's
Drafts mailbox. Starting one is the author's own act: they watch the conversation if their
"auto-watch on draft" preference says so (the default), and nobody else's Inbox moves.
Discarding takes it out of everyone's Drafts and leaves a `draft_discarded` event from
which it can be restored.
"""

from __future__ import annotations

from server.conversations.machine_base import check_actor, record, refuse_room
from server.conversations.model import Conversation, Directory, ScheduledSend
from server.errors import Conflict, InvalidInput


def add_draft(
    conv: Conversation, actor: str, *, draft_id: str, now: int, directory: Directory
) -> None:
    state = check_actor(conv, actor, directory)
    refuse_room(conv, "given an email draft")
    if draft_id in conv.drafts:
        raise Conflict(f"draft {draft_id} is already here", field="draft")
    conv.drafts.append(draft_id)
    if directory.prefs(actor).auto_watch_draft:
        state.watching = True


def discard_draft(
    conv: Conversation, actor: str, *, draft_id: str, now: int, directory: Directory
) -> None:
    check_actor(conv, actor, directory)
    if draft_id not in conv.drafts:
        raise InvalidInput(f"no draft {draft_id} in this conversation", field="draft")
    conv.drafts.remove(draft_id)
    record(conv, "draft_discarded", actor, now, draft=draft_id)


def remove_draft(
    conv: Conversation, actor: str, *, draft_id: str, now: int, directory: Directory
) -> None:
    """Delete a draft (`DELETE /v1/drafts/:id`): out of everyone's Drafts with its document,
    so unlike a discard it cannot be restored. A scheduled one is unscheduled first."""
    check_actor(conv, actor, directory)
    if any(entry.draft_id == draft_id for entry in conv.scheduled):
        raise Conflict(f"draft {draft_id} is scheduled to send: unschedule it first", field="draft")
    if draft_id in conv.drafts:
        conv.drafts.remove(draft_id)
    record(conv, "draft_deleted", actor, now, draft=draft_id)


def restore_draft(
    conv: Conversation, actor: str, *, draft_id: str, now: int, directory: Directory
) -> None:
    """Undo a discard, from its timeline event; a deleted draft is gone."""
    check_actor(conv, actor, directory)
    events = {e.type for e in conv.events if e.data.get("draft") == draft_id}
    if "draft_discarded" not in events or "draft_deleted" in events:
        raise InvalidInput(f"no discarded draft {draft_id} in this conversation", field="draft")
    if draft_id in conv.drafts:
        return
    conv.drafts.append(draft_id)
    record(conv, "draft_restored", actor, now, draft=draft_id)


def schedule_send(
    conv: Conversation,
    actor: str,
    *,
    draft_id: str,
    outbox_id: str,
    at: int,
    discard_if_reply: bool,
    now: int,
    directory: Directory,
) -> None:
    """Row 34: Send Later — the draft leaves Drafts for Send Later until `at`."""
    check_actor(conv, actor, directory)
    if draft_id not in conv.drafts:
        raise InvalidInput(f"no draft {draft_id} in this conversation", field="draft")
    if at <= now:
        raise InvalidInput("a Send Later time is in the future", field="send_at")
    conv.drafts.remove(draft_id)
    conv.scheduled.append(ScheduledSend(draft_id, outbox_id, at, actor, discard_if_reply))
    record(conv, "send_scheduled", actor, now, draft=draft_id, at=at)


def unschedule_send(
    conv: Conversation, actor: str, *, draft_id: str, now: int, directory: Directory
) -> None:
    """Back to editing: out of Send Later, into Drafts."""
    check_actor(conv, actor, directory)
    entry = next((s for s in conv.scheduled if s.draft_id == draft_id), None)
    if entry is None:
        raise InvalidInput(f"draft {draft_id} is not scheduled here", field="draft")
    conv.scheduled.remove(entry)
    conv.drafts.append(draft_id)
    record(conv, "send_unscheduled", actor, now, draft=draft_id)


def discard_scheduled_on_reply(conv: Conversation, now: int) -> tuple[str, ...]:
    """Row 10: a reply arriving first discards every Send Later draft set to "discard if
    anyone replies" — it is never sent. Returns their outbox ids for the caller to cancel."""
    gone = [entry for entry in conv.scheduled if entry.discard_if_reply]
    for entry in gone:
        conv.scheduled.remove(entry)
        record(conv, "draft_discarded", None, now, draft=entry.draft_id, by_reply=True)
    return tuple(entry.outbox_id for entry in gone)
