"""Sending a reply draft: lock it, snapshot it, build the message once, queue it in the
outbox, and let the worker hand it to the account's SMTP server.

1. **Lock.** The draft moves from `editing` to `sending` in one conditional update: of two
   people pressing Send, one wins and the other gets `409`. Everyone holding the draft is
   disconnected (close code 4423) and can only reopen it read-only, so no edit lands after
   the snapshot.
2. **Snapshot.** The draft is read from its log (every acknowledged edit) and rendered:
   HTML through `crdt.richtext` (sanitised), plain text from the same tree, the signature
   block below both, and its attachments (inline images the body shows as `cid:` parts).
   It goes out from the alias its `from` header names, if the sender may send from it.
3. **Build once.** The MIME bytes, with a Message-ID chosen now and In-Reply-To/References
   from the conversation, go into the outbox with a release time (the sender's undo delay).
   A bad recipient is refused naming the field, and the draft goes back to `editing`.
4. **Deliver.** The `outbox_send` job claims the item (`queued` → `sending`), delivers it,
   and on acceptance adds the message to the conversation, marks the item and the draft
   sent and takes the draft out of Drafts — in one transaction. A transient refusal puts
   it back in the queue (the job retries with backoff); a permanent one marks it `failed`
   with the server's words and gives the draft back for editing. If the process dies
   after the server accepted the message and before that transaction, the job runs again
   and sends the same bytes with the same Message-ID: SMTP itself cannot promise more
   (at least once); receivers and our own ingestion recognise the repeat.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pycrdt import Doc, Map, XmlFragment

from crdt.errors import CloseCode, ProtocolError
from crdt.richtext import render
from crdt.schemas import new_doc
from server.actions import smtp_accounts, snoozes
from server.actions.attachments import draft_parts
from server.actions.directory import load_directory
from server.actions.identity import sender_alias
from server.actions.message_bodies import body_of
from server.conversations.machine_drafts import schedule_send, unschedule_send
from server.conversations.machine_mail import send_message
from server.conversations.machine_snooze import snooze
from server.conversations.machine_triage import archive, close
from server.conversations.model import Conversation, Directory, MessageSummary, latest
from server.errors import AppError, Conflict, InvalidInput, NotFound, Unprocessable
from server.identity.signatures import sanitise
from server.scheduler import Scheduler
from server.storage.conversations import ConversationTx, StoredMessage
from server.storage.jobs import Job
from server.storage.mail import Account
from server.storage.outbox import OutboxItem
from sync.compose import InvalidAddress, Mailbox, Outgoing, build, new_message_id
from sync.mime import parse_message
from sync.smtp import deliver

if TYPE_CHECKING:
    from server.services import Services

log = logging.getLogger(__name__)
KIND = "outbox_send"
MAX_REFERENCES = 20
MAX_NAME = 200  # characters of a From display name


def job_key(item_id: str) -> str:
    return f"outbox:{item_id}"


async def send_draft(
    services: Services,
    actor: str,
    draft_id: str,
    directory: Directory,
    undo_s: int = 0,
    then: dict[str, object] | None = None,
    seen_messages: int | None = None,
    send_at: int | None = None,
    discard_if_reply: bool = False,
) -> OutboxItem:
    """`then`: Send & Close `{"action": "close"}`, Send & Archive `{"action": "archive"}`,
    Send & Snooze `{"action": "snooze", "until": ms, "discard_if_reply": bool}` — applied
    in the transaction that records the sent message (rows 24, 28, 33). `seen_messages`:
    how many messages the sender had in front of them; if more arrived since (a customer's
    new mail, a colleague's reply), nothing is sent and the sender is told (409)."""
    storage = services.storage
    draft = await storage.get_draft(draft_id)
    if draft is None or draft.conversation_id is None:
        raise NotFound(f"no reply draft {draft_id}")
    if seen_messages is not None:  # the send-time guard
        conv = await services.conversations.read(draft.conversation_id)
        if conv.message_count > seen_messages:
            raise Conflict(
                f"{conv.message_count - seen_messages} new message(s) arrived since you"
                " looked: read them, then send again",
                field="seen_messages",
            )
    if not await storage.claim_draft(draft_id):
        raise Conflict("this draft is already being sent", field="draft")
    locked = ProtocolError(CloseCode.LOCKED, f"draft {draft_id} is being sent")
    await services.rooms.evict(f"draft:{draft_id}", locked)
    try:
        item = await _prepare(services, actor, draft_id, draft.conversation_id, undo_s)
        item = dataclasses.replace(item, then=then)
        if send_at is not None:  # Send Later: released at `send_at`, not after the undo delay
            later = {**(then or {}), "send_later": True}
            item = dataclasses.replace(item, then=later, release_at=send_at)
    except Exception:
        await storage.set_draft_status(draft_id, "editing")  # nothing was queued
        raise
    if send_at is not None:
        now = int(time.time() * 1000)

        def scheduled(conv: Conversation) -> None:
            schedule_send(
                conv, actor, draft_id=draft_id, outbox_id=item.id, at=send_at,
                discard_if_reply=discard_if_reply, now=now, directory=directory,
            )  # fmt: skip

        try:
            await services.conversations.change(draft.conversation_id, scheduled)
        except Exception:
            await storage.set_draft_status(draft_id, "editing")
            raise
        await storage.set_draft_status(draft_id, "scheduled")
    await storage.enqueue(item)
    await storage.schedule_job(job_key(item.id), KIND, item.release_at, {"outbox": item.id})
    return item


async def cancel_scheduled(services: Services, outbox_id: str) -> None:
    """Row 10: a Send Later item a reply discarded is never sent; its draft is discarded
    (restorable from the conversation's timeline)."""
    item = await services.storage.outbox_item(outbox_id)
    if item is None or not await services.storage.move_outbox(outbox_id, ("queued",), "recalled"):
        return
    await services.storage.cancel_job(job_key(outbox_id))
    await services.storage.set_draft_status(item.draft_id, "discarded")


async def _prepare(
    services: Services,
    actor: str,
    draft_id: str,
    conv_id: str,
    undo_s: int,
) -> OutboxItem:
    conv = await services.conversations.read(conv_id)
    if draft_id not in conv.drafts:
        raise Conflict("this draft is no longer in its conversation", field="draft")
    doc = await _snapshot(services, draft_id)
    headers: dict[str, Any] = doc.get("headers", type=Map).to_py() or {}
    inbound = [m for m in conv.messages if m.direction == "in" and m.account_id]
    replying_to = latest(inbound) if inbound else None
    account, sender = await _sender(services, conv.org_id, actor, headers, replying_to)
    rendered = render(doc.get("body", type=XmlFragment))
    html, text = _signed(rendered.html, rendered.text, headers.get("signature"))
    entries = doc.get("attachments", type=Map).to_py() or {}
    parts = await draft_parts(
        services.storage, services.settings, draft_id, entries, rendered.images
    )
    domain = account.address.rpartition("@")[2]
    message_id = new_message_id(domain)
    references = [m.rfc_message_id.strip("<>") for m in conv.messages if m.rfc_message_id]
    outgoing = Outgoing(
        message_id=message_id,
        sender=sender,
        to=_mailboxes(headers, "to_fields"),
        cc=_mailboxes(headers, "cc_fields"),
        bcc=_mailboxes(headers, "bcc_fields"),
        subject=str(headers.get("subject") or ""),
        text=text,
        html=html,
        date=datetime.now(UTC),
        in_reply_to=(replying_to.rfc_message_id or "").strip("<>") or None
        if replying_to is not None
        else None,
        references=references[-MAX_REFERENCES:],
        parts=parts,
    )
    try:
        raw = build(outgoing)
    except InvalidAddress as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    now = int(time.time() * 1000)
    return OutboxItem(
        id=str(uuid.uuid4()),
        org_id=conv.org_id,
        draft_id=draft_id,
        conversation_id=conv_id,
        account_id=account.id,
        actor_id=actor,
        rfc_message_id=f"<{message_id}>",
        sender=sender.address,
        recipients=outgoing.recipients(),
        subject=outgoing.subject,
        preview=rendered.text.strip()[:200],
        raw=raw,
        release_at=now + undo_s * 1000,
    )


async def _sender(
    services: Services,
    org_id: str,
    actor: str,
    headers: dict[str, Any],
    replying_to: MessageSummary | None,
) -> tuple[Account, Mailbox]:
    """The account the message goes out through and its From: the alias the draft names,
    if the sender may send from it (AL-7); a reply naming none goes out from the account
    the mail came to, a new email naming none cannot be sent."""
    address = str(headers.get("from") or "").strip()
    name = " ".join(str(headers.get("from_name") or "").split())[:MAX_NAME]
    if address:
        account, _ = await sender_alias(services.storage, org_id, actor, address)
        return account, Mailbox(address.lower(), name)
    if replying_to is None:
        raise InvalidInput("choose the address to send this email from", field="from")
    accounts = await services.storage.accounts_of(org_id)
    via = next((a for a in accounts if a.id == replying_to.account_id), None)
    if via is None:
        raise Unprocessable("the account this mail came through is gone", field="draft")
    return via, Mailbox(via.address, name)


def _signed(html: str, text: str, signature: Any) -> tuple[str, str]:
    """The body with the draft's signature block below it (SG-1). The block is sanitised
    again here: any editor of the draft can write its header."""
    if not isinstance(signature, dict):
        return html, text
    block_html = sanitise(str(signature.get("html") or ""))
    block_text = str(signature.get("text") or "").strip()
    if block_html.strip():
        html = f'{html}<div class="signature">{block_html}</div>'
    if block_text:
        text = f"{text.rstrip()}\n\n-- \n{block_text}\n"
    return html, text


async def _snapshot(services: Services, draft_id: str) -> Doc[Any]:
    """The draft as its log holds it: every acknowledged edit, nothing after the lock."""
    name = f"draft:{draft_id}"
    stored = await services.storage.load_document(name)
    doc = new_doc(name)
    if stored.snapshot is not None:
        doc.apply_update(stored.snapshot)
    for _, update in stored.updates:
        doc.apply_update(update)
    return doc


def _mailboxes(headers: dict[str, Any], key: str) -> list[Mailbox]:
    value = headers.get(key) or []
    out = []
    for index, item in enumerate(value if isinstance(value, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("address"), str):
            raise InvalidInput(f"{key}[{index}] needs an address", field=f"{key}[{index}]")
        out.append(Mailbox(str(item["address"]).strip(), str(item.get("name") or "")))
    return out


async def recall(services: Services, item_id: str, actor: str) -> OutboxItem:
    """Undo send: a message still waiting out its delay goes back to being a draft."""
    item = await services.storage.outbox_item(item_id)
    if item is None:
        raise NotFound(f"no outgoing message {item_id}")
    if item.release_at <= int(time.time() * 1000) or not await services.storage.move_outbox(
        item_id, ("queued",), "recalled"
    ):
        raise Conflict("too late: the message is on its way", field="outbox")
    await services.storage.cancel_job(job_key(item_id))
    if (item.then or {}).get("send_later"):  # Unschedule: back into Drafts
        directory = await load_directory(services.storage, item.org_id)
        now = int(time.time() * 1000)

        def back(conv: Conversation) -> None:
            if any(s.draft_id == item.draft_id for s in conv.scheduled):
                unschedule_send(conv, actor, draft_id=item.draft_id, now=now, directory=directory)

        await services.conversations.change(item.conversation_id, back)
    await services.storage.set_draft_status(item.draft_id, "editing")
    return item


def register(scheduler: Scheduler, services: Services) -> None:
    async def send(job: Job) -> None:
        await deliver_item(services, str(job.payload["outbox"]))

    scheduler.register(KIND, send)


async def deliver_item(services: Services, item_id: str) -> str:
    """Hand one outbox item to SMTP; its status afterwards. Raising makes the scheduler
    try again later (a transient refusal)."""
    storage = services.storage
    item = await storage.outbox_item(item_id)
    if item is None or item.status in ("sent", "failed", "recalled"):
        return item.status if item is not None else "gone"
    # queued, or sending after a crash: the server may have it already; same bytes again
    if not await storage.move_outbox(item_id, ("queued", "sending"), "sending"):
        current = await storage.outbox_item(item_id)  # recalled or discarded meanwhile
        return current.status if current is not None else "gone"
    accounts = {a.id: a for a in await storage.accounts_of(item.org_id)}
    account = accounts.get(item.account_id)
    server = (
        await smtp_accounts.server_for(storage, services.settings, account)
        if account is not None
        else None
    )
    if server is None:
        return await _failed(services, item, None, "the account has no outgoing server")
    result = await deliver(server, item.sender, item.recipients, item.raw)
    if result.outcome == "retry":
        await storage.move_outbox(item_id, ("sending",), "queued", code=result.code,
                                  error=result.message)  # fmt: skip
        raise TemporaryFailure(f"{result.code or ''} {result.message}".strip())
    if result.outcome == "failed":
        return await _failed(services, item, result.code, result.message)
    await _record_sent(services, item, result.code)
    return "sent"


class TemporaryFailure(Exception):
    """The server said "not now": the scheduler retries the job with backoff."""


async def _record_sent(services: Services, item: OutboxItem, code: int | None) -> None:
    directory = await load_directory(services.storage, item.org_id)
    now = int(time.time() * 1000)
    summary = MessageSummary(
        id=item.id, direction="out", from_address=item.sender, subject=item.subject,
        preview=item.preview, at=now, account_id=item.account_id,
        rfc_message_id=item.rfc_message_id,
    )  # fmt: skip

    def change(conv: Conversation) -> None:
        if item.draft_id in conv.drafts:
            conv.drafts.remove(item.draft_id)
        conv.scheduled = [s for s in conv.scheduled if s.draft_id != item.draft_id]
        send_message(conv, item.actor_id, summary=summary, now=now, directory=directory)
        _then(conv, item, now, directory)

    body = dataclasses.replace(body_of(parse_message(item.raw), now), sort_at=now)

    async def rows(tx: ConversationTx, conv: Conversation) -> None:
        await tx.insert_message(
            StoredMessage(
                item.id, item.org_id, conv.id, item.account_id, item.rfc_message_id,
                item.rfc_message_id, "out", item.sender, item.subject, now, item.raw, body,
            )
        )  # fmt: skip
        await tx.record_sent(item.id, item.draft_id, code)

    conv = await services.conversations.change(item.conversation_id, change, rows)
    if item.then and item.then.get("action") == "snooze":
        await snoozes.schedule_after(services.storage, conv, item.actor_id, "snooze")


def _then(conv: Conversation, item: OutboxItem, now: int, directory: Directory) -> None:
    """What the sender chose to do with the conversation once it is sent. A choice the
    conversation no longer allows (someone closed it meanwhile) is skipped: the mail is
    already sent and must be recorded."""
    then = item.then or {}
    action, actor = then.get("action"), item.actor_id
    try:
        if action == "close":
            close(conv, actor, now=now, directory=directory)
        elif action == "archive":
            archive(conv, actor, now=now, directory=directory)
        elif action == "snooze":
            snooze(
                conv, actor, until=int(str(then["until"])),
                discard_if_reply=bool(then.get("discard_if_reply")), now=now, directory=directory,
            )  # fmt: skip
    except AppError:
        log.warning("after sending %s: %s skipped", item.id, action)


async def _failed(services: Services, item: OutboxItem, code: int | None, why: str) -> str:
    """A permanent refusal: shown on the item, and the draft is editable again."""
    await services.storage.move_outbox(
        item.id, ("queued", "sending"), "failed", code=code, error=why
    )
    await services.storage.set_draft_status(item.draft_id, "editing")
    return "failed"
