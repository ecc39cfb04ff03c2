"""A draft's files: the row holds the bytes, the draft document's `attachments` map lists
them (id -> {filename, content_type, size, inline}) so every editor sees one appear. An
inline one is an image the body shows as `cid:<id>`.

The row is written first and the map entry after it, as one document update; if that
update fails the row goes again. At send, `draft_parts` turns the snapshot's entries into
MIME parts: inline ones the body still shows (in body order), then the others (in upload
order); an inline image the body no longer shows was deleted by its user and is dropped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pycrdt import Doc, Map, XmlElement, XmlFragment

from server.actions.draft_writer import change_draft
from server.errors import InvalidInput, PayloadTooLarge
from server.settings import Settings
from server.storage.attachments import AttachmentRecord, OverLimit
from server.storage.base import Storage
from sync.compose import Part

if TYPE_CHECKING:
    from server.services import Services

MAX_FILENAME = 255
_TOKEN = r"[a-z0-9!#$&^_.+-]+"
MEDIA_TYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FALLBACK_TYPE = "application/octet-stream"


class TooLarge(PayloadTooLarge):
    """413: the files would pass the limit; says the limit and what is held already."""

    def __init__(self, total: int, limit: int, *, owner: str = "draft") -> None:
        super().__init__(
            f"'attachments' may hold at most {limit} bytes per {owner};"
            f" this {owner} holds {total} bytes already",
            field="attachments",
        )
        self.total = total
        self.limit = limit

    def to_json(self) -> dict[str, object]:
        body = super().to_json()
        error = body["error"]
        assert isinstance(error, dict)
        error.update(limit=self.limit, total=self.total)
        return body


def media_type(header: str | None) -> str:
    """`type/subtype` of a Content-Type header, lower-cased; anything else is a blob."""
    value = (header or "").split(";", 1)[0].strip().lower()
    return value if MEDIA_TYPE.match(value) else FALLBACK_TYPE


def checked_filename(name: str | None) -> str:
    value = (name or "").strip()
    if not value:
        raise InvalidInput("'filename' is required: the file's name", field="filename")
    if len(value) > MAX_FILENAME:
        raise InvalidInput(f"'filename' holds at most {MAX_FILENAME} characters", field="filename")
    if CONTROL.search(value):
        raise InvalidInput("'filename' may not hold control characters", field="filename")
    return value


def checked_inline(value: str | None, content_type: str) -> bool:
    if value not in (None, "", "0", "1"):
        raise InvalidInput("'inline' is 0 (attached) or 1 (an image in the body)", field="inline")
    inline = value == "1"
    if inline and not content_type.startswith("image/"):
        raise InvalidInput(f"only an image can be inline, not {content_type}", field="inline")
    return inline


def entry(record: AttachmentRecord) -> dict[str, Any]:
    """The draft document's map entry for a file."""
    return {"filename": record.filename, "content_type": record.content_type,
            "size": record.size, "inline": record.inline}  # fmt: skip


def attachment_json(record: AttachmentRecord) -> dict[str, Any]:
    cid = {"cid": f"cid:{record.id}"} if record.inline else {}
    return {"id": record.id, **entry(record), **cid}


async def add_to_draft(
    services: Services, record: AttachmentRecord, data: bytes
) -> AttachmentRecord:
    """Store the file of `record.draft_id` and list it in the draft document (one update
    every editor gets)."""
    assert record.draft_id is not None
    limit = services.settings.max_attachment_bytes
    try:
        saved = await services.storage.add_attachment(record, data, limit=limit)
    except OverLimit as exc:
        raise TooLarge(exc.total, exc.limit) from None

    def listed(doc: Doc[Any]) -> None:
        doc.get("attachments", type=Map)[saved.id] = entry(saved)

    try:
        await change_draft(services, record.draft_id, listed)
    except Exception:
        await services.storage.forget_attachments([saved.id])
        raise
    return saved


async def add_to_response(
    services: Services, record: AttachmentRecord, data: bytes
) -> AttachmentRecord:
    limit = services.settings.max_attachment_bytes
    try:
        return await services.storage.add_attachment(record, data, limit=limit)
    except OverLimit as exc:
        raise TooLarge(exc.total, exc.limit, owner="response") from None


async def remove_from_draft(services: Services, draft_id: str, attachment_id: str) -> bool:
    """The row and the map entry; False when the draft had neither."""
    deleted = await services.storage.delete_attachment(attachment_id, draft_id=draft_id)

    def unlisted(doc: Doc[Any]) -> None:
        listing = doc.get("attachments", type=Map)
        if attachment_id in listing:
            del listing[attachment_id]

    return await change_draft(services, draft_id, unlisted) or deleted


async def copy_from_response(
    services: Services, response_id: str, draft_id: str, user_id: str
) -> list[AttachmentRecord]:
    """The response's files as new rows of the draft, all or none; `list_copies` then
    lists them in the document, in the update that inserts the response."""
    limit = services.settings.max_attachment_bytes
    try:
        return await services.storage.copy_attachments(response_id, draft_id, user_id, limit=limit)
    except OverLimit as exc:
        raise TooLarge(exc.total, exc.limit) from None


def list_copies(doc: Doc[Any], copies: list[AttachmentRecord]) -> None:
    """Map entries for copied files; an inline image also goes at the end of the body."""
    listing = doc.get("attachments", type=Map)
    body = doc.get("body", type=XmlFragment)
    for copy in copies:
        listing[copy.id] = entry(copy)
        if copy.inline:
            body.children.append(
                XmlElement("image", {"src": f"cid:{copy.id}", "alt": copy.filename})
            )


async def draft_parts(
    storage: Storage, settings: Settings, draft_id: str, entries: dict[str, Any], images: list[str]
) -> list[Part]:
    """The MIME parts of a draft being sent: `entries` is its snapshot's `attachments` map,
    `images` the body's image sources in order (`render(body).images`)."""
    shown = list(dict.fromkeys(src[4:] for src in images if src.startswith("cid:")))
    inline = {key for key, value in entries.items() if _is_inline(value)}
    wanted = [key for key in entries if key not in inline or key in shown]
    stored = {r.id: (r, data) for r, data in await storage.attachment_blobs(draft_id, wanted)}
    for key in wanted:
        if key not in stored:
            name = entries[key].get("filename") if isinstance(entries[key], dict) else None
            raise InvalidInput(
                f"attachment {name or key!r} is not stored: remove it and attach it again",
                field="attachments",
            )
    total = sum(record.size for record, _ in stored.values())
    if total > settings.max_attachment_bytes:
        raise InvalidInput(
            f"'attachments' may hold at most {settings.max_attachment_bytes} bytes;"
            f" this draft holds {total}",
            field="attachments",
        )
    parts = [
        Part(stored[key][0].filename, stored[key][0].content_type, stored[key][1], key)
        for key in shown
        if key in inline
    ]
    parts += [
        Part(record.filename, record.content_type, data)
        for record, data in stored.values()
        if record.id not in inline
    ]
    return parts


def _is_inline(value: Any) -> bool:
    return isinstance(value, dict) and value.get("inline") in (True, 1)
