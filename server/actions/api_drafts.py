"""The Missive-compatible draft (reference §2.3): made whole in one request — a reply in a
conversation or a new email in a new one, its files, the conversation-modifying parameters,
and sent now or scheduled through the outbox — and deleted.

Whatever could refuse the request is checked before anything is written (its fields by
the route; here the From, and for a draft to send its recipients and an address to go
from). The draft and the parameters then go into the conversation in one transaction;
the files and the send follow, and if one of them still fails (a race: an alias unshared
meanwhile) the draft is deleted again, so a refused request leaves no draft behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crdt.errors import CloseCode, ProtocolError
from server.actions.attachments import add_to_draft
from server.actions.drafting import (
    Recipients,
    Seed,
    Started,
    create_new,
    create_reply,
    new_seed,
    reply_seed,
)
from server.actions.sending import send_draft
from server.conversations.machine_drafts import remove_draft
from server.conversations.machine_modify import Changes, apply_changes
from server.conversations.model import Conversation, Directory
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.storage.attachments import AttachmentRecord
from server.storage.base import Draft
from server.storage.outbox import OutboxItem
from sync.compose import InvalidAddress, check_address

if TYPE_CHECKING:
    from server.services import Services

RECIPIENT_FIELDS = ("to_fields", "cc_fields", "bcc_fields")


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class DraftRequest:
    """What `POST /v1/drafts` asks for, its types checked; None keeps a reply's default."""

    subject: str | None = None
    paragraphs: list[str] | None = None
    quote: bool = False
    sender: str = ""  # an alias address; "" the default From
    sender_name: str | None = None
    recipients: Recipients = field(default_factory=dict)  # only the fields given
    files: tuple[File, ...] = ()
    changes: Changes = Changes()
    send: bool = False
    send_at: int | None = None  # Unix ms: Send Later
    discard_if_reply: bool = False

    @property
    def sending(self) -> bool:
        return self.send or self.send_at is not None


@dataclass(frozen=True)
class Made:
    started: Started
    attachments: list[AttachmentRecord]
    outbox: OutboxItem | None


async def make_draft(
    services: Services,
    user_id: str,
    wanted: DraftRequest,
    directory: Directory,
    conv_id: str | None,
) -> Made:
    """The draft in `conv_id` (the caller checked the user sees it), else in a new
    conversation of `directory`'s organization. Errors name the request's fields as
    written (`from_field`, `to_fields[0].address`, `attachments`, `add_users`)."""
    storage = services.storage
    conv = await services.conversations.read(conv_id) if conv_id else None
    with _from_field():
        if conv is not None:
            seed = await reply_seed(
                storage, user_id, conv, directory, wanted.paragraphs, subject=wanted.subject,
                recipients=wanted.recipients, sender=wanted.sender, quote=wanted.quote,
            )  # fmt: skip
        else:
            seed = await new_seed(
                storage, user_id, directory.org_id, sender=wanted.sender,
                subject=wanted.subject or "", recipients=wanted.recipients,
                paragraphs=wanted.paragraphs,
            )  # fmt: skip
    if seed.sender is not None and wanted.sender_name is not None:
        seed = dataclasses.replace(
            seed, sender=dataclasses.replace(seed.sender, name=wanted.sender_name)
        )
    _check(seed, conv, wanted)
    now = int(time.time() * 1000)

    def parameters(into: Conversation) -> None:
        apply_changes(into, user_id, wanted.changes, now=now, directory=directory)

    if conv is not None:
        started = await create_reply(services, user_id, conv.id, seed, directory, parameters)
    else:
        started = await create_new(services, user_id, seed, directory, parameters)
    try:
        saved = []
        for file in wanted.files:
            record = _record(started, user_id, directory, file)
            saved.append(await add_to_draft(services, record, file.data))
        item = None
        if wanted.sending:
            with _from_field():
                item = await send_draft(
                    services, user_id, started.draft_id, directory, undo_s=0,
                    send_at=wanted.send_at, discard_if_reply=wanted.discard_if_reply,
                )  # fmt: skip
    except Exception:
        await _withdraw(services, user_id, started.draft_id, started.conversation_id, directory)
        raise
    return Made(started, saved, item)


@contextlib.contextmanager
def _from_field() -> Iterator[None]:
    """An address the user may not send from is Missive's `400 'from_field' does not match
    an available sender`."""
    try:
        yield
    except (InvalidInput, Forbidden) as exc:
        if exc.field != "from":
            raise
        raise InvalidInput(
            "'from_field' does not match an available sender", field="from_field"
        ) from None


def _check(seed: Seed, conv: Conversation | None, wanted: DraftRequest) -> None:
    """A draft to send has a recipient, valid addresses and a From (or a mail it answers
    that came through an account, which `send_draft` sends from)."""
    if not wanted.sending:
        return
    if not any(seed.recipients.get(key) for key in RECIPIENT_FIELDS):
        raise InvalidInput(
            "a draft to send needs a recipient in to_fields, cc_fields or bcc_fields",
            field="to_fields",
        )
    for key in RECIPIENT_FIELDS:
        for index, recipient in enumerate(seed.recipients.get(key, [])):
            try:
                check_address(recipient["address"], f"{key}[{index}].address")
            except InvalidAddress as exc:
                raise InvalidInput(str(exc), field=exc.field) from None
    came_through_account = conv is not None and any(
        m.direction == "in" and m.account_id for m in conv.messages
    )
    if seed.sender is None and not came_through_account:
        raise InvalidInput(
            "you have no address to send this from: name one of your aliases in from_field",
            field="from_field",
        )


def _record(started: Started, user_id: str, directory: Directory, file: File) -> AttachmentRecord:
    return AttachmentRecord("", directory.org_id, started.draft_id, None, file.filename,
                            file.content_type, 0, "", False, user_id)  # fmt: skip


async def delete_draft(
    services: Services, user_id: str, draft: Draft, directory: Directory
) -> None:
    """`DELETE /v1/drafts/:id` of a draft the user may edit (the caller checked): locked
    first, as Send locks it, so nobody sends it meanwhile; then out of its conversation
    and gone, and its editors are disconnected. Being sent, scheduled or sent: `409`."""
    storage = services.storage
    locked = draft.status == "editing" and await storage.claim_draft(draft.id)
    if not locked:
        current = await storage.get_draft(draft.id)
        if current is None:
            raise NotFound(f"no draft {draft.id}")
        if current.status != "discarded":  # restorable from the timeline; deleting is fine
            await _refuse(services, current)
    try:
        if draft.conversation_id is not None:
            await _withdraw(services, user_id, draft.id, draft.conversation_id, directory)
        else:
            await storage.delete_draft(draft.id)
    except Exception:
        if locked:
            await storage.set_draft_status(draft.id, "editing")
        raise
    gone = ProtocolError(CloseCode.NOT_FOUND, f"draft {draft.id} was deleted")
    await services.rooms.evict(f"draft:{draft.id}", gone)


async def _refuse(services: Services, draft: Draft) -> None:
    """`409` naming `draft`; a scheduled one says how to cancel it."""
    if draft.status == "scheduled" and draft.conversation_id is not None:
        conv = await services.conversations.read(draft.conversation_id)
        entry = next((s for s in conv.scheduled if s.draft_id == draft.id), None)
        if entry is not None:
            raise Conflict(
                "this draft is scheduled to send: cancel it first with"
                f" POST /api/outbox/{entry.outbox_id}/recall",
                field="draft",
            )
    words = {"sending": "being sent", "sent": "sent already"}.get(draft.status, draft.status)
    raise Conflict(f"this draft is {words}: it cannot be deleted", field="draft")


async def _withdraw(
    services: Services, user_id: str, draft_id: str, conv_id: str, directory: Directory
) -> None:
    """Out of the conversation (`remove_draft`), then the draft, its document and files."""
    now = int(time.time() * 1000)

    def out(conv: Conversation) -> None:
        remove_draft(conv, user_id, draft_id=draft_id, now=now, directory=directory)

    await services.conversations.change(conv_id, out)
    await services.storage.delete_draft(draft_id)
