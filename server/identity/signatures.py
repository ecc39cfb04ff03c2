"""Signatures (SG-2 to SG-4, TS-2, SF-5): sanitised on save, rendered with Liquid for one
user, chosen by their "insert in" rule, and turned into plain text. Pure.

A body is HTML in both formats: `richtext` is what the composer's editor writes (a small
set of tags) and stays editable in a draft; `html` takes the email-safe allow-list below.
Liquid survives sanitising untouched (it is set aside while nh3 runs); what it renders is
sanitised again, with the user's values HTML-escaped, so no profile value can add markup.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any, Literal

import nh3
from liquid.exceptions import LiquidError

from server.responses.render import ENV, Person, TemplateError, check

Format = Literal["richtext", "html"]
InsertIn = Literal["all", "first", "first_then_alt"]
FORMATS: tuple[Format, ...] = ("richtext", "html")
INSERT_IN: tuple[InsertIn, ...] = ("all", "first", "first_then_alt")

RICH_TAGS = frozenset(
    {"a", "b", "blockquote", "br", "code", "div", "em", "i", "img", "li", "ol", "p", "s",
     "span", "strong", "u", "ul"}
)  # fmt: skip
EMAIL_TAGS = RICH_TAGS | frozenset(
    {"abbr", "big", "caption", "center", "col", "colgroup", "del", "font", "h1", "h2", "h3",
     "h4", "h5", "h6", "hr", "ins", "pre", "small", "strike", "sub", "sup", "table", "tbody",
     "td", "tfoot", "th", "thead", "tr"}
)  # fmt: skip
_CELL = {"width", "height", "colspan", "rowspan", "valign", "bgcolor"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "align", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor"},
    "tr": {"valign", "bgcolor"},
    "td": _CELL,
    "th": _CELL,
    "col": {"width", "span"},
    "ol": {"start", "type"},
    "font": {"color", "face", "size"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
DROPPED_CSS = frozenset({"position", "pointer-events", "behavior", "-moz-binding"})
_NEGATIVE = re.compile(r"(?:^|[\s(,])-\s*[\d.]")
_LIQUID = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_SLOT = re.compile(r"tandem-liquid-(\d+)-slot")


def clean_style(value: str) -> str | None:
    """Drop `position`, `pointer-events` and negative margins (SF-5); keep the rest."""
    kept: list[str] = []
    for declaration in value.split(";"):
        name, colon, setting = declaration.partition(":")
        prop = name.strip().lower()
        if not colon or not prop:
            continue
        negative_margin = prop.startswith("margin") and _NEGATIVE.search(setting)
        script = "expression(" in setting.lower() or "javascript:" in setting.lower()
        if prop not in DROPPED_CSS and not negative_margin and not script:
            kept.append(declaration.strip())
    if len(kept) == len([d for d in value.split(";") if d.strip()]):
        return value
    return ";".join(kept) or None


def _filter(tag: str, attribute: str, value: str) -> str | None:
    return clean_style(value) if attribute == "style" else value


def _clean(body: str, tags: frozenset[str]) -> str:
    return nh3.clean(
        body,
        tags=set(tags),
        clean_content_tags={"script", "style", "title", "head"},
        attributes=ATTRIBUTES,
        attribute_filter=_filter,
        link_rel=None,
        url_schemes=URL_SCHEMES,
    )


def sanitise(body: str, format: Format = "html") -> str:
    """Email-safe HTML with its Liquid intact: what is stored."""
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match[0])
        return f"tandem-liquid-{len(held) - 1}-slot"

    cleaned = _clean(_LIQUID.sub(hold, body), RICH_TAGS if format == "richtext" else EMAIL_TAGS)
    return _SLOT.sub(lambda match: held[int(match[1])], cleaned)


def render(template: str, user: Person) -> str:
    """The signature as `user` sends it: Liquid filled with their `user` object, then
    sanitised. `TemplateError` for Liquid that does not parse or fails to render."""
    if not template.strip():
        return ""
    check(template)
    context = {"user": {k: _escaped(v) for k, v in user.as_liquid().items()}}
    try:
        rendered = str(ENV.from_string(template).render(**context))
    except LiquidError as exc:
        raise TemplateError(str(exc).split("\n")[0]) from None
    return _clean(rendered, EMAIL_TAGS).strip()


def _escaped(value: Any) -> Any:
    return html.escape(value) if isinstance(value, str) else value


def chosen_body(insert_in: str, body: str, alt_body: str, *, first: bool) -> str:
    """SG-3: every email gets the body with `all`; with `first` only the first email of a
    conversation does; with `first_then_alt` replies get the alternative (none if empty)."""
    if insert_in == "all" or first:
        return body
    return alt_body if insert_in == "first_then_alt" else ""


def to_text(fragment: str) -> str:
    """Plain text of rendered signature HTML: blocks on their own lines, a link's address
    after its text when the text does not already say it, an image as its alt text."""
    reader = _TextReader()
    reader.feed(fragment)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.chunks).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextReader(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "div", "li", "tr", "table", "blockquote", "pre", "hr", "ul", "ol", "h1",
         "h2", "h3", "h4", "h5", "h6"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._links: list[tuple[str, int]] = []  # (href, where its text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self._break(tag)
        if tag == "li":
            self.chunks.append("- ")
        elif tag == "a":
            self._links.append((named.get("href") or "", len(self.chunks)))
        elif tag == "img" and named.get("alt"):
            self.chunks.append(str(named["alt"]))
        elif tag == "td":
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.chunks[start:]).strip()
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if href and shown not in text:
                self.chunks.append(f" <{shown}>" if text else shown)
        if tag != "br":
            self._break(tag)

    def _break(self, tag: str) -> None:
        """A block starts on a new line; only `<br>` makes an empty one."""
        at_line_start = not self.chunks or self.chunks[-1].endswith("\n")
        if tag == "br" or (tag in self._BLOCKS and not at_line_start):
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
