"""The Missive-compatible write API for conversations (`reference/missive-rest-api.md`
§2.0, §2.1.7, §2.1.8, §2.4): `POST /v1/posts`, `DELETE /v1/posts/:id`,
`PATCH /v1/conversations/:ids` and `POST /v1/conversations/:id/merge`. Everything they
change goes through the state machine (`machine_modify.apply_changes`, `reshape.merge`)
inside one conversation writer transaction; bad input is
refused, naming the field, before anything is locked. Shared labels and teams are in
`missive_org_write`."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions import reshape
from server.actions.directory import load_directory
from server.auth import require_user
from server.conversations.machine_modify import Changes, apply_changes, check_changes
from server.conversations.machine_posts import delete_post, start_conversation
from server.conversations.model import Conversation, Directory, Post
from server.errors import Forbidden, InvalidInput, Merged, NotFound
from server.json import json_response, read_json_object
from server.routes import missive_org_write
from server.routes.missive_input import (
    CHANGE_KEYS,
    Fields,
    changes_of,
    named,
    objects,
    path_ids,
)
from server.routes.missive_objects import conversation_object, org_view
from server.routes.missive_target import (
    find_target,
    references_of,
    searched_orgs,
    user_orgs,
    visible_conversation,
)
from server.services import Services, services_of
from server.storage.base import User

POST_KEYS = CHANGE_KEYS | {
    "notification",
    "text",
    "markdown",
    "attachments",
    "username",
    "username_icon",
    "conversation_icon",
    "conversation_subject",
    "conversation_color",
    "references",
    "conversation",
    "created_at",
}
PATCH_KEYS = CHANGE_KEYS | {"id", "subject", "conversation_subject", "color", "conversation_color"}
CARD_TEXT = ("pretext", "author_name", "author_link", "author_icon", "title", "title_link",
             "image_url", "text", "markdown", "footer", "footer_icon")  # fmt: skip
MAX_TEXT = 20_000
MAX_ATTACHMENTS = 20


def _now() -> int:
    return int(time.time() * 1000)


def _notification(item: Fields) -> dict[str, str] | None:
    if not item.has("notification"):
        return None
    note = Fields(item.data["notification"], item.name("notification"))
    note.only({"title", "body"})
    return {"title": note.text("title") or "", "body": note.text("body", limit=MAX_TEXT) or ""}


def _attachments(item: Fields) -> list[dict[str, object]]:
    raw = item.data.get("attachments") or []
    if not isinstance(raw, list) or len(raw) > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"'{item.name('attachments')}' is a list of at most {MAX_ATTACHMENTS} cards",
            field=item.name("attachments"),
        )
    cards: list[dict[str, object]] = []
    for index, data in enumerate(raw):
        card = Fields(data, f"{item.name('attachments')}[{index}]")
        card.only({*CARD_TEXT, "color", "timestamp", "fields"})
        out: dict[str, object] = {k: card.text(k, limit=MAX_TEXT) for k in CARD_TEXT if card.has(k)}
        if card.has("color"):
            out["color"] = card.color("color")
        if card.has("timestamp"):
            out["timestamp"] = card.integer("timestamp")
        if card.has("fields"):
            out["fields"] = _card_fields(card)
        cards.append(out)
    return cards


def _card_fields(card: Fields) -> list[dict[str, object]]:
    raw = card.data["fields"]
    if not isinstance(raw, list):
        raise InvalidInput(f"'{card.name('fields')}' must be a list", field=card.name("fields"))
    rows: list[dict[str, object]] = []
    for index, data in enumerate(raw):
        row = Fields(data, f"{card.name('fields')}[{index}]")
        row.only({"title", "value", "short"})
        rows.append({"title": row.text("title") or "", "value": row.text("value") or "",
                     "short": row.boolean("short") or False})  # fmt: skip
    return rows


def _post(item: Fields, author: str, now: int) -> Post:
    created = item.integer("created_at")
    if created is not None and not 0 <= created * 1000 <= now + 60_000:
        raise InvalidInput("'posts.created_at' is in the future", field="posts.created_at")
    post = Post(
        id=str(uuid.uuid4()),
        author=author,
        created_at=created * 1000 if created is not None else now,
        text=item.text("text", limit=MAX_TEXT) or "",
        markdown=item.text("markdown", limit=MAX_TEXT) or "",
        username=item.text("username"),
        username_icon=item.text("username_icon"),
        conversation_icon=item.text("conversation_icon"),
        notification=_notification(item),
        attachments=_attachments(item),
        references=references_of(item),
    )
    if not (post.text.strip() or post.markdown.strip() or post.attachments):
        raise InvalidInput("a post needs text, markdown or attachments", field="posts.text")
    return post


async def create_post(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    body = await read_json_object(request)
    if not isinstance(body.get("posts"), dict):
        raise InvalidInput('the body must be {"posts": {...}}', field="posts")
    item = Fields(body["posts"], "posts")
    item.only(POST_KEYS)
    changes = changes_of(item, subject=("conversation_subject",), color=("conversation_color",))
    now = _now()
    post = _post(item, user.id, now)
    orgs = await searched_orgs(services, user, item)
    target = await find_target(services, user, item, post.references, orgs)
    directory = await load_directory(services.storage, target[1] if target else orgs[0])
    with named("posts"):
        check_changes(changes, directory)
        conv_id = target[0] if target else None
        conv = await _write_post(services, user, conv_id, changes, post, directory, now)
    return json_response({"posts": {"id": post.id, "conversation": conv.id}}, status_code=201)


async def _write_post(
    services: Services,
    user: User,
    conv_id: str | None,
    changes: Changes,
    post: Post,
    directory: Directory,
    now: int,
) -> Conversation:
    if conv_id is not None:

        def change(conv: Conversation) -> None:
            apply_changes(conv, user.id, changes, post=post, now=now, directory=directory)

        return await services.conversations.change(conv_id, change)
    subject = (post.notification or {}).get("title", "")
    conv = start_conversation(
        str(uuid.uuid4()), directory.org_id, user.id, subject=subject, now=now
    )
    apply_changes(conv, user.id, changes, post=post, created=True, now=now, directory=directory)
    return await services.conversations.create(conv)


async def remove_post(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    post_id = request.path_params["post_id"]
    holder = await services.storage.conversation_for_post(post_id)
    found = await visible_conversation(
        services, user, holder, list(await user_orgs(services, user))
    )
    if found is None:
        raise NotFound(f"no post {post_id}")
    conv_id, org_id = found
    directory = await load_directory(services.storage, org_id)
    now = _now()

    def change(conv: Conversation) -> None:
        delete_post(conv, user.id, post=post_id, now=now, directory=directory)

    await services.conversations.change(conv_id, change)
    return Response(status_code=204)


async def update_conversations(request: Request) -> Response:
    """`PATCH /v1/conversations/:ids`: every object checked, then all of them changed in one
    transaction (or none)."""
    services = services_of(request)
    user = await require_user(request)
    ids = path_ids(request.path_params["ids"])
    items = objects(await read_json_object(request), "conversations")
    memberships = await user_orgs(services, user)
    directories: dict[str, Directory] = {}
    plan: list[tuple[str, Changes, Directory, str]] = []
    for item in items:
        item.only(PATCH_KEYS)
        conv_id = item.text("id", required=True) or ""
        if conv_id not in ids:
            raise InvalidInput(f"{conv_id} is not among the ids in the path", field=item.name("id"))
        changes = changes_of(
            item, subject=("subject", "conversation_subject"), color=("color", "conversation_color")
        )
        wanted = item.text("organization")
        if wanted is not None and wanted not in memberships:
            raise Forbidden(
                "you are not a member of that organization", field=item.name("organization")
            )
        found = await visible_conversation(services, user, conv_id, list(memberships))
        if found is None:
            raise NotFound(f"no conversation {conv_id}")
        target, org_id = found
        if wanted is not None and wanted != org_id:
            raise InvalidInput(
                f"{conv_id} is not in that organization", field=item.name("organization")
            )
        if org_id not in directories:
            directories[org_id] = await load_directory(services.storage, org_id)
        with named(item.where):
            check_changes(changes, directories[org_id])
        plan.append((target, changes, directories[org_id], item.where))
    if {item.data["id"] for item in items} != set(ids):
        raise InvalidInput("send one object for each id in the path", field="conversations")
    now = _now()

    def change(convs: dict[str, Conversation]) -> list[Conversation]:
        for target, changes, directory, where in plan:
            with named(where):
                apply_changes(convs[target], user.id, changes, now=now, directory=directory)
        return []

    done = await services.conversations.change_many([p[0] for p in plan], change)
    views = {org_id: await org_view(services, org_id) for org_id in directories}
    answer: list[dict[str, Any]] = [
        conversation_object(views[done[target].org_id], done[target]) for target, *_ in plan
    ]
    return json_response({"conversations": answer})


async def merge_conversation(request: Request) -> Response:
    """`POST /v1/conversations/:id/merge` `{"target", "subject"?}` (§2.1.8): the conversation
    in the path folds into `target`, which answers. Tandem never swaps the two."""
    services = services_of(request)
    user = await require_user(request)
    source = request.path_params["conv_id"]
    body = Fields(await read_json_object(request), "")
    body.only({"target", "subject"})
    target = body.text("target", required=True) or ""
    subject = body.text("subject", limit=998)
    orgs = list(await user_orgs(services, user))
    found = await visible_conversation(services, user, source, orgs)
    if found is None:
        raise NotFound(f"no conversation {source}")
    if found[0] != source:
        raise Merged(f"conversation {source} was merged", target=found[0])
    if await visible_conversation(services, user, target, orgs) is None:
        raise NotFound(f"no conversation {target}", field="target")
    directory = await load_directory(services.storage, found[1])
    merged = await reshape.merge(services, user.id, source, target, subject, directory)
    view = await org_view(services, merged.org_id)
    return json_response({"conversations": [conversation_object(view, merged)]})


routes: list[BaseRoute] = [
    Route("/v1/conversations/{conv_id}/merge", merge_conversation, methods=["POST"]),
    Route("/v1/posts", create_post, methods=["POST"]),
    Route("/v1/posts/{post_id}", remove_post, methods=["DELETE"]),
    Route("/v1/conversations/{ids}", update_conversations, methods=["PATCH"]),
    *missive_org_write.routes,
]
