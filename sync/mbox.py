"""Split an mbox file (mboxo or mboxrd) into raw messages. Pure: bytes in, bytes out.

Every line that starts with "From " begins a message (mboxo and mboxrd writers escape such
body lines as ">From "). Quoted lines are un-escaped the mboxrd way: one ">" is removed from
">From ", ">>From " and so on. For an mboxo file this also turns a body line that was
written as ">From " into "From ", an ambiguity of the format itself. Line endings are kept
as they are, so CRLF files give CRLF messages; the blank line a writer puts between two
messages is removed. Content-Length (mboxcl) is not consulted.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(rb"^From ", re.MULTILINE)
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")


class MalformedMailbox(ValueError):
    """The bytes are not an mbox file."""


def is_mbox(data: bytes) -> bool:
    return _problem(data) is None


def split_mbox(data: bytes) -> list[bytes]:
    problem = _problem(data)
    if problem is not None:
        raise MalformedMailbox(f"not an mbox: {problem}")
    starts = [match.start() for match in _SEPARATOR.finditer(data)]
    ends = [*starts[1:], len(data)]
    messages = (_message(data[start:end]) for start, end in zip(starts, ends, strict=True))
    return [message for message in messages if message.strip()]


def _problem(data: bytes) -> str | None:
    if not data:
        return "the input is empty"
    if not data.startswith(b"From "):
        return f"the first line must start with 'From ', found {_first_line(data)[:60]!r}"
    first_header = _first_line(data.partition(b"\n")[2])
    if not _HEADER_LINE.match(first_header):
        return f"the first message has no headers, found {first_header[:60]!r}"
    return None


def _first_line(data: bytes) -> bytes:
    return data.partition(b"\n")[0].rstrip(b"\r")


def _message(chunk: bytes) -> bytes:
    """One "From " line and what follows it, up to the next separator."""
    body = chunk.partition(b"\n")[2]
    if body.endswith(b"\r\n\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n\n"):
        body = body[:-1]
    return _ESCAPED_FROM.sub(rb"\1", body)
