"""Header sections and header values, read as mail clients read them. Pure: bytes in, data out.

A header section ends at the first empty line; garbage lines in it (not "Name: value", not
a continuation) are skipped, and a first line indented by mistake still counts. Values stay
bytes until read: 8-bit text in the part's or the message's declared charset, then UTF-8,
then windows-1252 (`sync.charsets`); RFC 2047 encoded words and RFC 2231 parameters in the
charset they name. A header section over `MAX_HEADER_BYTES` raises `MalformedMessage`.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from sync import charsets

MAX_HEADER_BYTES = 1 << 20
EARLIEST_DATE_MS = 315_532_800_000  # 1980-01-01 UTC; earlier dates are clock errors
FUTURE_SLACK_MS = 2 * 86_400_000

_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_LINE_END = re.compile(rb"\r\n|\n|\r")
_BLANK_LINE = re.compile(rb"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))")
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.DOTALL)
_PARAM_NAME = re.compile(r"([^*]+)(?:\*(\d{1,3}))?(\*)?")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")
_WHITESPACE = re.compile(r"\s+")
_BLANKS = re.compile(r"[\t\n\r\x0b\x0c]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_BASE64 = bytes(sorted(set(range(256)) - set(_BASE64_ALPHABET)))


class MalformedMessage(ValueError):
    """The bytes are not a mail Tandem stores; str(exc) says what is wrong, for admins."""


class Headers:
    """The fields of one header section: lowercased names, unfolded raw values, in order."""

    def __init__(self, fields: list[tuple[str, bytes]]) -> None:
        self.fields = fields
        self._first: dict[str, bytes] = {}
        for name, value in fields:
            self._first.setdefault(name, value)

    def first(self, name: str) -> bytes | None:
        return self._first.get(name)


class Param(NamedTuple):
    raw: bytes  # the value's bytes; percent-decoded for an RFC 2231 value
    charset: str | None  # the charset an RFC 2231 value names
    extended: bool  # written the RFC 2231 way (name*=charset'lang'value)


def _starts_with_header(buf: bytes, start: int, end: int) -> bool:
    line = _LINE_END.split(buf[start : min(end, start + 1000)], maxsplit=1)[0]
    return _HEADER_LINE.match(line.lstrip(b" \t")) is not None


def read_headers(buf: bytes, start: int, end: int) -> tuple[Headers, int]:
    """The header section of the entity in buf[start:end], and where its body starts.

    The section ends at the first empty line. Lines in it that are not "Name: value" are
    skipped when a header follows them; trailing ones start the body (a generator forgot
    the empty line). Without an empty line, the first such line starts the body."""
    if start >= end or not _starts_with_header(buf, start, end):
        blank = _LINE_END.match(buf, start, end)
        return Headers([]), blank.end() if blank else start
    blank = _BLANK_LINE.search(buf, start, min(end, start + MAX_HEADER_BYTES + 4))
    scan_end = blank.start() if blank else min(end, start + MAX_HEADER_BYTES + 1)
    fields: list[tuple[str, bytes]] = []
    name: str | None = None
    parts: list[bytes] = []
    good_end = pos = start
    while pos < scan_end:
        line_end = _LINE_END.search(buf, pos, end)
        next_pos = line_end.end() if line_end else end
        line = buf[pos : line_end.start() if line_end else end]
        if pos != start and line[:1] in (b" ", b"\t"):
            if name is not None:
                parts.append(line)
                good_end = next_pos
        else:
            if name is not None:
                fields.append((name, b"".join(parts)))
            match = _HEADER_LINE.match(line.lstrip(b" \t") if pos == start else line)
            name = None
            if match is not None:
                head = match.group()
                name = head[:-1].rstrip(b" \t").decode("ascii").lower()
                parts = [line[line.index(head) + len(head) :]]
                good_end = next_pos
            elif blank is None:
                break
        pos = next_pos
    if name is not None:
        fields.append((name, b"".join(parts)))
    if good_end - start > MAX_HEADER_BYTES:
        raise MalformedMessage(
            f"header section over {MAX_HEADER_BYTES // 1024} KiB ({good_end - start} bytes "
            f"from byte {start}): not a mail Tandem reads"
        )
    return Headers(fields), blank.end() if blank and good_end >= pos else good_end


def text(value: bytes | None, charset: str | None) -> str:
    """An unstructured header (Subject and the like) as one line of text."""
    if value is None:
        return ""
    return clean_line(decode_words(charsets.decode_8bit(value, charset)))


def clean_line(value: str) -> str:
    """Whitespace collapsed, and the other control characters (C0, DEL, C1) removed."""
    return collapse(_CONTROLS.sub("", _BLANKS.sub(" ", value)))


def collapse(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; adjacent words of one charset are joined as bytes first,
    so a character split across two words survives, and the blanks between words go."""
    if "=?" not in value:
        return value
    out: list[str] = []
    run = bytearray()
    run_charset: str | None = None
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset = match.group(1).split("*", 1)[0].lower()
        data = _b_word(match.group(3)) if match.group(2) in "bB" else _q_word(match.group(3))
        joined = run_charset is not None and (not gap or gap.isspace())
        if not (joined and charset == run_charset):
            if run_charset is not None:
                out.append(charsets.decode(bytes(run), run_charset, sniff_bom=False))
            if not joined:
                out.append(gap)
            run.clear()
        run += data
        run_charset = charset
        pos = match.end()
    if run_charset is not None:
        out.append(charsets.decode(bytes(run), run_charset, sniff_bom=False))
    out.append(value[pos:])
    return "".join(out)


def _q_word(word: str) -> bytes:
    data = word.encode("utf-8").replace(b"_", b" ")
    return _QP_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), data)


def _b_word(word: str) -> bytes:
    return decode_base64(word.encode("utf-8"))


def decode_base64(data: bytes) -> bytes:
    """Base64 read as far as it goes: stray characters skipped, missing padding supplied,
    blocks glued after a padded end read on; a lone trailing character is dropped."""
    out = bytearray()
    for block in data.translate(None, _NOT_BASE64).split(b"="):
        usable = len(block) - (1 if len(block) % 4 == 1 else 0)
        if usable > 0:
            out += binascii.a2b_base64(block[:usable] + b"=" * (-usable % 4))
    return bytes(out)


def params(value: bytes | None) -> tuple[str, dict[str, Param]]:
    """A Content-Type or Content-Disposition value: its lowercased first word and its
    parameters by lowercased name, RFC 2231 continuations joined; the first of a name wins,
    and an RFC 2231 value wins over a plain one of the same name."""
    if value is None:
        return "", {}
    latin1 = value.decode("latin-1")
    head, _, _ = latin1.partition(";")
    words = head.split()
    main = words[0].lower().strip("\"'") if words else ""
    found: dict[str, Param] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for match in _PARAM.finditer(latin1, len(head)):
        name_match = _PARAM_NAME.fullmatch(match.group(1).lower())
        if name_match is None:
            continue
        name, index, star = name_match.groups()
        raw = match.group(2).strip()
        if raw.startswith('"'):
            closed = raw.endswith('"') and len(raw) > 1
            raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1] if closed else raw[1:])
        if index is not None:
            pieces.setdefault(name, {}).setdefault(int(index), (raw, star is not None))
        elif star is not None:
            found[name] = _extended([(raw, True)])
        else:
            found.setdefault(name, Param(raw.encode("latin-1"), None, False))
    for name, numbered in pieces.items():
        if name not in found or not found[name].extended:
            found[name] = _extended([numbered[i] for i in sorted(numbered)])
    return main, found


def _extended(segments: list[tuple[str, bool]]) -> Param:
    first, first_encoded = segments[0]
    charset: str | None = None
    if first_encoded and first.count("'") >= 2:
        charset, _, rest = first.split("'", 2)
        segments = [(rest, True), *segments[1:]]
    raw = b"".join(
        unquote_to_bytes(part.encode("latin-1")) if encoded else part.encode("latin-1")
        for part, encoded in segments
    )
    return Param(raw, charset or None, any(encoded for _, encoded in segments))


def param_text(param: Param | None, charset: str | None) -> str:
    """A parameter as text: in its RFC 2231 charset, else encoded words and 8-bit bytes read
    as in an unstructured header (mail clients put both in file names)."""
    if param is None:
        return ""
    if param.extended:
        if param.charset is not None:
            return charsets.decode(param.raw, param.charset, sniff_bom=False)
        return charsets.decode_8bit(param.raw, charset)
    return decode_words(charsets.decode_8bit(param.raw, charset))


def content_type(value: bytes | None, default: str) -> tuple[str, dict[str, Param]]:
    main, found = params(value)
    return (main if _TOKEN.fullmatch(main) else default), found


def date_ms(value: bytes | None, now: int | None) -> int | None:
    """A date header in Unix milliseconds; None when absent, unreadable or implausible
    (before 1980, or more than two days after `now`). No zone means UTC."""
    if value is None:
        return None
    raw = collapse(value.decode("latin-1"))
    if not raw:
        return None
    when: datetime | None
    try:
        when = parsedate_to_datetime(raw)
    except (ValueError, TypeError, IndexError, OverflowError):
        when = _iso_date(raw)
    if when is None:
        return None
    try:
        ms = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return None
    if ms < EARLIEST_DATE_MS or (now is not None and ms > now + FUTURE_SLACK_MS):
        return None
    return ms


def _iso_date(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None
