"""Files in the Missive-compatible API: `attachments: [{base64_data, filename}]` on
`POST /v1/drafts` and `/v1/responses` (decoded and checked before anything is stored), and
the Missive file object a stored attachment is shown as (§2.0)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from typing import Any

from starlette.requests import Request

from server.actions.api_drafts import File
from server.actions.attachments import checked_filename, media_type
from server.errors import InvalidInput, PayloadTooLarge
from server.routes.missive_input import Fields, named
from server.storage.attachments import AttachmentRecord

MAX_PAYLOAD = 10 * 1024 * 1024  # Missive: a request with attachments is at most 10 MB
MAX_FILES = 25


def decoded_files(item: Fields, limit: int, owner: str = "draft") -> tuple[File, ...]:
    """`[{base64_data, filename}]`, at most MAX_FILES, decoded; their total within the
    limit of their `owner` (a draft or a response)."""
    raw, where = item.data.get("attachments"), item.name("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput(f"'{where}' must be a list of {{base64_data, filename}}", field=where)
    if len(raw) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files in '{where}'", field=where)
    files = []
    for index, data in enumerate(raw):
        one = Fields(data, f"{where}[{index}]")
        one.only({"base64_data", "filename"})
        with named(one.where):
            filename = checked_filename(one.text("filename", required=True, limit=MAX_PAYLOAD))
        encoded = one.text("base64_data", required=True, limit=MAX_PAYLOAD) or ""
        try:
            content = base64.b64decode("".join(encoded.split()), validate=True)
        except binascii.Error:
            content = b""
        if not content:
            raise InvalidInput(
                f"'{one.name('base64_data')}' is not the file's bytes in base64",
                field=one.name("base64_data"),
            )
        kind = media_type(mimetypes.guess_type(filename)[0])
        files.append(File(filename, kind, content))
    total = sum(len(file.data) for file in files)
    if total > limit:
        raise PayloadTooLarge(
            f"the files hold {total} bytes; a {owner} holds at most {limit}", field=where
        )
    return tuple(files)


async def check_payload(request: Request, owner: str) -> None:
    """413 for a request body over MAX_PAYLOAD, by its declared length or once read."""
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > MAX_PAYLOAD
    if too_big or len(await request.body()) > MAX_PAYLOAD:
        raise PayloadTooLarge(f"a {owner} request holds at most {MAX_PAYLOAD} bytes")


def file_object(record: AttachmentRecord) -> dict[str, Any]:
    """A stored attachment as Missive shows a file; `url` is where a signed-in client
    downloads it."""
    media, _, sub = record.content_type.partition("/")
    extension = record.filename.rpartition(".")[2].lower() if "." in record.filename else ""
    return {"id": record.id, "filename": record.filename, "extension": extension,
            "url": f"/api/attachments/{record.id}", "media_type": media, "sub_type": sub,
            "size": record.size}  # fmt: skip
