"""Plain text from an HTML mail body, in time linear in its length. Pure.

A tokenizer of regular expressions with possessive quantifiers, not `html.parser` (which
is quadratic on some unclosed markup): scripts, styles, the head and the title are left out,
block elements start new lines, character references are decoded, whitespace is collapsed.
"""

from __future__ import annotations

import html
import re

# One token of markup, split where an HTML tokenizer splits it: a comment ("<!-->" is an
# empty one), a doctype or other bogus comment, or a tag whose quoted attribute values may
# hold ">" (a quote starts a value only after "="). Group 1 is the tag name.
MARKUP = re.compile(
    r"<!--(?:-?>|.*?(?:--!?>|\Z))"
    r"|<[!?][^>]*+>?"
    r"|</(?![a-zA-Z])[^>]*+>?"
    r"|</?([a-zA-Z][^\s/>]*+)(?:\s*+=\s*+(?:\"[^\"]*+\"?|'[^']*+'?)|[^>])*+>?",
    re.DOTALL,
)
_RAW_TEXT = frozenset({"script", "style"})
_HIDDEN = frozenset({"head", "title"})
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "table", "blockquote", "pre", "hr", "ul"})
_WHITESPACE = re.compile(r"\s+")


def html_to_text(markup: str) -> str:
    chunks: list[str] = []
    hidden = 0
    pos = 0
    while (match := MARKUP.search(markup, pos)) is not None:
        if not hidden:
            chunks.append(html.unescape(markup[pos : match.start()]))
        pos = match.end()
        name = (match.group(1) or "").lower()
        if not name:
            continue
        closing = match.group().startswith("</")
        if name in _RAW_TEXT and not closing:
            end = re.compile(rf"</{name}\b[^>]*+>?", re.IGNORECASE).search(markup, pos)
            pos = end.end() if end else len(markup)
        elif name in _HIDDEN:
            hidden = max(0, hidden - 1) if closing else hidden + 1
        elif name == "body":
            hidden = 0
        if name in _BLOCKS or (name[:1] == "h" and name[1:].isdigit()):
            chunks.append("\n")
    if not hidden:
        chunks.append(html.unescape(markup[pos:]))
    lines = (_WHITESPACE.sub(" ", line).strip() for line in "".join(chunks).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
