"""Starting a draft: a reply in a conversation (row 45), or a new email in a new
conversation private to its author (row 46).

The draft document is seeded once, here, before anyone can connect — so two people
opening the same reply never seed it twice — with its subject, its recipients, the From
its author sends as (AL-8 for a reply, AL-9 for a new email; `server.actions.identity`)
and that alias's signature (SG-1, SG-3). The headers a seed writes:

    from, from_name, alias_id   the sending identity (the client may switch it later)
    signature                   {"id", "html", "text"}: the block sent below the body
    subject, to_fields, cc_fields, bcc_fields

A draft is planned first (`reply_seed`, `new_seed` only read), so a caller can check what
it would be before anything is written, then created (`create_reply`, `create_new`),
optionally with more changes to its conversation in the transaction that lists it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from crdt.schemas import draft_seed
from server.actions.directory import load_directory
from server.actions.identity import Identity, chosen_identity, new_email_identity, reply_identity
from server.conversations.machine_drafts import add_draft
from server.conversations.model import Conversation, Directory, UserState, latest
from server.conversations.times import zone
from server.errors import AppError
from server.storage.base import Storage
from sync.mime import parse_message

if TYPE_CHECKING:
    from server.services import Services

Recipients = dict[str, list[dict[str, str]]]  # to_fields / cc_fields / bcc_fields
Shape = Callable[[Conversation], None]  # more changes, with the draft, in one transaction
MAX_QUOTE = 20_000  # characters of a quoted message; the rest is cut


@dataclass(frozen=True)
class Seed:
    """What a draft starts with."""

    subject: str
    recipients: Recipients
    sender: Identity | None
    paragraphs: list[str]
    quote: list[str] = field(default_factory=list)  # a quoted message, in a blockquote

    def update(self) -> bytes:
        given = {key: value for key, value in self.recipients.items() if value}
        headers = {**identity_headers(self.sender), **given}
        return draft_seed(self.subject, self.paragraphs or [""], headers, self.quote)


@dataclass(frozen=True)
class Started:
    draft_id: str
    conversation_id: str
    subject: str
    recipients: Recipients = field(default_factory=dict)
    sender: Identity | None = None
    created_at: int = 0  # Unix ms

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


async def reply_seed(
    storage: Storage,
    user_id: str,
    conv: Conversation,
    directory: Directory,
    paragraphs: list[str] | None = None,
    *,
    subject: str | None = None,
    recipients: Recipients | None = None,
    sender: str = "",
    quote: bool = False,
) -> Seed:
    """A reply's defaults — "Re: <subject>", the last sender in To, the From of AL-8 —
    except what the author chose: `subject`, `sender` (an alias address they may send
    from; raises as `chosen_identity` does) and the fields `recipients` names. `quote`:
    the conversation's last message below the body, if it has one."""
    if sender:
        first = not conv.has_sent
        identity: Identity | None = await chosen_identity(
            storage, conv.org_id, user_id, sender, first
        )
    else:
        identity = await reply_identity(storage, conv.org_id, user_id, conv)
    to = reply_recipients(conv)
    defaults: Recipients = {"to_fields": [{"address": a} for a in to]} if to else {}
    body = list(paragraphs or [""])
    quoted: list[str] = []
    if quote and conv.messages:
        attribution, quoted = await quotation(storage, conv, directory.prefs(user_id).time_zone)
        body.append(attribution)
    chosen = reply_subject(conv.subject) if subject is None else subject
    return Seed(chosen, {**defaults, **(recipients or {})}, identity, body, quoted)


async def new_seed(
    storage: Storage,
    user_id: str,
    org_id: str,
    *,
    sender: str = "",
    subject: str = "",
    recipients: Recipients | None = None,
    paragraphs: list[str] | None = None,
) -> Seed:
    """A new email from `sender` (an alias address the user may send from; empty: their
    default sender, AL-9)."""
    if sender:
        identity: Identity | None = await chosen_identity(storage, org_id, user_id, sender)
    else:
        identity = await new_email_identity(storage, org_id, user_id)
    given = {key: value for key, value in (recipients or {}).items() if value}
    return Seed(subject, given, identity, list(paragraphs or [""]))


async def quotation(storage: Storage, conv: Conversation, time_zone: str) -> tuple[str, list[str]]:
    """The attribution line ("On …, Carla <carla@example.com> wrote:", in the quoting
    user's time zone) and the lines of the conversation's last message."""
    last = latest(conv.messages)
    raw = await storage.message_raw(last.id)
    text = parse_message(raw).text if raw is not None else last.preview
    who = f"{last.from_name} <{last.from_address}>" if last.from_name else last.from_address
    at = datetime.fromtimestamp(last.at / 1000, zone(time_zone))
    return f"On {at:%a}, {at.day} {at:%b %Y at %H:%M}, {who} wrote:", quoted_lines(text)


def quoted_lines(text: str) -> list[str]:
    """One paragraph a line, runs of blank lines as one, at most MAX_QUOTE characters."""
    if len(text) > MAX_QUOTE:
        text = text[:MAX_QUOTE].rstrip() + " …"
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


async def create_reply(
    services: Services,
    user_id: str,
    conv_id: str,
    seed: Seed,
    directory: Directory,
    also: Shape | None = None,
) -> Started:
    """The reply draft in `conv_id` (the caller checked access), in everyone's Drafts;
    `also` changes the conversation in the same transaction. Refused: no draft is left."""
    draft_id = str(uuid.uuid4())
    storage = services.storage
    record = await storage.create_draft(
        draft_id, directory.org_id, user_id, seed.subject, seed.update(), conv_id
    )
    now = int(time.time() * 1000)

    def change(conv: Conversation) -> None:
        add_draft(conv, user_id, draft_id=draft_id, now=now, directory=directory)
        if also is not None:
            also(conv)

    try:
        await services.conversations.change(conv_id, change)
    except AppError:
        await storage.delete_draft(draft_id)  # refused: leave no orphan document
        raise
    return Started(draft_id, conv_id, seed.subject, seed.recipients, seed.sender,
                   record.created_at)  # fmt: skip


async def create_new(
    services: Services,
    user_id: str,
    seed: Seed,
    directory: Directory,
    also: Shape | None = None,
) -> Started:
    """The draft in a new conversation only its author sees, in their Drafts; `also`
    shapes that conversation before it is stored."""
    draft_id, now = str(uuid.uuid4()), int(time.time() * 1000)
    conv = Conversation(
        id=str(uuid.uuid4()),
        org_id=directory.org_id,
        subject=seed.subject,
        last_activity_at=now,
        users={
            user_id: UserState(
                watching=directory.prefs(user_id).auto_watch_draft, bumped_at=now, via="draft"
            )
        },
        drafts=[draft_id],
    )
    if also is not None:
        also(conv)
    storage = services.storage
    record = await storage.create_draft(
        draft_id, directory.org_id, user_id, seed.subject, seed.update(), conv.id
    )
    try:
        await services.conversations.create(conv)
    except AppError:
        await storage.delete_draft(draft_id)
        raise
    return Started(draft_id, conv.id, seed.subject, seed.recipients, seed.sender,
                   record.created_at)  # fmt: skip


async def start_reply(
    services: Services, user_id: str, org_id: str, conv_id: str, paragraphs: list[str] | None = None
) -> Started:
    """A reply draft in `conv_id` (the caller checked access), in everyone's Drafts."""
    directory = await load_directory(services.storage, org_id)
    conv = await services.conversations.read(conv_id)
    seed = await reply_seed(services.storage, user_id, conv, directory, paragraphs)
    return await create_reply(services, user_id, conv_id, seed, directory)


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
    """A new email from `sender` (empty: the default sender) in a new conversation only
    its author sees, in their Drafts."""
    seed = await new_seed(
        services.storage, user_id, org_id, sender=sender, subject=subject,
        recipients=recipients, paragraphs=paragraphs,
    )  # fmt: skip
    directory = await load_directory(services.storage, org_id)
    return await create_new(services, user_id, seed, directory)
