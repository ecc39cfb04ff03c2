"""Turn a Missive `body` (HTML or plain text) into the paragraphs a draft starts with."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = frozenset(
    {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr"}
)
LOOKS_LIKE_HTML = re.compile(r"<\s*[a-zA-Z][^>]*>")


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag == "br" or tag in BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._current.append(data)

    def _break(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._current)).strip()
        self._current = []
        if text:
            self.paragraphs.append(text)

    def result(self) -> list[str]:
        self._break()
        return self.paragraphs


def body_paragraphs(body: str) -> list[str]:
    if LOOKS_LIKE_HTML.search(body):
        parser = _Paragraphs()
        parser.feed(body)
        parser.close()
        return parser.result()
    return [line.rstrip() for line in body.replace("\r\n", "\n").split("\n")]
