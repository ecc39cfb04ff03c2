"""Posts: an integration's cards in the timeline (`POST /v1/posts`, `DELETE /v1/posts/:id`).

A post reads as an arrival, like a colleague posting in the conversation (L355 "A colleague
posts in a conversation you're watching"): unread for everyone with access — its owner too,
since an integration wrote it, not the person whose token it used — and, when it carries a
`notification`, back at the top of every watcher's Inbox (not out of their own Trash). A
post without a notification is silent: unread, nobody's Inbox moves. The readings are in
docs/behaviour.md ("Posts")."""

from __future__ import annotations

from server.conversations.machine_base import (
    bring_back,
    check_actor,
    is_admin,
    touch,
    watchers,
)
from server.conversations.model import Conversation, Directory, Post, UserState
from server.errors import Conflict, Forbidden, InvalidInput, NotFound


def start_conversation(
    conv_id: str, org_id: str, actor: str, *, subject: str, now: int
) -> Conversation:
    """A conversation a post starts: only its poster has access until the post's
    parameters share it (`apply_changes` with `created=True` places it)."""
    return Conversation(
        id=conv_id,
        org_id=org_id,
        subject=subject,
        last_activity_at=now,
        users={actor: UserState(via="post")},
    )


def add_post(conv: Conversation, actor: str, *, post: Post, now: int, directory: Directory) -> None:
    check_actor(conv, actor, directory)
    if not (post.text.strip() or post.markdown.strip() or post.attachments):
        raise InvalidInput("a post needs text, markdown or attachments", field="text")
    if any(existing.id == post.id for existing in conv.posts):
        raise Conflict(f"post {post.id} already exists", field="id")
    following = watchers(conv)
    for uid, state in conv.users.items():
        state.unread = True
        if post.notification is not None and uid in following:
            bring_back(state, now)
    conv.posts.append(post)
    touch(conv, post.created_at)


def delete_post(
    conv: Conversation, actor: str, *, post: str, now: int, directory: Directory
) -> None:
    """Gone for everyone; what the post changed stays. In a conversation shared with others
    only owners and admins may delete (§2.4.2); in a private one, its only user."""
    check_actor(conv, actor, directory)
    target = next((p for p in conv.posts if p.id == post and not p.deleted), None)
    if target is None:
        raise NotFound(f"no post {post}")
    if not conv.private and not is_admin(actor, directory):
        raise Forbidden("only owners and admins delete posts in shared conversations")
    target.deleted = True
    target.text = target.markdown = ""
    target.notification = None
    target.attachments = []
