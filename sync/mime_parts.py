"""The MIME tree of a mail, found without recursion and within limits, and its parts' bytes.

Every entity is an offset range over the raw bytes (or over the decoded bytes of an encoded
message/rfc822 part); multipart bodies are split at their boundary lines, message/rfc822
bodies hold one inner message. The walk is iterative and stops with `MalformedMessage` past
`MAX_DEPTH` levels or `MAX_PARTS` parts, before anything recursive (the stdlib's parser,
`as_bytes`, `walk`) could be asked to go that deep. A multipart without a usable boundary is
read as text/plain, as the stdlib does.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sync import charsets
from sync.mime_headers import (
    Headers,
    MalformedMessage,
    Param,
    clean_line,
    content_type,
    decode_base64,
    param_text,
    params,
    read_headers,
)

MAX_DEPTH = 100  # multipart and message/rfc822 levels together
MAX_PARTS = 1000  # every entity below the top-level message
MAX_BOUNDARY = 200  # RFC 2046 allows 70; longer values are not boundaries

ENCAPSULATING = frozenset({"message/rfc822", "message/global"})
_UUENCODE = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
_LINE_END = re.compile(rb"\r\n|\n|\r")
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_:.+-]+)", re.I)
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


@dataclass(eq=False)
class Entity:
    """One MIME entity: its headers and its body as buf[body_start:end]."""

    buf: bytes
    headers: Headers
    body_start: int
    end: int
    depth: int
    content_type: str  # lowercased type/subtype as declared (or the default)
    params: dict[str, Param]
    children: list[Entity] = field(default_factory=list)
    split: bool = False  # a multipart whose boundary was found

    @property
    def kind(self) -> str:
        """The type the entity is read as: a multipart that was not split is text/plain."""
        if self.content_type.startswith("multipart/") and not self.split:
            return "text/plain"
        return self.content_type

    @property
    def body(self) -> bytes:
        return self.buf[self.body_start : self.end]

    @property
    def charset(self) -> str | None:
        param = self.params.get("charset")
        if param is None:
            return None
        return param.raw.decode("latin-1").strip() or None

    @property
    def disposition(self) -> str:
        return params(self.headers.first("content-disposition"))[0]

    def filename(self, charset: str | None) -> str | None:
        _, disposition = params(self.headers.first("content-disposition"))
        named = disposition.get("filename") or self.params.get("name")
        name = _BIDI_CONTROLS.sub("", clean_line(param_text(named, self.charset or charset)))
        return name or None

    @property
    def content_id(self) -> str | None:
        return bare_id(self.headers.first("content-id"))


def bare_id(value: bytes | None) -> str | None:
    """A Content-ID (or a `start` parameter) without its angle brackets."""
    if value is None:
        return None
    text = clean_line(value.decode("latin-1"))
    if "<" in text and ">" in text.partition("<")[2]:
        text = text.partition("<")[2].partition(">")[0]
    return text.strip("<> ") or None


def parse_tree(raw: bytes, start: int) -> Entity:
    """The entity tree of the mail that starts at raw[start:]."""
    root = _entity(raw, start, len(raw), 0, "text/plain")
    pending = [root]
    count = 0
    while pending:
        entity = pending.pop()
        for buf, child_start, child_end, default in _child_ranges(entity):
            if entity.depth + 1 > MAX_DEPTH:
                raise MalformedMessage(
                    f"MIME nesting deeper than {MAX_DEPTH} levels (multipart and attached "
                    "messages together): not a mail Tandem reads"
                )
            count += 1
            if count > MAX_PARTS:
                raise MalformedMessage(f"more than {MAX_PARTS} MIME parts: not a mail Tandem reads")
            child = _entity(buf, child_start, child_end, entity.depth + 1, default)
            entity.children.append(child)
            pending.append(child)
    return root


def _entity(buf: bytes, start: int, end: int, depth: int, default: str) -> Entity:
    headers, body_start = read_headers(buf, start, end)
    kind, found = content_type(headers.first("content-type"), default)
    return Entity(buf, headers, body_start, end, depth, kind, found)


def _child_ranges(entity: Entity) -> Iterator[tuple[bytes, int, int, str]]:
    if entity.content_type in ENCAPSULATING:
        if entity.body_start < entity.end:
            if _transfer_encoding(entity) in ("base64", "quoted-printable"):
                inner = decoded(entity)
                yield inner, 0, len(inner), "text/plain"
            else:
                yield entity.buf, entity.body_start, entity.end, "text/plain"
        return
    if not entity.content_type.startswith("multipart/"):
        return
    boundary = entity.params.get("boundary")
    token = boundary.raw.strip() if boundary is not None else b""
    if not token or len(token) > MAX_BOUNDARY or b"\n" in token or b"\r" in token:
        return
    default = "message/rfc822" if entity.content_type == "multipart/digest" else "text/plain"
    escaped = re.escape(token)
    tail = rb"(--)?[ \t]*(?=\r\n|\n|\r|\Z)"
    first = re.compile(rb"--" + escaped + tail).match(entity.buf, entity.body_start, entity.end)
    later = re.compile(rb"(?:\r\n|\n|\r)--" + escaped + tail)
    marks = [first] if first else []
    part_start: int | None = None
    for mark in _chain(marks, later.finditer(entity.buf, entity.body_start, entity.end)):
        if part_start is not None:
            entity.split = True
            yield entity.buf, part_start, mark.start(), default
        if mark.group(1):  # the close delimiter: the epilogue is not read
            return
        line_end = _LINE_END.match(entity.buf, mark.end(), entity.end)
        part_start = line_end.end() if line_end else mark.end()
    if part_start is not None:  # no close delimiter: the last part runs to the end
        entity.split = True
        yield entity.buf, part_start, entity.end, default


def _chain(
    first: list[re.Match[bytes]], rest: Iterator[re.Match[bytes]]
) -> Iterator[re.Match[bytes]]:
    yield from first
    for mark in rest:
        if not first or mark.start() >= first[0].end():
            yield mark


def _transfer_encoding(entity: Entity) -> str:
    value = entity.headers.first("content-transfer-encoding") or b""
    words = value.decode("latin-1").replace('"', " ").replace("'", " ").replace(";", " ").split()
    return words[0].lower() if words else ""


def decoded(entity: Entity) -> bytes:
    """The body with its Content-Transfer-Encoding undone (as far as it can be)."""
    encoding = _transfer_encoding(entity)
    body = entity.body
    if encoding == "base64":
        return decode_base64(body)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    if encoding in _UUENCODE:
        return _uudecode(body)
    return body


def _uudecode(body: bytes) -> bytes:
    lines = body.splitlines()
    begin = next((i for i, line in enumerate(lines) if line.startswith(b"begin ")), None)
    if begin is None:
        return body
    out = bytearray()
    for line in lines[begin + 1 :]:
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                break
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:  # the stdlib's workaround for encoders that pad badly
            try:
                out += binascii.a2b_uu(line[: ((line[0] - 32) & 63) * 4 // 3 + 1])
            except binascii.Error:
                continue
    return bytes(out)


def text_of(entity: Entity) -> str:
    """A text part as text: LF line ends, no NUL characters (which storage refuses)."""
    data = decoded(entity)
    label = entity.charset
    if entity.kind == "text/html" and charsets.encoding_for(label) is None:
        label = _meta_charset(data[:1024]) or label
    text = charsets.decode(data, label)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _meta_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    if match is None:
        return None
    name = charsets.encoding_for(match.group(1).decode("ascii"))
    if name in ("utf-16be", "utf-16le"):
        return "utf-8"  # a meta tag read as ASCII cannot be UTF-16: HTML says UTF-8
    if name == "x-user-defined":
        return "windows-1252"
    return name


def is_attachment(entity: Entity) -> bool:
    return entity.disposition == "attachment"


def find_body(root: Entity, kind: str) -> Entity | None:
    """The first `kind` text part a reader would show, as `EmailMessage.get_body` finds it:
    not inside attachments or attached messages, only the root part of a multipart/related;
    a named text part below the top is a file, not the body."""
    stack = [root]
    while stack:
        entity = stack.pop()
        if is_attachment(entity):
            continue
        if entity.kind.startswith("text/"):
            if entity.kind == kind and (entity is root or entity.filename(None) is None):
                return entity
            continue
        if not entity.split:
            continue
        if entity.content_type == "multipart/related":
            stack.append(_related_root(entity))
        else:
            stack.extend(reversed(entity.children))
    return None


def body_run(root: Entity, body: Entity) -> list[Entity]:
    """`body` and the text parts of its kind beside it in a multipart/mixed, in order: Apple
    Mail sends text, an inline image, then more text, and all of it is the body."""
    stack = [root]
    while stack:
        entity = stack.pop()
        if not entity.split or is_attachment(entity):
            continue
        if any(child is body for child in entity.children):
            if entity.content_type != "multipart/mixed":
                return [body]
            return [
                child
                for child in entity.children
                if child is body
                or (child.kind == body.kind and not child.split and not is_attachment(child)
                    and child.filename(None) is None)
            ]  # fmt: skip
        stack.extend(entity.children)
    return [body]


def _related_root(entity: Entity) -> Entity:
    start = entity.params.get("start")
    wanted = bare_id(start.raw) if start is not None else None
    for child in entity.children:
        if wanted is not None and child.content_id == wanted:
            return child
    return entity.children[0]


def leaves(root: Entity) -> Iterator[Entity]:
    """Every entity that is not a split multipart, in reading order; an attached message is
    one leaf, its own parts are not visited."""
    stack = [root]
    while stack:
        entity = stack.pop()
        if entity.split:
            stack.extend(reversed(entity.children))
        else:
            yield entity
