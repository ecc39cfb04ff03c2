"""sanitize_html against classic XSS vectors (OWASP cheat-sheet style), with the mail
formatting around them kept, and cid: images pointed at the message's own attachments."""

from __future__ import annotations

import time

import pytest

from sync.sanitize import MAX_NESTING, sanitize_html

CIDS = {"logo@x": "/api/attachments/1", "Chart@X": "/api/attachments/2"}
KEPT = "<p>kept</p>"


@pytest.mark.parametrize(
    ("html", "gone"),
    [
        ("<script>alert(1)</script>", ["script", "alert"]),
        ("<SCRIPT SRC=//evil.test/x.js></SCRIPT>", ["script", "evil"]),
        ('<scr<script>ipt>alert(1)</script>', ["<script", "<scr"]),
        ("<img src=x onerror=alert(1)>", ["onerror", "alert", "src"]),
        ('<IMG SRC="jav&#x09;ascript:alert(1)">', ["javascript", "alert", "src"]),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', ["ascript", "alert", "href"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["script", "href"]),
        ('<a href=" &#14;  javascript:alert(1)">x</a>', ["script", "href"]),
        ('<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">x</a>',
         ["alert", "href"]),
        ('<a href="vbscript:msgbox(1)">x</a>', ["vbscript", "href"]),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', ["data:", "href"]),
        ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', ["svg", "data:"]),
        ('<img src="data:text/html,<script>alert(1)</script>">', ["data:", "script"]),
        ("<svg onload=alert(1)>", ["svg", "onload", "alert"]),
        ('<svg><script href="data:,alert(1)"/></svg>', ["svg", "alert"]),
        ("<math><mtext><table><mglyph><style><!--</style>"
            '<img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">'
            "</mglyph></table></mtext></math>", ["onerror", "math"]),
        ('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', ["iframe", "alert"]),
        ('<iframe src="https://evil.test"></iframe>', ["iframe", "evil"]),
        ("<frameset><frame src=https://evil.test></frameset>", ["frame", "evil"]),
        ('<meta http-equiv="refresh" content="0;url=https://evil.test">', ["meta", "evil"]),
        ('<base href="https://evil.test/">', ["base", "evil"]),
        ('<link rel="import" href="https://evil.test/x.html">', ["link", "evil"]),
        ('<link rel=stylesheet href="https://evil.test/x.css">', ["link", "evil"]),
        ('<form action="https://evil.test"><input name=p type=password><button>Go</button>'
         "<select><option>a</option></select><textarea>t</textarea></form>",
         ["form", "input", "button", "select", "textarea", "evil", "password"]),
        ('<object data="https://evil.test/x.swf"></object>', ["object", "evil"]),
        ('<embed src="https://evil.test/x.swf">', ["embed", "evil"]),
        ('<applet code="X.class"></applet>', ["applet", "X.class"]),
        ('<p style="background:url(javascript:alert(1))">kept</p>', ["url", "javascript"]),
        ('<p style="background-color:url(https://evil.test/t.png)">kept</p>', ["url", "evil"]),
        ('<p style="width:expression(alert(1))">kept</p>', ["expression", "alert"]),
        ('<p style="width:exp/**/ression(alert(1))">kept</p>', ["ression", "alert"]),
        ('<p style="width:\\65xpression(alert(1))">kept</p>', ["xpression", "alert"]),
        ('<p style="behavior:url(x.htc)">kept</p>', ["behavior", "htc"]),
        ('<p style="-moz-binding:url(x.xml#xss)">kept</p>', ["binding", "xss"]),
        ('<p style="color:red;position:fixed;top:0">kept</p>', ["position", "fixed"]),
        ("<style>@import 'https://evil.test/x.css'; p{color:red}</style>", ["import", "color"]),
        ('<p onclick="alert(1)" ONMOUSEOVER=alert(2)>kept</p>', ["onclick", "onmouseover"]),
        ('<body onload=alert(1)>', ["onload", "alert"]),
        ('<a href="x" onfocus=alert(1) autofocus>x</a>', ["onfocus", "autofocus"]),
        ('<div id="x" class="admin">kept</div>', ["id=", "class="]),
        ('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', ["onerror"]),
        ("<!--[if gte IE 4]><script>alert(1)</script><![endif]-->", ["script", "alert"]),
        ('<a href="/api/logout">x</a>', ["logout", "href"]),
        ('<a href="//evil.test/">x</a>', ["evil", "href"]),
        ('<img src="cid:unknown@x">', ["cid:", "src"]),
        ("<template><script>alert(1)</script></template>", ["template", "alert"]),
        ("<xmp><script>alert(1)</script></xmp>", ["xmp", "alert"]),
    ],
)  # fmt: skip
def test_dangerous_markup_is_removed(html: str, gone: list[str]) -> None:
    cleaned = sanitize_html(f"<b>before</b>{html}<i>after</i>", CIDS)
    for fragment in gone:
        assert fragment.lower() not in cleaned.lower(), cleaned
    assert cleaned.startswith("<b>before</b>")
    assert cleaned.endswith("<i>after</i>")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p style="color:red;width:expression(alert(1))">kept</p>',
         '<p style="color:red">kept</p>'),
        ("<div>a<br>b<hr></div>", "<div>a<br>b<hr></div>"),
        ("<span>s</span><b>b</b><i>i</i><u>u</u><s>s</s><sub>1</sub><sup>2</sup>",
         "<span>s</span><b>b</b><i>i</i><u>u</u><s>s</s><sub>1</sub><sup>2</sup>"),
        ("<strong>x</strong><em>y</em><small>z</small><big>w</big><center>c</center>",
         "<strong>x</strong><em>y</em><small>z</small><big>w</big><center>c</center>"),
        ('<font color="#336699" face="Arial" size="2">f</font>',
         '<font color="#336699" face="Arial" size="2">f</font>'),
        ("<h1>1</h1><h6>6</h6>", "<h1>1</h1><h6>6</h6>"),
        ("<ul><li>a</li></ul><ol><li>b</li></ol><dl><dt>t</dt><dd>d</dd></dl>",
         "<ul><li>a</li></ul><ol><li>b</li></ol><dl><dt>t</dt><dd>d</dd></dl>"),
        ("<blockquote><pre><code>q</code></pre></blockquote>",
         "<blockquote><pre><code>q</code></pre></blockquote>"),
        ('<table width="100%" border="0" cellpadding="2" cellspacing="0" bgcolor="#fff">'
         '<caption>c</caption><colgroup><col width="50"></colgroup><thead><tr><th align="left">h'
         '</th></tr></thead><tbody><tr><td valign="top" colspan="2" rowspan="1" height="9">d</td>'
         "</tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>",
         '<table width="100%" border="0" cellpadding="2" cellspacing="0" bgcolor="#fff">'
         '<caption>c</caption><colgroup><col width="50"></colgroup><thead><tr><th align="left">h'
         '</th></tr></thead><tbody><tr><td valign="top" colspan="2" rowspan="1" height="9">d</td>'
         "</tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>"),
        ('<img src="https://cdn.example/a.png" alt="A" width="10" height="20" title="t">',
         '<img src="https://cdn.example/a.png" alt="A" width="10" height="20" title="t">'),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">',
         '<img src="data:image/png;base64,iVBORw0KGgo=">'),
        ('<a href="https://example.com/?a=1&amp;b=2">l</a>',
         '<a href="https://example.com/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">'
         "l</a>"),
        ('<a href="mailto:ana@example.com">m</a><a href="tel:+4930123">t</a>',
         '<a href="mailto:ana@example.com" target="_blank" rel="noopener noreferrer">m</a>'
         '<a href="tel:+4930123" target="_blank" rel="noopener noreferrer">t</a>'),
        ('<a href="https://x.test" target="_self" rel="opener">x</a>',
         '<a href="https://x.test" target="_blank" rel="noopener noreferrer">x</a>'),
        ('<img src="cid:logo@x">', '<img src="/api/attachments/1">'),
        ('<img src="CID:%3Clogo%40x%3E">', '<img src="/api/attachments/1">'),
        ('<img src="cid:chart@x">', '<img src="/api/attachments/2">'),
        ('<img src="cid:missing@x" alt="gone">', '<img alt="gone">'),
        ('<p style="font-family: Arial, sans-serif; font-size: 12px; margin: 0 0 1em; '
         'border-left: 2px solid rgb(0, 0, 255); text-align: center; display: none">p</p>',
         '<p style="font-family:Arial , sans-serif;font-size:12px;margin:0 0 1em;'
         'border-left:2px solid rgb(0, 0, 255);text-align:center;display:none">p</p>'),
        ('<p dir="rtl" align="right" lang="he">שלום</p>',
         '<p dir="rtl" align="right" lang="he">שלום</p>'),
        ("<html><head><title>T</title><style>p{}</style></head><body><p>x</p></body></html>",
         "<p>x</p>"),
        ("Tom &amp; Jerry &lt;3 &nbsp;", "Tom &amp; Jerry &lt;3 &nbsp;"),
    ],
)  # fmt: skip
def test_mail_formatting_survives(html: str, expected: str) -> None:
    assert sanitize_html(html, CIDS) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 200_000,
        "<blockquote>" * 100_000 + "x",
        "&amp;" * 1_000_000,
        "\xa0" * 2_000_000,
        '<a title="' + "&amp;" * 400_000 + '">x</a>',
        '<p style="' + "color:red;" * 200_000 + '">x</p>',
        ("<div>" * 255 + "<script>" + "</div>" * 255 + "</script>") * 400,
        "<svg><style>" + "<div>" * 100_000,
        "<!-->" + "<div>" * 100_000 + "-->",
        '<a title=x"y>' + "<div>" * 100_000,
        "<p>" * 100_000 + "<li>" * 100_000,
    ],
)
def test_hostile_html_is_cleaned_in_bounded_time(html: str) -> None:
    started = time.perf_counter()
    cleaned = sanitize_html(html, {})
    assert time.perf_counter() - started < 3
    assert "<script" not in cleaned and "<svg" not in cleaned


def test_deep_nesting_keeps_the_text() -> None:
    html = "<div>" * (MAX_NESTING + 50) + "deep text" + "</div>" * (MAX_NESTING + 50)
    cleaned = sanitize_html(html, {})
    assert "deep text" in cleaned
    assert cleaned.count("<div>") == MAX_NESTING


def test_long_text_is_kept_whole() -> None:
    html = "<p>" + "word &amp; " * 5_000 + "</p>"
    assert sanitize_html(html, {}) == html


def test_lone_surrogates_do_not_break_it() -> None:
    assert sanitize_html("<p>a\ud800b</p>", {}) == "<p>a\ufffdb</p>"
