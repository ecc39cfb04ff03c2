"""A draft's rich-text body — the Tiptap/ProseMirror `XmlFragment` the web client edits
through y-prosemirror — rendered to the HTML and plain text of an email.

Only the schema's nodes and marks are rendered; anything else (a node a newer client
invented) keeps its text and loses its markup. Text is escaped as it is written, and the
finished HTML goes through nh3 with the same allow-list, so nothing a client typed can
become markup or a script in someone's mail reader.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import nh3
from pycrdt import XmlElement, XmlFragment, XmlText

BLOCKS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bulletList": "ul",
    "orderedList": "ol",
    "listItem": "li",
}
MARKS = {"bold": "strong", "italic": "em", "underline": "u", "strike": "s", "code": "code"}
MARK_ORDER = ("link", "bold", "italic", "underline", "strike", "code")
URL_SCHEMES = {"http", "https", "mailto", "cid"}
ALLOWED_TAGS = {
    *BLOCKS.values(), *MARKS.values(),
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "br", "a", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str
    images: list[str] = field(default_factory=list)  # image sources, in order (cid: targets)


def render(body: XmlFragment) -> Rendered:
    images: list[str] = []
    markup = "".join(_html(node, images) for node in body.children)
    clean = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    text = "\n\n".join(block for block in _text_blocks(body.children, "") if block is not None)
    return Rendered(html=clean, text=text.strip("\n") + "\n", images=images)


# --- HTML -----------------------------------------------------------------------------


def _html(node: Any, images: list[str]) -> str:
    if isinstance(node, XmlText):
        return _inline_html(node)
    if not isinstance(node, XmlElement):
        return ""
    tag, attrs = node.tag or "", _attrs(node)
    inner = "".join(_html(child, images) for child in node.children)
    if tag in BLOCKS:
        start = _int(attrs.get("start")) if tag == "orderedList" else None
        opening = f'<ol start="{start}">' if start not in (None, 1) else f"<{BLOCKS[tag]}>"
        return f"{opening}{inner}</{BLOCKS[tag]}>"
    if tag == "heading":
        level = min(max(_int(attrs.get("level")) or 1, 1), 6)
        return f"<h{level}>{inner}</h{level}>"
    if tag == "codeBlock":
        return f"<pre><code>{inner}</code></pre>"
    if tag == "hardBreak":
        return "<br>"
    if tag == "horizontalRule":
        return "<hr>"
    if tag == "image":
        src = str(attrs.get("src") or "")
        images.append(src)
        alt = html.escape(str(attrs.get("alt") or ""))
        return f'<img src="{html.escape(src)}" alt="{alt}">'
    return inner  # an unknown node keeps its content


def _inline_html(text: XmlText) -> str:
    out = []
    for chunk, attrs in text.diff():
        if not isinstance(chunk, str):
            continue  # embeds are not part of the schema
        piece = html.escape(chunk).replace("\n", "<br>")
        for mark in reversed(MARK_ORDER):
            value = (attrs or {}).get(mark)
            if value is None or value is False:
                continue
            if mark == "link":
                href = _href(value)
                if href:
                    piece = f'<a href="{html.escape(href)}">{piece}</a>'
            else:
                piece = f"<{MARKS[mark]}>{piece}</{MARKS[mark]}>"
        out.append(piece)
    return "".join(out)


def _href(link: Any) -> str | None:
    """A link mark's target, if it is one a mail reader may follow."""
    href = link.get("href") if isinstance(link, dict) else None
    if not isinstance(href, str) or ":" not in href:
        return None
    return href if href.split(":", 1)[0].lower() in URL_SCHEMES else None


def _attrs(node: XmlElement) -> dict[str, Any]:
    # pycrdt types `__iter__` as returning an Iterable (it returns an iterator)
    return dict(node.attributes.__iter__())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- plain text ---------------------------------------------------------------------


def _text_blocks(nodes: Any, prefix: str) -> Iterator[str | None]:
    """One string per block, already prefixed (quotes, list markers)."""
    for node in nodes:
        yield from _text_block(node, prefix)


def _text_block(node: Any, prefix: str) -> Iterator[str | None]:
    if isinstance(node, XmlText):
        yield _quote(_inline_text(node), prefix)
        return
    if not isinstance(node, XmlElement):
        return
    tag = node.tag or ""
    attrs = _attrs(node)
    if tag == "blockquote":
        yield from _text_blocks(node.children, prefix + "> ")
    elif tag in ("bulletList", "orderedList"):
        number = _int(attrs.get("start")) or 1
        lines = []
        for item in node.children:
            marker = "- " if tag == "bulletList" else f"{number}. "
            number += 1
            inner = [b for b in _text_blocks(_children(item), "") if b]
            body = "\n".join(inner).replace("\n", "\n" + " " * len(marker))
            lines.append(marker + body)
        yield _quote("\n".join(lines), prefix)
    elif tag == "horizontalRule":
        yield _quote("---", prefix)
    elif tag == "image":  # an image block (Tiptap's default): its alt text stands for it
        yield _quote(f"[{attrs.get('alt') or 'image'}]", prefix)
    elif tag == "codeBlock":
        code = "".join(_inline_text(c) for c in node.children if isinstance(c, XmlText))
        yield _quote(code, prefix)
    else:
        yield _quote(_inline_of(node), prefix)


def _children(node: Any) -> list[Any]:
    return list(node.children) if isinstance(node, XmlElement) else []


def _inline_of(node: XmlElement) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, XmlText):
            parts.append(_inline_text(child))
        elif isinstance(child, XmlElement):
            if child.tag == "hardBreak":
                parts.append("\n")
            elif child.tag == "image":
                alt = _attrs(child).get("alt") or "image"
                parts.append(f"[{alt}]")
            else:
                parts.append(_inline_of(child))
    return "".join(parts)


def _inline_text(text: XmlText) -> str:
    out = []
    for chunk, attrs in text.diff():
        if not isinstance(chunk, str):
            continue
        href = _href((attrs or {}).get("link"))
        if href and href != chunk and href != f"mailto:{chunk}":
            out.append(f"{chunk} <{href}>")
        else:
            out.append(chunk)
    return "".join(out)


def _quote(block: str, prefix: str) -> str:
    if not prefix:
        return block
    return "\n".join((prefix + line).rstrip() for line in block.split("\n"))
