"""HTML from a mail made safe to show inside Tandem, with its formatting kept. Pure.

`sanitize_html` runs nh3 (ammonia, an html5ever parser: what a browser parses is what is
cleaned) with an allow-list of mail formatting. Everything active goes: scripts and styles
with their content, event handlers, forms, frames, plugins, SVG and MathML, `<base>`,
`<meta>` and `<link>`. Links may only be http(s), mailto or tel and open in a new tab without
referrer; images may come from http(s), from a few inline `data:image/...` types, or from the
mail's own parts: `src="cid:X"` becomes the URL the caller gives for Content-ID X, and an
image whose part is unknown loses its src. Inline styles keep a list of layout and text
properties, and no value that loads anything or runs anything (`url()`, `expression()`, CSS
escapes, any function but rgb/hsl).

nh3 takes time quadratic in the depth of nested blocks and in the characters it escapes
within one text node or attribute value; `_defused` bounds both before it runs: elements
nested deeper than `MAX_NESTING` lose their tags (not their text), long text runs are split
by empty comments (which nh3 drops), and long attribute values are cut or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote

import nh3

from sync.mime_html import MARKUP

_TAGS = frozenset(
    {
        "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "cite", "code", "col",
        "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
        "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "tt", "u", "ul", "wbr",
    }
)  # fmt: skip
_REMOVED_WITH_CONTENT = frozenset(
    {
        "applet", "embed", "frame", "frameset", "head", "iframe", "math", "noembed", "noframes",
        "noscript", "object", "script", "select", "style", "svg", "template", "textarea",
        "title", "xmp",
    }
)  # fmt: skip
_CELL = {"width", "height", "colspan", "rowspan", "bgcolor", "valign", "nowrap"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "dir", "align", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border"},
    "font": {"color", "face", "size"},
    "table": {"width", "height", "border", "cellpadding", "cellspacing", "bgcolor", "valign"},
    "td": _CELL,
    "th": _CELL,
    "tr": {"height", "bgcolor", "valign"},
    "thead": {"valign", "bgcolor"},
    "tbody": {"valign", "bgcolor"},
    "tfoot": {"valign", "bgcolor"},
    "col": {"span", "width", "valign"},
    "colgroup": {"span", "width", "valign"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value", "type"},
    "hr": {"width", "size", "noshade", "color"},
}
_SIDES = ("top", "right", "bottom", "left")
_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "width", "height", "max-width", "line-height",
        "vertical-align", "display", "white-space", "list-style-type", "direction",
        "font", "font-family", "font-size", "font-style", "font-variant", "font-weight",
        "font-stretch", "text-align", "text-decoration", "text-decoration-color",
        "text-decoration-line", "text-decoration-style", "text-indent", "text-overflow",
        "text-shadow", "text-transform", "margin", "padding", "border", "border-collapse",
        "border-color", "border-radius", "border-spacing", "border-style", "border-width",
        *(f"{box}-{side}" for box in ("margin", "padding", "border") for side in _SIDES),
        *(f"border-{side}-{part}" for side in _SIDES for part in ("color", "style", "width")),
    }
)  # fmt: skip
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")
_INLINE_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=]*", re.I)
_CSS_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\s*\(", re.IGNORECASE)
_CSS_DANGER = re.compile(r"[\\<>(@]|expression|javascript|vbscript|url|behavio|binding|import")
_SURROGATE = re.compile("[\ud800-\udfff]")

MAX_NESTING = 256
_TEXT_RUN = 2048  # characters of text between two empty comments
_TEXT_ATTRIBUTE = 1024  # title and alt are cut to this
_OTHER_ATTRIBUTE = 8192  # other values longer than this are dropped (inline images aside)
_SPLIT_POINT = re.compile(r"[&\s]")
# Elements that never nest (void) or that the next sibling closes: they are not counted.
_UNCOUNTED = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "caption", "col", "colgroup", "dd", "dt",
        "embed", "frame", "hr", "img", "input", "keygen", "li", "link", "meta", "option",
        "optgroup", "p", "param", "rb", "rp", "rt", "rtc", "source", "tbody", "td", "tfoot",
        "th", "thead", "tr", "track", "wbr", "html", "head", "body",
    }
)  # fmt: skip
# Elements whose content an HTML parser reads as text: end tags inside do not count.
_RAW_TEXT = frozenset(
    {"iframe", "noembed", "noframes", "plaintext", "script", "style", "textarea", "title", "xmp"}
)


def sanitize_html(html: str, cid_urls: Mapping[str, str]) -> str:
    """Safe HTML for `html`; `cid_urls` maps a Content-ID (without brackets) to its URL."""
    lowered = {cid.lower(): url for cid, url in cid_urls.items()}

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "style":
            return _clean_style(value[:_OTHER_ATTRIBUTE])
        if attribute in ("href", "src"):
            return _clean_url(tag, attribute, value, cid_urls, lowered)
        if attribute in ("title", "alt"):
            return value[:_TEXT_ATTRIBUTE]
        return value if len(value) <= _OTHER_ATTRIBUTE else None

    return nh3.clean(
        _defused(_SURROGATE.sub("\ufffd", html)),
        tags=set(_TAGS),
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=keep,
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties=set(_STYLE_PROPERTIES),
    )


def _clean_url(
    tag: str,
    attribute: str,
    value: str,
    cid_urls: Mapping[str, str],
    lowered: Mapping[str, str],
) -> str | None:
    """The URL to keep, None to drop the attribute. Read as browsers read it: tabs, line
    breaks and control characters inside do not count."""
    compact = _URL_NOISE.sub("", value)
    scheme_match = _SCHEME.match(compact)
    scheme = scheme_match.group(1).lower() if scheme_match else None
    if len(value) > _OTHER_ATTRIBUTE and not (tag == "img" and scheme == "data"):
        return None
    if scheme == "cid":
        cid = unquote(value.strip()[4:]).strip().strip("<>").strip()
        return cid_urls.get(cid) or lowered.get(cid.lower())
    if scheme in ("http", "https"):
        return value.strip()
    if tag == "a" and scheme in ("mailto", "tel"):
        return value.strip()
    if tag == "img" and attribute == "src" and _INLINE_IMAGE.fullmatch(compact):
        return compact
    return None  # javascript:, vbscript:, other data:, relative and protocol-relative URLs


def _clean_style(value: str) -> str | None:
    kept: list[str] = []
    for declaration in _CSS_COMMENT.sub("", value).split(";"):
        name, colon, css = declaration.partition(":")
        prop = name.strip().lower()
        css = css.strip()
        if not colon or prop not in _STYLE_PROPERTIES or not _safe_css_value(css):
            continue
        kept.append(f"{prop}:{css}")
    return ";".join(kept) or None


def _safe_css_value(css: str) -> bool:
    """No escapes, no markup, no at-rules, no function but the colour ones: nothing can
    load a resource or run a script (url(), expression(), image-set(), -moz-binding...)."""
    plain = _CSS_COLOUR_FUNCTION.sub("", _CSS_CONTROLS.sub("", css))
    return bool(css) and _CSS_DANGER.search(plain.lower()) is None


def _defused(html: str) -> str:
    """`html` as nh3 will read it, with nesting bounded and long text runs split."""
    out: list[str] = []
    depth = 0
    dropped: dict[str, int] = {}  # start tags left out, so that their end tags go too
    raw_text: str | None = None  # inside <script> and the like: only its end tag counts
    pos = 0
    while (match := MARKUP.search(html, pos)) is not None:
        out.append(_split(html[pos : match.start()]))
        pos = match.end()
        token = match.group()
        name = (match.group(1) or "").lower()
        closing = token.startswith("</")
        if not name or name in _UNCOUNTED or (closing and raw_text not in (None, name)):
            out.append(token)
            continue
        if closing:
            raw_text = None
            if dropped.get(name):
                dropped[name] -= 1
                continue
            depth = max(0, depth - 1)
        elif depth >= MAX_NESTING:
            dropped[name] = dropped.get(name, 0) + 1
            continue
        else:
            depth += 1
            raw_text = name if name in _RAW_TEXT and raw_text is None else raw_text
        out.append(token)
    out.append(_split(html[pos:]))
    return "".join(out)


def _split(text: str) -> str:
    if len(text) <= _TEXT_RUN:
        return text
    pieces: list[str] = []
    start = 0
    while len(text) - start > _TEXT_RUN:
        point = _SPLIT_POINT.search(text, start + _TEXT_RUN)
        if point is None:
            break
        pieces.append(text[start : point.start()])
        start = point.start()
    pieces.append(text[start:])
    return "<!---->".join(pieces)
