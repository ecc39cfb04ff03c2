"""What a stored message shows: its parsed headers, text, sanitised HTML (with cid: images
pointing at its own attachments) and files, made from the raw bytes once, when the message
is stored; and the fill of rows stored before that (`tandem migrate`)."""

from __future__ import annotations

import hashlib
import logging
import uuid

from server.storage.base import Storage
from server.storage.messages import AttachmentMeta, MessageBody, StoredAttachment
from sync.mime import MalformedMessage, ParsedMessage, parse_message
from sync.sanitize import sanitize_html
from sync.threading import link_rows

log = logging.getLogger(__name__)

PARSER_VERSION = 1  # bump when what is derived from the raw bytes changes; migrate refills


def attachment_url(attachment_id: str) -> str:
    return f"/api/attachments/{attachment_id}"


def shown_at(msg: ParsedMessage, delivered_at: int) -> int:
    """The time a conversation shows for a mail: its Date when plausible, else when it
    reached the mailbox (the topmost Received header), else when Tandem stored it."""
    return msg.date or msg.received_date or delivered_at


def body_of(msg: ParsedMessage, delivered_at: int) -> MessageBody:
    files = [
        StoredAttachment(
            AttachmentMeta(
                id=str(uuid.uuid4()),
                filename=part.filename,
                content_type=part.content_type,
                size=len(part.data),
                sha256=hashlib.sha256(part.data).hexdigest(),
                inline=part.inline,
                content_id=part.content_id,
            ),
            part.data,
        )
        for part in msg.attachments
    ]
    cids = {f.meta.content_id: attachment_url(f.meta.id) for f in files if f.meta.content_id}
    return MessageBody(
        from_name=msg.from_name,
        recipients={"to": msg.to, "cc": msg.cc, "bcc": msg.bcc, "reply_to": msg.reply_to},
        in_reply_to=msg.in_reply_to,
        references=msg.references,
        text=msg.text,
        html=sanitize_html(msg.html, cids) if msg.html is not None else None,
        content_sha256=msg.content_sha256,
        received_at=msg.received_date or delivered_at,
        sort_at=shown_at(msg, delivered_at),
        links=link_rows(msg),
        attachments=files,
        parsed=PARSER_VERSION,
    )


async def fill_unparsed(storage: Storage, *, batch: int = 200) -> int:
    """Parse the stored messages that predate their parsed columns (or an older parser);
    how many were filled. A message that no longer parses keeps its raw bytes and is
    shown with what its row holds."""
    filled = 0
    while rows := await storage.unparsed_messages(PARSER_VERSION, batch):
        for message_id, org_id, raw, stored_at in rows:
            try:
                msg = parse_message(raw)
            except MalformedMessage as exc:
                log.warning("stored message %s does not parse: %s", message_id, exc)
                msg = None
            body = body_of(msg, stored_at) if msg is not None else _unreadable(raw, stored_at)
            await storage.fill_message_body(org_id, message_id, body)
            filled += 1
    return filled


def _unreadable(raw: bytes, stored_at: int) -> MessageBody:
    text = raw.decode("utf-8", "replace")
    return MessageBody(
        from_name="", recipients={}, in_reply_to=None, references=[], text=text, html=None,
        content_sha256=hashlib.sha256(raw).hexdigest(), received_at=stored_at, sort_at=stored_at,
        links=[],
        attachments=[], parsed=PARSER_VERSION,
    )  # fmt: skip
