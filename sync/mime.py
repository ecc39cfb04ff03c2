"""Parse one raw RFC 5322 message into the fields Tandem stores. Pure: bytes in, data out.

Broken mail still parses: undecodable bytes become U+FFFD, an unknown charset falls back to
UTF-8 then Windows-1252, an unparseable Date becomes None, a missing Message-ID becomes a
synthetic one derived from the raw bytes (so importing the same bytes twice de-duplicates).
Only input that has no header section at all raises `MalformedMessage`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC
from email import errors as email_errors
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import NamedTuple

SYNTHETIC_ID_DOMAIN = "tandem.invalid"
PREVIEW_CHARS = 200

# What the stdlib header and payload parsers raise on hostile input. They are meant to record
# defects instead, but a few corners still raise; a mail must never be lost to one of them.
# What the stdlib parsers still raise on hostile input, where they mostly record defects.
_PARSER_ERRORS = (email_errors.MessageError, ValueError, LookupError, TypeError, AttributeError)


_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_LIST_TAG = re.compile(r"^\s*\[[^\]]*\]")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|fw|aw|sv|tr|wg|antw|vs|rif|enc)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


class MalformedMessage(ValueError):
    """The bytes are not an email at all (no header section)."""


class Attachment(NamedTuple):
    filename: str | None  # None when the mail does not name the part
    content_type: str
    size: int  # decoded bytes


Addresses = list[tuple[str, str]]


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


def parse_message(raw: bytes) -> ParsedMessage:
    _require_headers(raw)
    msg = BytesParser(EmailMessage, policy=policy.default).parsebytes(raw)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    declared_id = first_message_id(_raw_header(msg, "Message-ID"))
    message_id = declared_id or f"<{raw_sha256[:32]}@{SYNTHETIC_ID_DOMAIN}>"
    subject = _collapse(_decoded_header(msg, "Subject"))
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    from_name, from_address = senders[0] if senders else ("", "")
    plain, html = _body_parts(msg)
    html_text = _part_text(html) if html is not None else None
    text = _part_text(plain) if plain is not None else html_to_text(html_text or "")
    return ParsedMessage(
        message_id=message_id,
        message_id_is_synthetic=declared_id is None,
        in_reply_to=first_message_id(_raw_header(msg, "In-Reply-To")),
        references=message_ids(_raw_header(msg, "References")),
        subject=subject,
        normalized_subject=normalize_subject(subject),
        from_address=from_address,
        from_name=from_name,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        bcc=_addresses(msg, "Bcc"),
        reply_to=_addresses(msg, "Reply-To"),
        date=_date_ms(_raw_header(msg, "Date")),
        text=text,
        html=html_text,
        preview=_collapse(text)[:PREVIEW_CHARS].rstrip(),
        attachments=_attachments(msg, skip=(plain, html)),
        size=len(raw),
        raw_sha256=raw_sha256,
    )


def message_ids(value: str) -> list[str]:
    """Every `<id>` token in a header value, in order, de-duplicated, whitespace removed."""
    found: list[str] = []
    for token in _ANGLE_ID.findall(value):
        inner = _WHITESPACE.sub("", token)
        if inner and f"<{inner}>" not in found:
            found.append(f"<{inner}>")
    if not found:
        bare = value.strip()
        if "@" in bare and not _WHITESPACE.search(bare) and "<" not in bare and ">" not in bare:
            found.append(f"<{bare}>")
    return found


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


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except AssertionError:  # html.parser on an unknown "<![keyword[" section
        pass  # keep the text read before it gave up
    lines = (_collapse(line) for line in "".join(extractor.chunks).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "table", "blockquote", "pre", "hr", "ul"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden_depth += tag in self._HIDDEN
        self._break_line(tag)

    def handle_endtag(self, tag: str) -> None:
        self._hidden_depth = max(0, self._hidden_depth - (tag in self._HIDDEN))
        self._break_line(tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.chunks.append(data)

    def _break_line(self, tag: str) -> None:
        if tag in self._BLOCKS or (tag[:1] == "h" and tag[1:].isdigit()):
            self.chunks.append("\n")


def _require_headers(raw: bytes) -> None:
    if not raw.strip():
        raise MalformedMessage("not an email: the input is empty")
    lines = raw.lstrip(b"\r\n").splitlines()
    first = lines[1] if lines[0].startswith(b"From ") and len(lines) > 1 else lines[0]
    if not _HEADER_LINE.match(first):
        raise MalformedMessage(
            f"not an email: no headers found (first line is {first[:60]!r}, expected 'Name: value')"
        )


def _clean(text: str) -> str:
    """Replace lone surrogates (undecoded 8-bit bytes) by reading them as UTF-8 or U+FFFD."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _clean(str(value))
    return ""


def _decoded_header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return _clean(str(value)) if value is not None else ""
    except _PARSER_ERRORS:
        raw = _raw_header(msg, name)
    try:
        return _clean(str(make_header(decode_header(raw))))
    except _PARSER_ERRORS:
        return raw


def _addresses(msg: Message, name: str) -> Addresses:
    try:
        header = msg.get(name)
        parsed = [(a.display_name, a.addr_spec) for a in getattr(header, "addresses", ())]
    except _PARSER_ERRORS:
        parsed = getaddresses([_raw_header(msg, name)])
    return [
        (_collapse(_clean(display)), _clean(addr).strip().lower())
        for display, addr in parsed
        if addr and addr.strip() not in ("", "<>")
    ]


def _date_ms(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp() * 1000)
    except (*_PARSER_ERRORS, OverflowError):
        return None


def _body_parts(msg: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    def body(kind: str) -> EmailMessage | None:
        try:
            part = msg.get_body(preferencelist=(kind,))
        except _PARSER_ERRORS:
            return None
        return part if isinstance(part, EmailMessage) else None

    plain, html = body("plain"), body("html")
    if plain is html is None and msg.get_content_maintype() == "multipart":
        return msg, None  # a multipart without (findable) boundary: read it as text
    return plain, html


def _part_text(part: Message) -> str:
    """The part's text in its declared charset, else UTF-8, else Windows-1252, else Latin-1."""
    payload = _payload_bytes(part)
    try:
        declared = part.get_content_charset()
    except _PARSER_ERRORS:
        declared = None
    text = payload.decode("latin-1")  # the last resort: it decodes any bytes
    for charset in (declared, "utf-8", "cp1252"):
        try:
            text = payload.decode(charset or "utf-8")
            break
        except (LookupError, ValueError):
            continue
    return _clean(text).replace("\r\n", "\n")


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except _PARSER_ERRORS:
        payload = None
    return payload if isinstance(payload, bytes) else b""


def _attachments(msg: Message, skip: tuple[Message | None, ...]) -> list[Attachment]:
    found: list[Attachment] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop(0)
        content_type = part.get_content_type()
        if content_type.startswith("multipart/"):
            stack[:0] = _children(part)
            continue
        if any(part is body for body in skip) or not _is_attachment(part, content_type):
            continue
        found.append(Attachment(_filename(part), content_type, _attachment_size(part)))
    return found


def _is_attachment(part: Message, content_type: str) -> bool:
    try:
        disposition = part.get_content_disposition()
    except _PARSER_ERRORS:
        disposition = None
    named = _filename(part) is not None
    return disposition == "attachment" or named or not content_type.startswith("text/")


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except _PARSER_ERRORS:
        return None
    cleaned = _collapse(_clean(name or ""))
    return cleaned or None


def _attachment_size(part: Message) -> int:
    if part.is_multipart():  # an attached message/rfc822, measured as re-serialized
        try:
            return sum(len(inner.as_bytes()) for inner in _children(part))
        except _PARSER_ERRORS:
            return 0
    return len(_payload_bytes(part))


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return (
        [child for child in payload if isinstance(child, Message)]
        if isinstance(payload, list)
        else []
    )
