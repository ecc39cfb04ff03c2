"""Who may open which document, and how: the policy behind every websocket, and the
same rule for the HTTP endpoints that act on a conversation."""

from __future__ import annotations

from crdt.awareness import Identity
from crdt.errors import AccessDenied, CloseCode, ProtocolError
from crdt.schemas import parse_name
from crdt.socket import Grant
from server.errors import Conflict, Forbidden, Merged, NotFound
from server.storage.base import Draft, Storage, User


async def grant_for(storage: Storage, user: User | None, name: str) -> Grant:
    if user is None:
        raise AccessDenied(CloseCode.UNAUTHORIZED, "sign in or send a valid token")
    try:
        parsed = parse_name(name)
    except ProtocolError as exc:
        raise AccessDenied(exc.code, exc.reason) from None
    identity = Identity(user_id=user.id, name=user.name or user.email)
    if parsed.kind == "user":  # the per-user live stream: one's own only, never stored
        if parsed.id != user.id:
            raise AccessDenied(CloseCode.FORBIDDEN, f"you may not open {name}")
        return Grant(identity, read_only=True, feed=True)
    record = await storage.get_document(name)
    if record is None:
        raise AccessDenied(CloseCode.NOT_FOUND, f"no such document: {name}")
    if parsed.kind == "draft" and record.owner_id == user.id:
        return Grant(identity, read_only=False)
    if parsed.kind == "draft":  # a reply draft: everyone with access to its conversation
        draft = await storage.get_draft(parsed.id)
        conv_id = draft.conversation_id if draft is not None else None
        if conv_id and await storage.conversation_access(conv_id, user.id):
            return Grant(identity, read_only=draft is not None and draft.status != "editing")
    if parsed.kind == "conv" and await storage.conversation_access(parsed.id, user.id):
        return Grant(identity, read_only=True)  # conversations are written by the server
    raise AccessDenied(CloseCode.FORBIDDEN, f"you may not open {name}")


async def conversation_org_for(storage: Storage, user_id: str, conv_id: str) -> str:
    """The organization of a conversation `user_id` may act on: `404` when there is none
    (or it is another organization's), `404 merged` naming the survivor, `403` for a
    member of its organization without access."""
    found = await storage.conversation_org(conv_id)
    memberships = {m.org_id for m in await storage.memberships_for_user(user_id)}
    if found is None or found[0] not in memberships:
        raise NotFound(f"no conversation {conv_id}")
    org_id, merged_into = found
    if merged_into:
        raise Merged(f"conversation {conv_id} was merged", target=merged_into)
    if not await storage.conversation_access(conv_id, user_id):
        raise Forbidden("you have no access to this conversation")
    return org_id


async def draft_for(storage: Storage, user_id: str, draft_id: str, *, editing: bool) -> Draft:
    """A draft `user_id` may edit — its author, or anyone with access to its conversation —
    else `404`; with `editing`, `409` naming `draft` unless it is still being written (not
    being sent, scheduled or sent)."""
    draft = await storage.get_draft(draft_id)
    allowed = draft is not None and (
        draft.author_id == user_id
        or (
            draft.conversation_id is not None
            and await storage.conversation_access(draft.conversation_id, user_id)
        )
    )
    if draft is None or not allowed:
        raise NotFound(f"no draft {draft_id}")
    if editing and draft.status != "editing":
        raise Conflict(f"this draft is {draft.status}: it can no longer be edited", field="draft")
    return draft
