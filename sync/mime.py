"""Parse one raw mail into the fields Tandem stores, reading it as mail clients do. Pure.

`parse_message` takes any bytes. It walks the MIME tree itself (`sync.mime_parts`), without
recursion and within limits: more than `MAX_DEPTH` levels of multipart and attached
messages, more than `MAX_PARTS` parts or a header section over `MAX_HEADER_BYTES` raise
`MalformedMessage`, as does input with no header section at all; nothing else escapes.

Broken mail still parses. Charsets are read by their WHATWG labels, undecodable bytes fall
back to UTF-8 then windows-1252 (`sync.charsets`); garbage lines in a header section are
skipped, unquoted names with commas stay one name, control characters leave names and
subjects; an unreadable or implausible Date becomes None; a missing Message-ID becomes a
synthetic one derived from the raw bytes (importing the same bytes twice de-duplicates).

`html` is the decoded HTML, not yet sanitised (`sync.sanitize` does that once the
attachment URLs are known); `text` is the plain text part, else text made from the HTML.
`content_sha256` fingerprints what stays the same when one mail reaches several mailboxes or
is exported by different tools; `bounce_of` names the mail a delivery report returns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

from sync.mime_addresses import Addresses, addresses
from sync.mime_headers import MAX_HEADER_BYTES as MAX_HEADER_BYTES
from sync.mime_headers import Headers, date_ms, read_headers, text
from sync.mime_headers import MalformedMessage as MalformedMessage
from sync.mime_html import html_to_text as html_to_text
from sync.mime_parts import (
    ENCAPSULATING,
    Entity,
    body_run,
    decoded,
    find_body,
    leaves,
    parse_tree,
    text_of,
)
from sync.mime_parts import MAX_DEPTH as MAX_DEPTH
from sync.mime_parts import MAX_PARTS as MAX_PARTS

SYNTHETIC_ID_DOMAIN = "tandem.invalid"
PREVIEW_CHARS = 200

_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_LINE_END = re.compile(rb"\r\n|\n|\r")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LIST_TAG = re.compile(r"^\s*\[[^\]]*\]")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|fw|aw|sv|tr|wg|antw|vs|rif|enc)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)
_CID_REFERENCE = re.compile(r"cid:([^\s\"'<>)]+)", re.IGNORECASE)
_FINGERPRINTED = ("from", "to", "cc", "subject", "date", "message-id")
_QUOTED_FROM = re.compile(rb"^>+From ", re.MULTILINE)
_ORIGINAL_HEADERS = frozenset({"text/rfc822-headers", "message/global-headers"})
_DAEMON = re.compile(r"^(?:mailer-daemon|mailerdaemon|mail-daemon|postmaster)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|delivery (?:has )?fail|"
    r"returned mail|failure notice|non[- ]?delivery|could not be delivered|unzustellbar|"
    r"nicht zustellbar|non remis|no entregado",
    re.IGNORECASE,
)


class Attachment(NamedTuple):
    filename: str | None  # None when the part has no name
    content_type: str  # lowercased "type/subtype"
    size: int  # decoded bytes
    data: bytes  # decoded bytes (an attached message/rfc822: its bytes as found)
    content_id: str | None  # without the angle brackets; None if absent
    inline: bool  # Content-Disposition: inline, or referenced by the HTML as cid:


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str
    message_id_is_synthetic: bool
    in_reply_to: str | None
    references: list[str]
    subject: str
    normalized_subject: str
    from_address: str
    from_name: str
    to: Addresses
    cc: Addresses
    bcc: Addresses
    reply_to: Addresses
    date: int | None  # Unix milliseconds
    text: str
    html: str | None
    preview: str
    attachments: list[Attachment]
    size: int
    raw_sha256: str
    received_date: int | None  # Unix milliseconds, from the topmost Received header
    content_sha256: str
    bounce_of: str | None  # the Message-ID a delivery-status notification returns


def parse_message(raw: bytes, *, now: int | None = None) -> ParsedMessage:
    """The stored fields of a mail; `now` (Unix ms) rejects dates far in the future."""
    root = parse_tree(raw, _require_headers(raw))
    headers = root.headers
    plain, html = find_body(root, "text/plain"), find_body(root, "text/html")
    plains = body_run(root, plain) if plain is not None else []
    charset = root.charset or next((p.charset for p in (plain, html) if p and p.charset), None)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    declared_id = first_message_id(_id_header(headers.first("message-id")))
    subject = text(headers.first("subject"), charset)
    senders = addresses(headers.first("from"), charset)
    senders = senders or addresses(headers.first("sender"), charset)
    from_name, from_address = senders[0] if senders else ("", "")
    html_text = text_of(html) if html is not None else None
    body_text = (
        "\n".join(text_of(part).rstrip("\n") for part in plains) + "\n"
        if len(plains) > 1
        else text_of(plain)
        if plain is not None
        else html_to_text(html_text or "")
    )
    return ParsedMessage(
        message_id=declared_id or f"<{raw_sha256[:32]}@{SYNTHETIC_ID_DOMAIN}>",
        message_id_is_synthetic=declared_id is None,
        in_reply_to=first_message_id(_id_header(headers.first("in-reply-to"))),
        references=message_ids(_id_header(headers.first("references"))),
        subject=subject,
        normalized_subject=normalize_subject(subject),
        from_address=from_address,
        from_name=from_name,
        to=addresses(headers.first("to"), charset),
        cc=addresses(headers.first("cc"), charset),
        bcc=addresses(headers.first("bcc"), charset),
        reply_to=addresses(headers.first("reply-to"), charset),
        date=date_ms(headers.first("date"), now),
        text=body_text,
        html=html_text,
        preview=_preview(body_text),
        attachments=_attachments(root, (*plains, html), html_text or "", charset),
        size=len(raw),
        raw_sha256=raw_sha256,
        received_date=_received_ms(headers, now),
        content_sha256=_content_sha256(raw, root),
        bounce_of=_bounce_of(root, from_address, subject),
    )


def message_ids(value: str) -> list[str]:
    """Every `<id>` token in a header value, in order, de-duplicated, whitespace removed."""
    found: dict[str, None] = {}
    for token in _ANGLE_ID.findall(value):
        inner = _WHITESPACE.sub("", token)
        if inner:
            found.setdefault(f"<{inner}>")
    if not found:
        bare = value.strip()
        if "@" in bare and not _WHITESPACE.search(bare) and "<" not in bare and ">" not in bare:
            found[f"<{bare}>"] = None
    return list(found)


def first_message_id(value: str) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else None


def normalize_subject(subject: str) -> str:
    """Strip reply/forward prefixes and [list] tags, then casefold and collapse whitespace."""
    return _strip_prefixes(subject)[0]


def has_reply_prefix(subject: str) -> bool:
    """True for "Re: …", "Fwd: …", "[list] AW: …" and the like."""
    return _strip_prefixes(subject)[1]


def _strip_prefixes(subject: str) -> tuple[str, bool]:
    rest, replied = subject, False
    while match := _REPLY_PREFIX.match(rest) or _LIST_TAG.match(rest):
        replied = replied or match.re is _REPLY_PREFIX
        rest = rest[match.end() :]
    return _collapse(rest).casefold(), replied


def _require_headers(raw: bytes) -> int:
    """Where the header section starts (after leading blank lines and an mbox From_ line)."""
    if not raw.strip():
        raise MalformedMessage("not an email: the input is empty")
    start = len(raw) - len(raw.lstrip(b"\r\n"))
    first, after = _line_at(raw, start)
    while first[:1] in (b" ", b"\t"):  # an indented header, or folded lines with no header
        indent = len(first) - len(first.lstrip(b" \t"))
        if _HEADER_LINE.match(first[indent:]) or after >= len(raw):
            start, first = start + indent, first[indent:]
            break
        start = after
        first, after = _line_at(raw, start)
    if not first.strip():  # only whitespace before a blank line, or nothing else
        start = len(raw) - len(raw.lstrip(b" \t\r\n"))
        first, after = _line_at(raw, start)
    if first.startswith(b"From ") and not _HEADER_LINE.match(first):
        start = after  # an mbox From_ line
        first, after = _line_at(raw, start)
    if not _HEADER_LINE.match(first):
        raise MalformedMessage(
            f"not an email: no headers found (first line is {first[:60]!r}, expected 'Name: value')"
        )
    return start


def _line_at(raw: bytes, start: int) -> tuple[bytes, int]:
    """The line at `start` (its first 1000 bytes) and where the next line starts."""
    end = _LINE_END.search(raw, start)
    line = raw[start : end.start() if end else len(raw)]
    return line[:1000], end.end() if end else len(raw)


def _id_header(value: bytes | None) -> str:
    return _CONTROLS.sub("", value.decode("latin-1")) if value is not None else ""


def _collapse(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def _preview(body: str) -> str:
    words: list[str] = []
    length = 0
    for match in _WORD.finditer(body):
        words.append(match.group())
        length += len(match.group()) + 1
        if length > PREVIEW_CHARS:
            break
    return " ".join(words)[:PREVIEW_CHARS].rstrip()


def _attachments(
    root: Entity, bodies: tuple[Entity | None, ...], html: str, charset: str | None
) -> list[Attachment]:
    referenced = {unquote(ref).strip("<>") for ref in _CID_REFERENCE.findall(html)}
    referenced |= {ref.lower() for ref in referenced}
    found: list[Attachment] = []
    for leaf in leaves(root):
        if any(leaf is body for body in bodies) or not _listed(leaf, charset):
            continue
        data = decoded(leaf)
        cid = leaf.content_id
        inline = leaf.disposition == "inline" or (
            cid is not None and (cid in referenced or cid.lower() in referenced)
        )
        found.append(Attachment(_file_name(leaf, charset), leaf.kind, len(data), data, cid, inline))
    return found


def _listed(leaf: Entity, charset: str | None) -> bool:
    return (
        leaf.disposition == "attachment"
        or leaf.filename(charset) is not None
        or not leaf.kind.startswith("text/")
    )


def _file_name(leaf: Entity, charset: str | None) -> str | None:
    name = leaf.filename(charset)
    if name is None and leaf.content_type in ENCAPSULATING and leaf.children:
        inner = leaf.children[0]
        subject = text(inner.headers.first("subject"), inner.charset or charset)
        name = f"{subject}.eml" if subject else None
    return name


def _received_ms(headers: Headers, now: int | None) -> int | None:
    received = headers.first("received")
    if received is None or b";" not in received:
        return None
    return date_ms(received.rpartition(b";")[2], now)


def _content_sha256(raw: bytes, root: Entity) -> str:
    """Over From, To, Cc, Subject, Date, Message-ID and the body, written the same way
    whatever carried or exported the mail: line ends, trailing blanks and mbox quoting."""
    digest = hashlib.sha256()
    for name in _FINGERPRINTED:
        value = root.headers.first(name)
        digest.update(name.encode() + b":" + b" ".join((value or b"").split()) + b"\n")
    body = raw[root.body_start :].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    body = _QUOTED_FROM.sub(b"From ", body)
    digest.update(b"\n" + b"\n".join(line.rstrip() for line in body.split(b"\n")).rstrip(b"\n"))
    return digest.hexdigest()


def _bounce_of(root: Entity, from_address: str, subject: str) -> str | None:
    """The Message-ID of the original a delivery-status notification carries: a
    multipart/report of delivery status, or a mail from a mailer daemon (or with a bounce's
    subject) that attaches the original message or its headers."""
    report_type = root.params.get("report-type")
    reports = report_type.raw.strip().lower() if report_type else b"delivery-status"
    if root.content_type == "multipart/report" and reports != b"delivery-status":
        return None  # a read receipt or another kind of report
    parts = list(leaves(root))
    is_report = root.content_type == "multipart/report" or any(
        part.content_type == "message/delivery-status" for part in parts
    )
    looks_returned = bool(
        _DAEMON.match(from_address)
        or _BOUNCE_SUBJECT.search(subject)
        or root.headers.first("x-failed-recipients") is not None
    )
    if not (is_report or looks_returned):
        return None
    for part in parts:
        original = _original_headers(part)
        if original is not None:
            return first_message_id(_id_header(original.first("message-id")))
    return None


def _original_headers(part: Entity) -> Headers | None:
    if part.content_type in ENCAPSULATING:
        return part.children[0].headers if part.children else None
    if part.content_type in _ORIGINAL_HEADERS:
        data = decoded(part)
        try:
            return read_headers(data, 0, len(data))[0]
        except MalformedMessage:  # an oversized copy of headers: no original to name
            return None
    return None
