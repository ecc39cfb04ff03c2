"""parse_message decodes mail as mail clients do: charsets by their WHATWG labels (bodies,
encoded words, file names), 8-bit headers, HTML meta charsets, sloppy transfer encodings,
broken header sections, Outlook's unquoted names, control characters, and the text body of
deep or forwarding structures."""

from __future__ import annotations

import codecs

import pytest

from sync.mime import ParsedMessage, parse_message

KOI8 = "Привет".encode("koi8_r")
CP1251 = "Привет".encode("cp1251")


def mail(*headers: str | bytes, body: bytes = b"x") -> bytes:
    """CRLF header lines (str lines are ASCII source text, bytes are sent as they are)."""
    head = b"\r\n".join(line.encode() if isinstance(line, str) else line for line in headers)
    return head + b"\r\n\r\n" + body


def multipart(kind: str, *parts: bytes, boundary: str = "b") -> bytes:
    """The body of a multipart: each part is its header lines and body, already joined."""
    inner = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return inner + b"--" + boundary.encode() + b"--\r\n"


def part(*headers: str | bytes, body: bytes = b"x") -> bytes:
    return mail(*headers, body=body)


@pytest.mark.parametrize(
    ("label", "body", "text"),
    [
        # GBK labels decode with the gb18030 decoder, four-byte sequences included.
        ("gb2312", "中文".encode("gbk"), "中文"),
        ("chinese", "中文".encode("gbk"), "中文"),
        ("csgb2312", "𠀀".encode("gb18030"), "𠀀"),
        ("x-gbk", "汉字".encode("gbk"), "汉字"),
        ("GBK", "汉字".encode("gbk"), "汉字"),
        # Latin-1 and ASCII labels mean windows-1252: 0x80 is the euro sign.
        ("latin1", b"\x80 caf\xe9", "€ café"),
        ("iso-8859-1", b"\x93quoted\x94", "“quoted”"),
        ("l1", b"\x85", "…"),
        ("us-ascii", b"\x80", "€"),
        ("ascii", b"caf\xc3\xa9", "café"),  # declared ASCII, sent UTF-8
        # Korean and Japanese labels mean the Microsoft supersets.
        ("ks_c_5601-1987", "똠방각하".encode("cp949"), "똠방각하"),
        ("euc-kr", "한국어".encode("cp949"), "한국어"),
        ("shift_jis", "①テスト".encode("cp932"), "①テスト"),
        ("sjis", "①".encode("cp932"), "①"),
        ("windows-31j", "①".encode("cp932"), "①"),
        ("iso-2022-jp", b"\x1b$B%F%9%H-!\x1b(B", "テスト①"),
        ("euc-jp", b"\xad\xa1", "①"),
        # Single-byte labels that name another encoding.
        ("iso-8859-8-i", "שלום".encode("iso8859_8"), "שלום"),
        ("tis-620", b"\x80" + "ไทย".encode("cp874"), "€ไทย"),
        ("iso-8859-9", b"\x80\xfd", "€ı"),
        ("koi8-r", KOI8, "Привет"),
        ("koi8-ru", b"\xae", "ў"),
        ("x-mac-cyrillic", "Привет".encode("mac_cyrillic"), "Привет"),
        ("big5-hkscs", "中文".encode("big5hkscs"), "中文"),
        # UTF-8 labels; a stray windows-1252 byte in UTF-8 text is read, not lost.
        ("utf8", "été".encode(), "été"),
        ("unicode-1-1-utf-8", "été".encode(), "été"),
        ("UTF-8", b"caf\xc3\xa9 \xe9t\xe9", "café été"),
        # Replacement labels: the whole part is one U+FFFD.
        ("iso-2022-kr", b"\x1b$)C\x0e!!\x0f", "\ufffd"),
        ("hz-gb-2312", b"~{<:Ky2;S{#,~}", "\ufffd"),
        ("iso-2022-cn", b"abc", "\ufffd"),
        # UTF-16 labels, x-user-defined, and the UTF-7 mail clients still read.
        ("utf-16", "hé".encode("utf-16-le"), "hé"),
        ("utf-16be", "hé".encode("utf-16-be"), "hé"),
        ("x-user-defined", b"a\x80", "a\uf780"),
        ("utf-7", b"Hi Mom -+Jjo--!", "Hi Mom -☺-!"),
        # Labels are trimmed of blanks and quotes and matched without case.
        ('" Shift_JIS "', "①".encode("cp932"), "①"),
        ("'LATIN1'", b"\x80", "€"),
        # Unknown labels: UTF-8 when it decodes, else windows-1252.
        ("x-unknown", "été".encode(), "été"),
        ("x-unknown", b"\xe9t\xe9", "été"),
        # A byte order mark wins over the label.
        ("iso-8859-1", codecs.BOM_UTF8 + "été".encode(), "été"),
    ],
)
def test_body_charset_labels(label: str, body: bytes, text: str) -> None:
    raw = mail("Subject: s", f"Content-Type: text/plain; charset={label}", body=body)
    assert parse_message(raw).text == text


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("=?gb2312?B?1tDOxA==?=", "中文"),
        ("=?ks_c_5601-1987?B?x9Gxub7u?=", "한국어"),
        ("=?windows-31j?B?h0A=?=", "①"),
        ("=?latin1?q?caf=E9_=80?=", "café €"),
        ("=?iso-8859-8-i?q?=F9=EC=E5=ED?=", "שלום"),
        ("=?ISO-2022-KR?B?GyQpQw4hIQ8=?=", "\ufffd"),
        ("=?us-ascii?q?caf=C3=A9?=", "café"),
        ("=?utf-8*fr?q?=C3=A9t=C3=A9?=", "été"),  # RFC 2231 language suffix
        ("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "café"),  # a character split across words
        ("=?UTF-8?B?w6k?=", "é"),  # unpadded
        ("=?utf-8?b?w6k=?=\r\n =?iso-8859-1?q?=E9?=", "éé"),
        ("Re: =?koi8-r?b?8NLJ18XU?= !", "Re: Привет !"),
    ],
)
def test_encoded_words_use_the_labels(subject: str, expected: str) -> None:
    assert parse_message(mail(f"Subject: {subject}")).subject == expected


@pytest.mark.parametrize(
    ("headers", "filename"),
    [
        (
            ["Content-Disposition: attachment; filename*=gb2312''%D6%D0%CE%C4.pdf"],
            "中文.pdf",
        ),
        (
            [
                "Content-Disposition: attachment; filename*0*=utf-8''r%C3%A9;",
                " filename*1*=sum%C3%A9; filename*2=.pdf",
            ],
            "résumé.pdf",
        ),
        (["Content-Disposition: attachment; filename*=utf-8'en'%C3%A9t%C3%A9.txt"], "été.txt"),
        (
            [
                'Content-Disposition: attachment; filename="plain.pdf";',
                " filename*=utf-8''r%C3%A9el.pdf",
            ],
            "réel.pdf",
        ),
        (
            ['Content-Disposition: attachment; filename="=?ks_c_5601-1987?B?x9Gxub7u?=.doc"'],
            "한국어.doc",
        ),
        (['Content-Type: application/pdf; name="=?iso-8859-1?q?r=E9sum=E9.pdf?="'], "résumé.pdf"),
        (
            [b'Content-Type: application/octet-stream; charset=koi8-r; name="' + KOI8 + b'.txt"'],
            "Привет.txt",
        ),
        ([b'Content-Disposition: attachment; filename="' + "été".encode() + b'.txt"'], "été.txt"),
        ([b'Content-Disposition: attachment; filename="\xe9t\xe9.txt"'], "été.txt"),
    ],
)
def test_filenames(headers: list[str | bytes], filename: str) -> None:
    raw = mail("Subject: s", "Content-Type: multipart/mixed; boundary=b", body=multipart(
        "mixed", part("Content-Type: text/plain", body=b"body"), part(*headers, body=b"data")
    ))  # fmt: skip
    assert [a.filename for a in parse_message(raw).attachments] == [filename]


def test_8bit_filename_uses_the_message_charset() -> None:
    body = multipart(
        "mixed",
        part("Content-Type: text/plain; charset=windows-1251", body=CP1251),
        part(b'Content-Disposition: attachment; filename="' + CP1251 + b'.pdf"'),
    )
    raw = mail("Subject: s", "Content-Type: multipart/mixed; boundary=b", body=body)
    assert parse_message(raw).attachments[0].filename == "Привет.pdf"


@pytest.mark.parametrize(
    ("content_type", "subject", "expected"),
    [
        ("text/plain; charset=koi8-r", KOI8, "Привет"),
        ("text/plain; charset=shift_jis", "テスト".encode("cp932"), "テスト"),
        ("text/plain; charset=iso-8859-1", "é".encode("latin-1"), "é"),
        # The declared charset cannot read the bytes: UTF-8, then windows-1252.
        ("text/plain; charset=iso-2022-jp", "テスト".encode(), "テスト"),
        ("text/plain; charset=utf-8", b"caf\xe9", "café"),
        ("text/plain", "déjà".encode(), "déjà"),
        ("text/plain", b"d\xe9j\xe0", "déjà"),
        # 7-bit ISO-2022-JP written raw into the header.
        ("text/plain; charset=iso-2022-jp", b"\x1b$B%F%9%H\x1b(B", "テスト"),
    ],
)
def test_8bit_headers_use_the_declared_charset(
    content_type: str, subject: bytes, expected: str
) -> None:
    raw = mail(
        b"Subject: " + subject, b"From: " + subject + b" <a@x>", f"Content-Type: {content_type}"
    )
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.from_name) == (expected, expected)


def test_8bit_headers_of_a_multipart_use_its_text_part_charset() -> None:
    body = multipart("mixed", part("Content-Type: text/plain; charset=windows-1251", body=CP1251))
    raw = mail(b"Subject: " + CP1251, "Content-Type: multipart/mixed; boundary=b", body=body)
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.text) == ("Привет", "Привет")


@pytest.mark.parametrize(
    ("content_type", "html", "text"),
    [
        ("text/html", b'<meta charset="koi8-r"><p>' + KOI8 + b"</p>", "Привет"),
        ("text/html", b"<META CHARSET=KOI8-R><p>" + KOI8, "Привет"),
        (
            "text/html",
            b'<html><head><meta http-equiv="Content-Type"'
            b' content="text/html; charset=windows-1251">'
            b"</head><body>" + CP1251 + b"</body></html>",
            "Привет",
        ),
        # The MIME charset wins over the meta tag.
        ("text/html; charset=utf-8", b'<meta charset="koi8-r">' + "Привет".encode(), "Привет"),
        # An unknown MIME label does not count as a charset.
        ("text/html; charset=x-bogus", b'<meta charset="koi8-r">' + KOI8, "Привет"),
        # Only the first 1024 bytes are looked at.
        (
            "text/html",
            b"<!--" + b"x" * 1100 + b'--><meta charset="koi8-r">' + KOI8,
            KOI8.decode("cp1252"),
        ),
        # A meta tag read as ASCII cannot mean UTF-16: it means UTF-8.
        ("text/html", b'<meta charset="utf-16"><p>caf\xc3\xa9</p>', "café"),
    ],
)
def test_html_meta_charset(content_type: str, html: bytes, text: str) -> None:
    parsed = parse_message(mail("Subject: s", f"Content-Type: {content_type}", body=html))
    assert parsed.text == text
    assert parsed.html is not None and text in parsed.html


@pytest.mark.parametrize(
    ("encoding", "body", "text"),
    [
        (" Base64 ", b"Y2Fmw6k=", "café"),
        ("BASE64", b"Y2Fmw6k=", "café"),
        ('"base64"', b"Y2Fmw6k=", "café"),
        ("QUOTED-PRINTABLE", b"caf=C3=A9", "café"),
        ("\tQuoted-Printable  ", b"caf=C3=A9=\r\n!", "café!"),
        ("base64", b"SGVsbG8gd29ybG", "Hello worl"),  # truncated
        ("base64", b"SGVsbG8gd29ybGQ", "Hello world"),  # padding missing
        ("base64", b"SGVsbG8gd29ybGQ====", "Hello world"),  # too much padding
        ("base64", b"SGVsbG8=IHdvcmxk", "Hello world"),  # padded blocks glued together
        ("base64", b"SGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n", "Hello world"),
        ("base64", b"SGVsb G8g d29y bGQ*", "Hello world"),  # stray characters
    ],
)
def test_transfer_encodings(encoding: str, body: bytes, text: str) -> None:
    headers = ("Subject: s", "Content-Type: text/plain; charset=utf-8")
    raw = mail(*headers, f"Content-Transfer-Encoding: {encoding}", body=body)
    assert parse_message(raw).text == text


def test_truncated_base64_attachment_keeps_what_decodes() -> None:
    body = multipart(
        "mixed",
        part("Content-Type: text/plain", body=b"see attached"),
        part("Content-Type: application/pdf", "Content-Transfer-Encoding: base64",
             body=b"SGVsbG8gd29ybG"),
    )  # fmt: skip
    raw = mail("Subject: s", "Content-Type: multipart/mixed; boundary=b", body=body)
    (attachment,) = parse_message(raw).attachments
    assert (attachment.data, attachment.size) == (b"Hello worl", 10)


@pytest.mark.parametrize(
    ("raw", "subject", "sender", "text"),
    [
        (b" Subject: s\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"\tSubject: s\r\n folded\r\nFrom: a@x\r\n\r\nbody", "s folded", "a@x", "body"),
        (b"Subject: s\r\nthis is garbage\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"Subject: s\r\ngarbage\r\n continued\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"Subject: s\r\nS\xfcbject: no\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"Subject: s\r\n>From a@x Mon\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (
            b"From a@x Mon Jan  1 00:00:00 2024\r\nSubject: s\r\nFrom: a@x\r\n\r\nbody",
            "s",
            "a@x",
            "body",
        ),
        (b"\r\n\r\nSubject: s\r\nFrom: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"Subject : s\r\nFrom\t: a@x\r\n\r\nbody", "s", "a@x", "body"),
        (b"Subject: s\rFrom: a@x\r\rbody", "s", "a@x", "body"),
        (b"Subject: s\nFrom: a@x\n\nbody\n", "s", "a@x", "body\n"),
        # No empty line: the first line that is not a header starts the body.
        (b"Subject: s\r\nFrom: a@x\r\nHello there\r\n", "s", "a@x", "Hello there\n"),
        # An empty line after the first paragraph: the paragraph is body, not garbage.
        (b"Subject: s\r\nFrom: a@x\r\nHello\r\n\r\nWorld", "s", "a@x", "Hello\n\nWorld"),
    ],
)
def test_broken_header_sections_keep_their_headers(
    raw: bytes, subject: str, sender: str, text: str
) -> None:
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.from_address, parsed.text) == (subject, sender, text)


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("Doe, John <j@x>", [("Doe, John", "j@x")]),
        ("Doe, John <a@x>, Roe, Jane <b@x>", [("Doe, John", "a@x"), ("Roe, Jane", "b@x")]),
        ("Doe, John Q. <j@x>", [("Doe, John Q.", "j@x")]),
        ('"Doe, John" <j@x>, Roe, Jane <k@x>', [("Doe, John", "j@x"), ("Roe, Jane", "k@x")]),
        ("a@x, b@y", [("", "a@x"), ("", "b@y")]),
        ("a@x,b@y,,", [("", "a@x"), ("", "b@y")]),
        ('"Quoted \\"Name\\"" <q@x>', [('Quoted "Name"', "q@x")]),
        ("bob@x (Bob Smith)", [("Bob Smith", "bob@x")]),
        ("Bob (work) <bob@x>", [("Bob", "bob@x")]),
        ("Team: a@x, Doe, John <j@x>;, c@z", [("", "a@x"), ("Doe, John", "j@x"), ("", "c@z")]),
        ("undisclosed-recipients:;", []),
        ("<a@x>", [("", "a@x")]),
        ("<>", []),
        ("Name<Name@EXAMPLE.com>", [("Name", "name@example.com")]),
        ("<@relay.example:n@x>", [("", "n@x")]),
        ("=?utf-8?q?J=C3=BCrgen?= <j@x>", [("Jürgen", "j@x")]),
        ('"=?utf-8?q?J=C3=BCrgen?=" <j@x>', [("Jürgen", "j@x")]),
        ("'Single Quoted' <s@x>", [("'Single Quoted'", "s@x")]),
    ],
)
def test_address_lists(to: str, expected: list[tuple[str, str]]) -> None:
    assert parse_message(mail(f"To: {to}")).to == expected


def test_outlook_name_in_from() -> None:
    parsed = parse_message(mail("From: Doe, John <J@X.test>"))
    assert (parsed.from_name, parsed.from_address) == ("Doe, John", "j@x.test")


@pytest.mark.parametrize(
    ("headers", "field", "expected"),
    [
        ([b"Subject: a\x01b\x7fc\x00d"], "subject", "abcd"),
        (["Subject: =?utf-8?q?a=00b=1Bc=C2=9Bd?="], "subject", "abcd"),
        (["Subject: =?utf-8?q?a=09b=0Ac?="], "subject", "a b c"),
        ([b'From: "Ev\x07il\x1b" <e@x>'], "from_name", "Evil"),
        (["From: =?utf-8?q?Ev=00il=C2=80?= <e@x>"], "from_name", "Evil"),
        ([b'Content-Disposition: attachment; filename="a\x01b.pdf"'], "filename", "ab.pdf"),
        (
            ["Content-Disposition: attachment; filename*=utf-8''a%00%1Fb%C2%9F.pdf"],
            "filename",
            "ab.pdf",
        ),
        # Bidirectional overrides would let "invoice\u202efdp.exe" pass for a PDF.
        (
            ["Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe"],
            "filename",
            "invoicefdp.exe",
        ),
    ],
)
def test_control_characters_are_removed(
    headers: list[str | bytes], field: str, expected: str
) -> None:
    parsed = parse_message(mail(*headers))
    value = parsed.attachments[0].filename if field == "filename" else getattr(parsed, field)
    assert value == expected


FORWARDED = part(
    "Content-Type: message/rfc822",
    body=mail("Subject: inner", "Content-Type: text/plain", body=b"the forwarded text"),
)
IMAGE = part(
    "Content-Type: image/png", "Content-ID: <logo@x>", "Content-Transfer-Encoding: base64",
    body=b"iVBORw0KGgo=",
)  # fmt: skip
PLAIN = part("Content-Type: text/plain", body=b"the real text")
HTML = part("Content-Type: text/html", body=b"<p>the <b>real</b> html</p>")


def nest(kind: str, *parts: bytes, boundary: str) -> bytes:
    return part(
        f'Content-Type: multipart/{kind}; boundary="{boundary}"',
        body=multipart(kind, *parts, boundary=boundary),
    )


@pytest.mark.parametrize(
    ("root", "text", "html", "files"),
    [
        (
            nest("mixed", nest("related", nest("alternative", PLAIN, HTML, boundary="a"), IMAGE,
                 boundary="r"), boundary="m"),
            "the real text", True, ["image/png"],
        ),
        (nest("mixed", FORWARDED, PLAIN, boundary="m"), "the real text", False, ["message/rfc822"]),
        (nest("mixed", FORWARDED, HTML, boundary="m"), "the real html", True, ["message/rfc822"]),
        (nest("mixed", FORWARDED, boundary="m"), "", False, ["message/rfc822"]),
        (
            nest("alternative", PLAIN, nest("related", HTML, IMAGE, boundary="r"), boundary="a"),
            "the real text", True, ["image/png"],
        ),
        (
            part('Content-Type: multipart/related; boundary="r"; start="<root@x>"',
                 body=multipart("related", IMAGE, part("Content-ID: <root@x>",
                                "Content-Type: text/plain", body=b"started here"), boundary="r")),
            "started here", False, ["image/png"],
        ),
        (
            nest("mixed", part("Content-Type: text/plain", "Content-Disposition: attachment",
                               body=b"a file"), HTML, boundary="m"),
            "the real html", True, ["text/plain"],
        ),
        (
            nest("mixed", HTML, part('Content-Type: text/plain; name="notes.txt"', body=b"notes"),
                 boundary="m"),
            "the real html", True, ["text/plain"],
        ),
        (
            nest("report", part("Content-Type: text/plain", body=b"could not deliver"),
                 part("Content-Type: message/delivery-status", body=b"Status: 5.0.0"),
                 FORWARDED, boundary="m"),
            "could not deliver", False, ["message/delivery-status", "message/rfc822"],
        ),
        (
            nest("digest", part(body=b"Subject: one\r\n\r\nfirst"),
                 part(body=b"Subject: two\r\n\r\nsecond"), boundary="d"),
            "", False, ["message/rfc822", "message/rfc822"],
        ),
    ],
)  # fmt: skip
def test_the_text_body_is_the_outer_message_own(
    root: bytes, text: str, html: bool, files: list[str]
) -> None:
    parsed = parse_message(b"Subject: s\r\n" + root)
    assert parsed.text == text
    assert (parsed.html is not None) is html
    assert [a.content_type for a in parsed.attachments] == files
    assert "forwarded" not in parsed.text


def test_deep_but_allowed_nesting_finds_its_text() -> None:
    body = PLAIN
    for level in range(60):
        body = nest("mixed", body, boundary=f"level{level}")
    parsed: ParsedMessage = parse_message(b"Subject: deep\r\n" + body)
    assert parsed.text == "the real text"
