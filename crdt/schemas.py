"""Document names (`<kind>:<id>`) and the root types of each kind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map, XmlElement, XmlFragment, XmlText

from crdt.errors import CloseCode, ProtocolError

NAME = re.compile(r"^(?P<kind>[a-z]+):(?P<id>[A-Za-z0-9_-]{1,64})$")
KINDS = frozenset({"draft", "conv", "user"})  # user: a feed, never a stored document


@dataclass(frozen=True)
class DocumentName:
    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def parse_name(name: str) -> DocumentName:
    match = NAME.match(name)
    if match is None or match["kind"] not in KINDS:
        raise ProtocolError(CloseCode.NOT_FOUND, f"no such document: {name[:80]!r}")
    return DocumentName(match["kind"], match["id"])


def new_doc(name: str) -> Doc[Any]:
    """An empty document with the root types of its kind declared."""
    doc: Doc[Any] = Doc()
    if parse_name(name).kind == "draft":
        doc.get("body", type=XmlFragment)
        doc.get("headers", type=Map)
        doc.get("attachments", type=Map)  # attachment id -> {filename, content_type, size, inline}
    return doc


def draft_seed(
    subject: str, paragraphs: list[str], headers: dict[str, object], quote: list[str] | None = None
) -> bytes:
    """The first update of a new draft: headers and a body of plain paragraphs; `quote`:
    plain paragraphs in a blockquote below them."""
    doc: Doc[Any] = Doc()
    body = doc.get("body", type=XmlFragment)
    header_map = doc.get("headers", type=Map)
    with doc.transaction():
        header_map["subject"] = subject
        for key, value in headers.items():
            header_map[key] = value
        for text in paragraphs or [""]:
            # Always one text node, even when empty: two editors typing at once into an
            # empty paragraph would otherwise each create their own, and y-prosemirror
            # (which expects one text node per run) reconciles the pair by rewriting them,
            # duplicating or scrambling the words (tests/test_cowrite.py).
            paragraph = body.children.append(XmlElement("paragraph"))
            paragraph.children.append(XmlText(text))
        if quote:
            block = body.children.append(XmlElement("blockquote"))
            for text in quote:
                paragraph = block.children.append(XmlElement("paragraph"))
                paragraph.children.append(XmlText(text))
    update: bytes = doc.get_update()
    return update
