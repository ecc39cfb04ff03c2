"""One user's own flags: read state, star, watch (state machine rows 41–43). None of them
touches anyone else or the timeline."""

from __future__ import annotations

from server.conversations.machine_base import check_actor
from server.conversations.model import Conversation, Directory
from server.errors import Conflict


def mark_read(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    state = check_actor(conv, actor, directory)
    state.unread = False
    state.chat_unread = False


def mark_unread(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    check_actor(conv, actor, directory).unread = True


def star(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    check_actor(conv, actor, directory).starred = True


def unstar(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    check_actor(conv, actor, directory).starred = False


def watch(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    check_actor(conv, actor, directory).watching = True


def unwatch(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Refused while assigned: assignees always watch (L7446)."""
    state = check_actor(conv, actor, directory)
    if actor in conv.assignees:
        raise Conflict("assignees always watch: unassign first")
    state.watching = False
