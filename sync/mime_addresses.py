"""Address headers (From, To, Cc...) read the way mail clients read them. Pure.

Besides RFC 5322 lists, groups, quoted names and old-style "addr (Name)" comments, an
unquoted display name holding a comma, as Outlook writes it (`Doe, John <j@x>`), stays one
name: words without an address before an angle address belong to its name.
"""

from __future__ import annotations

import re

from sync import charsets
from sync.mime_headers import clean_line, decode_words

Addresses = list[tuple[str, str]]

_TOKENS = re.compile(
    r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)'  # a quoted string; unterminated, it runs to the end
    r"|<[^<>]*+>?"  # an angle address
    r"|[(),;:>]"
    r'|[^"<>(),;:]++',
    re.DOTALL,
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_ROUTE = re.compile(r"^(?:\s*@[^:,]*,?)+:")

Token = tuple[str, str]  # (kind, text): kind is "text", "quoted", "angle" or "comment"


def addresses(value: bytes | None, charset: str | None) -> Addresses:
    """(display name, lowercased address) for each address; empty ones (`<>`) left out."""
    if value is None:
        return []
    pieces = _pieces(charsets.decode_8bit(value, charset))
    found: Addresses = []
    names: list[str] = []  # words seen without an address, waiting for an angle address
    for piece in pieces:
        if not any(kind == "angle" for kind, _ in piece):
            text = "".join(t for kind, t in piece if kind in ("text", "quoted"))
            if text.strip() and "@" not in text:
                names.append(_phrase(piece))
                continue
            found.extend(("", name) for name in names)
            names = []
            found.append(_address(piece))
        else:
            name, address = _address(piece)
            found.append((", ".join([*names, name] if name else names), address))
            names = []
    found.extend(("", name) for name in names)
    return [
        (clean_line(decode_words(name)), _clean_address(address))
        for name, address in found
        if _clean_address(address) not in ("", "<>")
    ]


def _pieces(value: str) -> list[list[Token]]:
    """The tokens of each comma-separated entry; group names ("team:") and ends (";") go."""
    pieces: list[list[Token]] = []
    current: list[Token] = []
    comment: list[str] = []
    depth = 0
    for match in _TOKENS.finditer(value):
        token = match.group()
        if depth:
            depth += (token == "(") - (token == ")")
            if depth:
                comment.append(token)
            else:
                current.append(("comment", "".join(comment)))
                comment = []
        elif token == "(":
            depth = 1
        elif token in (",", ";"):
            pieces.append(current)
            current = []
        elif token == ":" and not any(k == "angle" or "@" in t for k, t in current):
            current = []  # "group name:" starts a group
        elif token.startswith('"'):
            inner = token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]
            current.append(("quoted", _QUOTED_PAIR.sub(r"\1", inner)))
        elif token.startswith("<"):
            current.append(("angle", token[1:].removesuffix(">")))
        elif token not in (")", ">", ":"):
            current.append(("text", token))
    if comment:
        current.append(("comment", "".join(comment)))
    pieces.append(current)
    return [piece for piece in pieces if piece]


def _address(piece: list[Token]) -> tuple[str, str]:
    angles = [index for index, (kind, _) in enumerate(piece) if kind == "angle"]
    if angles:
        last = angles[-1]
        name = _phrase(piece[:last])
        return name or _comments(piece), _ROUTE.sub("", piece[last][1])
    address = "".join(f'"{t}"' if kind == "quoted" else t for kind, t in piece if kind != "comment")
    return _comments(piece), address


def _phrase(piece: list[Token]) -> str:
    words = "".join(t for kind, t in piece if kind in ("text", "quoted"))
    return words.strip() or _comments(piece)


def _comments(piece: list[Token]) -> str:
    return " ".join(t.strip() for kind, t in piece if kind == "comment" and t.strip())


def _clean_address(address: str) -> str:
    address = address.strip() if '"' in address else "".join(address.split())
    return clean_line(address).lower()
