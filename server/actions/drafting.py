"""Starting a draft: a reply in a conversation (row 45), or a new email in a new
conversation private to its author (row 46).

The draft document is seeded once, here, before anyone can connect — so two people
opening the same reply never seed it twice — with its subject, its recipients, the From
its author sends as (AL-8 for a reply, AL-9 for a new email; `server.actions.identity`)
and that alias's signature (SG-1, SG-3). The headers a seed writes:

    from, from_name, alias_id   the sending identity (the client may switch it later)
    signature                   {"id", "html", "text"}: the block sent below the body
    subject, to_fields, cc_fields, bcc_fields
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crdt.schemas import draft_seed
from server.actions.directory import load_directory
from server.actions.identity import Identity, chosen_identity, new_email_identity, reply_identity
from server.conversations.machine_drafts import add_draft
from server.conversations.model import Conversation, UserState, latest
from server.errors import AppError

if TYPE_CHECKING:
    from server.services import Services

Recipients = dict[str, list[dict[str, str]]]  # to_fields / cc_fields / bcc_fields


@dataclass(frozen=True)
class Started:
    draft_id: str
    conversation_id: str
    subject: str
    recipients: Recipients = field(default_factory=dict)
    sender: Identity | None = None

    def json(self) -> dict[str, object]:
        return {
            "id": self.draft_id,
            "document": f"draft:{self.draft_id}",
            "conversation": self.conversation_id,
            "subject": self.subject,
            "to": [r["address"] for r in self.recipients.get("to_fields", [])],
            "from": identity_json(self.sender),
        }


def identity_headers(identity: Identity | None) -> dict[str, object]:
    if identity is None:
        return {}
    return {
        "from": identity.address,
        "from_name": identity.name,
        "alias_id": identity.alias_id,
        "signature": {
            "id": identity.signature_id,
            "html": identity.signature_html,
            "text": identity.signature_text,
        },
    }


def identity_json(identity: Identity | None) -> dict[str, object] | None:
    if identity is None:
        return None
    return {"address": identity.address, "name": identity.name, "alias": identity.alias_id,
            "signature": identity.signature_id}  # fmt: skip


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def reply_recipients(conv: Conversation) -> list[str]:
    inbound = [m for m in conv.messages if m.direction == "in"]
    return [latest(inbound).from_address] if inbound else []


async def start_reply(
    services: Services, user_id: str, org_id: str, conv_id: str, paragraphs: list[str] | None = None
) -> Started:
    """A reply draft in `conv_id` (the caller checked access), in everyone's Drafts."""
    directory = await load_directory(services.storage, org_id)
    conv = await services.conversations.read(conv_id)
    sender = await reply_identity(services.storage, org_id, user_id, conv)
    draft_id, subject = str(uuid.uuid4()), reply_subject(conv.subject)
    to = reply_recipients(conv)
    recipients: Recipients = {"to_fields": [{"address": a} for a in to]} if to else {}
    headers = {**identity_headers(sender), **recipients}
    seed = draft_seed(subject, paragraphs or [""], headers)
    await services.storage.create_draft(draft_id, org_id, user_id, subject, seed, conv_id)
    now = int(time.time() * 1000)
    try:
        await services.conversations.change(
            conv_id,
            lambda c: add_draft(c, user_id, draft_id=draft_id, now=now, directory=directory),
        )
    except AppError:
        await services.storage.delete_draft(draft_id)  # refused: leave no orphan document
        raise
    return Started(draft_id, conv_id, subject, recipients, sender)


async def start_new(
    services: Services,
    user_id: str,
    org_id: str,
    *,
    sender: str = "",
    subject: str = "",
    recipients: Recipients | None = None,
    paragraphs: list[str] | None = None,
) -> Started:
    """A new email from `sender` (an alias address the user may send from; empty: their
    default sender, AL-9) in a new conversation only its author sees, in their Drafts."""
    storage = services.storage
    if sender:
        identity: Identity | None = await chosen_identity(storage, org_id, user_id, sender)
    else:
        identity = await new_email_identity(storage, org_id, user_id)
    directory = await load_directory(storage, org_id)
    draft_id, now = str(uuid.uuid4()), int(time.time() * 1000)
    recipients = {key: value for key, value in (recipients or {}).items() if value}
    seed = draft_seed(subject, paragraphs or [""], {**identity_headers(identity), **recipients})
    conv = Conversation(
        id=str(uuid.uuid4()),
        org_id=org_id,
        subject=subject,
        last_activity_at=now,
        users={
            user_id: UserState(
                watching=directory.prefs(user_id).auto_watch_draft, bumped_at=now, via="draft"
            )
        },
        drafts=[draft_id],
    )
    await storage.create_draft(draft_id, org_id, user_id, subject, seed, conv.id)
    await services.conversations.create(conv)
    return Started(draft_id, conv.id, subject, recipients, identity)
