"""Changing posted comments: reactions, edits, deletion (state machine rows 16, 53)."""

from __future__ import annotations

from server.conversations.machine_base import check_actor, is_admin
from server.conversations.model import Comment, Conversation, Directory
from server.errors import Conflict, Forbidden, InvalidInput


def react(
    conv: Conversation,
    actor: str,
    *,
    comment: str,
    emoji: str,
    now: int,
    directory: Directory,
) -> None:
    """Row 16: toggle the actor's `emoji` on `comment`; nobody is notified, no Inbox moves."""
    check_actor(conv, actor, directory)
    if not emoji.strip():
        raise InvalidInput("an emoji is required", field="emoji")
    target = _live_comment(conv, comment)
    users = target.reactions.setdefault(emoji, [])
    if actor in users:
        users.remove(actor)
        if not users:
            del target.reactions[emoji]
    else:
        users.append(actor)


def edit_comment(
    conv: Conversation,
    actor: str,
    *,
    comment: str,
    body: str,
    now: int,
    directory: Directory,
) -> None:
    """Authors edit their own comments (L8799); mentions are not sent again."""
    check_actor(conv, actor, directory)
    target = _live_comment(conv, comment)
    if target.author != actor:
        raise Forbidden("only the author can edit a comment", field="comment")
    if not body.strip():
        raise InvalidInput("a comment needs a body", field="body")
    target.body = body
    target.edited_at = now


def delete_comment(
    conv: Conversation, actor: str, *, comment: str, now: int, directory: Directory
) -> None:
    """Row 53: gone for everyone, irreversibly; owners and admins may delete any comment,
    members their own."""
    check_actor(conv, actor, directory)
    target = _live_comment(conv, comment)
    if target.author != actor and not is_admin(actor, directory):
        raise Forbidden("members delete only their own comments", field="comment")
    target.deleted = True
    target.body = ""
    target.reactions.clear()
    target.mentions.clear()


def _live_comment(conv: Conversation, comment: str) -> Comment:
    for existing in conv.comments:
        if existing.id == comment:
            if existing.deleted:
                raise Conflict(f"comment {comment} was deleted", field="comment")
            return existing
    raise InvalidInput(f"no comment {comment} in this conversation", field="comment")
