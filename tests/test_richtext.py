"""A draft's Tiptap body rendered to an email's HTML and plain text: every node and mark of
the schema, and nothing a client types ever becomes markup."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.richtext import ALLOWED_TAGS, render


def body() -> XmlFragment:
    doc: Doc[Any] = Doc()
    return doc.get("body", type=XmlFragment)


def block(parent: Any, tag: str, *runs: tuple[str, dict[str, Any] | None], **attrs: str) -> Any:
    element = parent.children.append(XmlElement(tag, attrs or None))
    if runs:
        text = element.children.append(XmlText())
        for chunk, marks in runs:
            text.insert(len(str(text)), chunk, marks)
    return element


def test_every_node_and_mark_of_the_schema() -> None:
    b = body()
    block(b, "heading", ("Order 1234", None), level="2")
    block(
        b, "paragraph",
        ("Hello ", None), ("Carla", {"bold": {}}), (", see ", None),
        ("the tracking page", {"link": {"href": "https://track.example/1234"}}),
        (" and ", None), ("mind", {"italic": {}, "underline": {}}), (" the ", None),
        ("old", {"strike": {}}), (" ", None), ("code", {"code": {}}),
    )  # fmt: skip
    items = block(b, "orderedList", start="3")
    for word in ("first", "second"):
        item = block(items, "listItem")
        block(item, "paragraph", (word, None))
    quote = block(b, "blockquote")
    block(quote, "paragraph", ("On Monday you wrote:", None))
    line = block(b, "paragraph", ("Thanks", None))
    line.children.append(XmlElement("hardBreak"))
    line.children.append(XmlText("Alice"))
    block(b, "codeBlock", ("git log\nexit", None))
    b.children.append(XmlElement("horizontalRule"))
    block(b, "paragraph").children.append(XmlElement("image", {"src": "cid:logo", "alt": "Logo"}))

    rendered = render(b)
    assert rendered.html == (
        "<h2>Order 1234</h2>"
        '<p>Hello <strong>Carla</strong>, see <a href="https://track.example/1234" '
        'rel="noopener noreferrer">the tracking page</a> and <em><u>mind</u></em> the '
        "<s>old</s> <code>code</code></p>"
        '<ol start="3"><li><p>first</p></li><li><p>second</p></li></ol>'
        "<blockquote><p>On Monday you wrote:</p></blockquote>"
        "<p>Thanks<br>Alice</p>"
        "<pre><code>git log<br>exit</code></pre>"
        "<hr>"
        '<p><img src="cid:logo" alt="Logo"></p>'
    )
    assert rendered.text == (
        "Order 1234\n\n"
        "Hello Carla, see the tracking page <https://track.example/1234> and mind the old code\n\n"
        "3. first\n4. second\n\n"
        "> On Monday you wrote:\n\n"
        "Thanks\nAlice\n\n"
        "git log\nexit\n\n"
        "---\n\n"
        "[Logo]\n"
    )
    assert rendered.images == ["cid:logo"]


def test_links_a_mail_reader_must_not_follow_lose_their_target() -> None:
    b = body()
    block(b, "paragraph", ("click", {"link": {"href": "javascript:alert(1)"}}), (" me", None))
    rendered = render(b)
    assert rendered.html == "<p>click me</p>"
    assert rendered.text == "click me\n"


def test_unknown_nodes_keep_their_text() -> None:
    b = body()
    widget = block(b, "mentionWidget")
    block(widget, "paragraph", ("still here", None))
    assert "still here" in render(b).html and render(b).text == "still here\n"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


MARK_SETS = st.dictionaries(
    st.sampled_from(["bold", "italic", "code", "link", "onclick"]),
    st.one_of(st.just({}), st.builds(lambda h: {"href": h}, st.text(max_size=20))),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), MARK_SETS), min_size=1, max_size=6))
def test_typed_text_never_becomes_markup(runs: list[tuple[str, dict[str, Any]]]) -> None:
    b = body()
    block(b, "paragraph", *((chunk, marks or None) for chunk, marks in runs if chunk))
    rendered = render(b)
    parser = _Tags()
    parser.feed(rendered.html)
    assert set(parser.tags) <= ALLOWED_TAGS
    assert set(parser.attrs) <= {"href", "rel"}
    typed = "".join(chunk for chunk, _ in runs).replace("\r", "")
    for char in typed:  # every typed character survives in the text part
        if not char.isspace():
            assert char in rendered.text
