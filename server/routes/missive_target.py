"""Where a Missive-compatible write goes (reference §2.0): the organizations a request
searches (`organization`, else all of the user's), and the conversation that `conversation`
or `references` name among those the user can see — shared by `POST /v1/posts` and
`POST /v1/drafts`. A merged-away conversation means the one it was merged into."""

from __future__ import annotations

from server.errors import Forbidden, InvalidInput
from server.routes.missive_input import Fields
from server.services import Services
from server.storage.base import User


async def user_orgs(services: Services, user: User) -> dict[str, str]:
    """The user's organizations: id -> role."""
    return {m.org_id: m.role for m in await services.storage.memberships_for_user(user.id)}


async def searched_orgs(services: Services, user: User, item: Fields) -> list[str]:
    """`organization` (which must be one of the user's), else every organization of theirs,
    in membership order: the first is where a new conversation goes."""
    memberships = await user_orgs(services, user)
    wanted = item.text("organization")
    if wanted is not None and wanted not in memberships:
        raise Forbidden(
            "you are not a member of that organization", field=item.name("organization")
        )
    if not memberships:
        raise Forbidden("you are not a member of any organization")
    return [wanted] if wanted is not None else list(memberships)


async def visible_conversation(
    services: Services, user: User, conv_id: str | None, orgs: list[str]
) -> tuple[str, str] | None:
    """(conversation, organization) — the one it was merged into if it was — when the user
    sees it in one of `orgs`."""
    found = await services.storage.conversation_org(conv_id) if conv_id else None
    if conv_id and found is not None and found[1]:
        conv_id, found = found[1], await services.storage.conversation_org(found[1])
    if not conv_id or found is None or found[0] not in orgs:
        return None
    if not await services.storage.conversation_access(conv_id, user.id):
        return None
    return conv_id, found[0]


def references_of(item: Fields) -> list[str]:
    """`references`; chevrons are optional (`<x>` is `x`): kept bare."""
    refs = [ref.strip().removeprefix("<").removesuffix(">") for ref in item.ids("references")]
    if not all(refs):
        raise InvalidInput("a reference cannot be empty", field=item.name("references"))
    return list(dict.fromkeys(refs))


async def find_target(
    services: Services, user: User, item: Fields, refs: list[str], orgs: list[str]
) -> tuple[str, str] | None:
    """(conversation, organization): `conversation`, else the first one a reference finds
    (posts' references, then email Message-IDs), else None for a new one."""
    if item.has("conversation"):
        wanted = item.text("conversation") or ""
        visible = await visible_conversation(services, user, wanted, orgs)
        if visible is None:
            raise InvalidInput(
                f"no conversation {wanted} that you can see", field=item.name("conversation")
            )
        return visible
    if not refs:
        return None
    for org_id in orgs:
        by_post = await services.storage.conversations_for_references(org_id, refs)
        by_mail = await services.storage.conversations_for_message_ids(
            org_id, [f"<{ref}>" for ref in refs]
        )
        for ref in refs:
            for conv_id in [*by_post.get(ref, []), by_mail.get(f"<{ref}>")]:
                visible = await visible_conversation(services, user, conv_id, orgs)
                if visible is not None:
                    return visible
    return None
