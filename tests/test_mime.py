"""parse_message on real-looking mail: well-formed, encoded, and broken in the usual ways."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.mime import (
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    MAX_PARTS,
    Attachment,
    MalformedMessage,
    ParsedMessage,
    has_reply_prefix,
    html_to_text,
    normalize_subject,
    parse_message,
)


def mail(headers: str, body: bytes = b"Hello.\r\n") -> bytes:
    """CRLF headers (ASCII source text) plus a body given as bytes."""
    head = "\r\n".join(line for line in headers.strip().splitlines())
    return head.encode() + b"\r\n\r\n" + body


BASIC = """
From: "Ana Souza" <Ana.Souza@Example.COM>
To: Support <support@acme.test>, bob@ACME.test
Cc: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@acme.test>
Bcc: hidden@acme.test
Reply-To: replies@example.com
Subject: Invoice 42
Date: Tue, 01 Jul 2025 10:00:00 +0200
Message-ID: <invoice-42@example.com>
"""

ALTERNATIVE_WITH_ATTACHMENTS = mail(
    """
From: Ana <ana@example.com>
To: support@acme.test
Subject: Report
Date: Wed, 02 Jul 2025 08:30:00 +0000
Message-ID: <report@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"
""",
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
    b"--alt\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Caf=C3=A9 report attached.=0D=0ASee=20you=\r\n soon.\r\n"
    b"--alt\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<html><body><p>Caf\xc3\xa9 <b>report</b> attached.</p></body></html>\r\n"
    b"--alt--\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="report.pdf"\r\n'
    b'Content-Disposition: attachment; filename="report.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    b"JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n"
    b"--outer\r\n"
    b"Content-Type: image/png\r\n"
    b"Content-Disposition: inline; filename*=utf-8''gr%C3%A1fico.png\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    b"iVBORw0KGgo=\r\n"
    b"--outer\r\n"
    b"Content-Type: message/rfc822\r\n\r\n"
    b"Subject: forwarded\r\n\r\ninner body\r\n"
    b"--outer--\r\n",
)


def test_headers_and_addresses() -> None:
    parsed = parse_message(mail(BASIC))
    assert parsed.message_id == "<invoice-42@example.com>"
    assert not parsed.message_id_is_synthetic
    assert (parsed.from_name, parsed.from_address) == ("Ana Souza", "ana.souza@example.com")
    assert parsed.to == [("Support", "support@acme.test"), ("", "bob@acme.test")]
    assert parsed.cc == [("Jürgen Müller", "jm@acme.test")]
    assert parsed.bcc == [("", "hidden@acme.test")]
    assert parsed.reply_to == [("", "replies@example.com")]
    assert parsed.date == 1_751_356_800_000
    assert parsed.subject == parsed.normalized_subject.title() == "Invoice 42"
    assert (parsed.text, parsed.preview) == ("Hello.\n", "Hello.")
    assert parsed.html is None
    assert parsed.attachments == []
    assert parsed.size == len(mail(BASIC))
    assert parsed.raw_sha256 == hashlib.sha256(mail(BASIC)).hexdigest()


def test_multipart_alternative_with_attachments() -> None:
    parsed = parse_message(ALTERNATIVE_WITH_ATTACHMENTS)
    assert parsed.text == "Café report attached.\nSee you soon."
    assert parsed.html is not None and "<b>report</b>" in parsed.html
    assert parsed.preview == "Café report attached. See you soon."
    forwarded = b"Subject: forwarded\r\n\r\ninner body"  # as found, not re-serialised
    assert parsed.attachments == [
        Attachment(
            "report.pdf",
            "application/pdf",
            19,
            b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n",
            None,
            False,
        ),
        Attachment("gráfico.png", "image/png", 8, b"\x89PNG\r\n\x1a\n", None, True),
        Attachment("forwarded.eml", "message/rfc822", len(forwarded), forwarded, None, False),
    ]


def test_html_only_mail_gets_text_from_its_html() -> None:
    raw = mail(
        "Subject: hi\nContent-Type: text/html; charset=utf-8",
        b"<html><head><style>p{color:red}</style><title>T</title></head><body>"
        b"<h1>Welcome</h1><p>Tom &amp; Jerry&nbsp;say<br>hi</p><script>alert(1)</script>"
        b"</body></html>",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Welcome\n\nTom & Jerry say\nhi"
    assert parsed.html is not None and parsed.html.startswith("<html>")
    assert "alert" not in parsed.text and "color" not in parsed.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?UTF-8?B?w4lkaXRpb24gc3DDqWNpYWxlIOKCrA==?=", "Édition spéciale €"),
        ("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln"),
        ("=?ISO-8859-1?Q?R=E9union_d=E9cal=E9e?=", "Réunion décalée"),
        ("=?iso-8859-1?b?zHRhbGlh?=", "Ìtalia"),
        ("Re: =?utf-8?q?caf=C3=A9?=\r\n =?utf-8?q?_cr=C3=A8me?=", "Re: café crème"),
        ("  spaced   out  ", "spaced out"),
        ("=?x-unknown?q?abc?= tail", "abc tail"),
    ],
)
def test_encoded_subjects(header: str, expected: str) -> None:
    assert parse_message(mail(f"Subject: {header}")).subject == expected


def test_raw_utf8_in_headers_is_read_as_utf8() -> None:
    raw = "Subject: déjà vu\r\nFrom: Zoë <ZOE@example.com>\r\n\r\nx".encode()
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.from_name, parsed.from_address) == (
        "déjà vu",
        "Zoë",
        "zoe@example.com",
    )


@pytest.mark.parametrize(
    ("content_headers", "body", "expected"),
    [
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            b"U2Now7ZuZW4gR3J1w59cblplaWxlIDI=\r\n",
            "Schönen Gruß\\nZeile 2",
        ),
        (
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
            "quoted-printable",
            b"Ol=E1, tudo bem? =\r\nSim.\r\n",
            "Olá, tudo bem? Sim.\n",
        ),
        ("Content-Type: text/plain; charset=windows-1252", b"\x93quoted\x94\r\n", "“quoted”\n"),
        # A charset Python does not know: the bytes are tried as UTF-8, then Windows-1252.
        ("Content-Type: text/plain; charset=x-bogus", b"caf\xc3\xa9", "café"),
        ("Content-Type: text/plain; charset=x-bogus", b"caf\xe9", "café"),
        # No charset at all, 8-bit bytes anyway.
        ("Content-Type: text/plain", b"na\xc3\xafve", "naïve"),
        ("", b"na\xefve", "naïve"),
        # A charset that lies: declared ASCII, sent UTF-8.
        ("Content-Type: text/plain; charset=us-ascii", b"\xe2\x82\xac 5", "€ 5"),
        # Not a text encoding at all.
        ("Content-Type: text/plain; charset=base64", b"plain", "plain"),
        # Broken transfer encodings: what can be read is kept.
        ("Content-Transfer-Encoding: base64", b"SGVsbG8gd29ybGQ!!!*\r\n", "Hello world"),
        ("Content-Transfer-Encoding: x-uuencode-ish", b"as is\r\n", "as is\n"),
        ("Content-Transfer-Encoding: quoted-printable", b"bad =ZZ escape=", "bad =ZZ escape"),
    ],
)
def test_bodies_and_charsets(content_headers: str, body: bytes, expected: str) -> None:
    parsed = parse_message(mail(f"Subject: body\n{content_headers}", body))
    assert parsed.text == expected
    assert parsed.text.encode("utf-8")  # no lone surrogates survive


def test_missing_message_id_gets_a_stable_synthetic_id() -> None:
    raw = mail("From: a@example.com\nSubject: no id")
    first, second = parse_message(raw), parse_message(raw)
    digest = hashlib.sha256(raw).hexdigest()
    assert first.message_id == second.message_id == f"<{digest[:32]}@tandem.invalid>"
    assert first.message_id_is_synthetic
    assert parse_message(raw + b"more").message_id != first.message_id


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Message-ID:   <abc@example.com>   ", "<abc@example.com>"),
        ("Message-ID:\r\n <folded@example.com>", "<folded@example.com>"),
        ("Message-Id: bare@example.com", "<bare@example.com>"),
        ("MESSAGE-ID: <first@x> <second@x>", "<first@x>"),
        ("Message-ID: < spaced @x>", "<spaced@x>"),
    ],
)
def test_message_id_normalization(header: str, expected: str) -> None:
    assert parse_message(mail(f"Subject: s\n{header}")).message_id == expected


@pytest.mark.parametrize("header", ["Message-ID: <>", "Message-ID:", "Message-ID: no id here"])
def test_unusable_message_id_is_replaced_by_a_synthetic_one(header: str) -> None:
    assert parse_message(mail(f"Subject: s\n{header}")).message_id_is_synthetic


@pytest.mark.parametrize(
    ("headers", "in_reply_to", "references"),
    [
        ("In-Reply-To: <p@x>\nReferences: <a@x> <p@x>", "<p@x>", ["<a@x>", "<p@x>"]),
        (
            "References: <a@x>\r\n\t<b@x>\r\n  <c@x> garbage (comment) <b@x>",
            None,
            ["<a@x>", "<b@x>", "<c@x>"],
        ),
        ("In-Reply-To: Your message of Monday <old@x> (Ana)", "<old@x>", []),
        ("In-Reply-To: <one@x> <two@x>\nReferences: no ids at all", "<one@x>", []),
        ("References: <broken-across\r\n @x>", None, ["<broken-across@x>"]),
        ("In-Reply-To: \nReferences: ", None, []),
    ],
)
def test_thread_headers(headers: str, in_reply_to: str | None, references: list[str]) -> None:
    parsed = parse_message(mail(f"Subject: s\n{headers}"))
    assert (parsed.in_reply_to, parsed.references) == (in_reply_to, references)


@pytest.mark.parametrize(
    ("subject", "normalized", "is_reply"),
    [
        ("Re: Hello", "hello", True),
        ("RE: re: Re:Hello", "hello", True),
        ("Fwd: FW: fw: Hello", "hello", True),
        ("AW: SV: TR: WG: Hello", "hello", True),
        ("Re[3]: Hello", "hello", True),
        ("[tandem-dev] Re: [tandem-dev] Hello   World", "hello world", True),
        ("[URGENT] Server down", "server down", False),
        ("Hello", "hello", False),
        ("Re:", "", True),
        ("Regarding: the plan", "regarding: the plan", False),
        ("Réunion", "réunion", False),
        ("STRASSE", "strasse", False),
        ("", "", False),
    ],
)
def test_subject_normalization(subject: str, normalized: str, is_reply: bool) -> None:
    assert normalize_subject(subject) == normalized
    assert has_reply_prefix(subject) is is_reply


@pytest.mark.parametrize(
    "date",
    [None, "yesterday", "Tue, 99 Foo 2025 99:99:99 +9999", "Mon, 1 Jan 99999 00:00:00 +0000"],
)
def test_missing_or_unparseable_date_is_none(date: str | None) -> None:
    header = f"\nDate: {date}" if date is not None else ""
    assert parse_message(mail(f"Subject: s{header}")).date is None


def test_date_without_zone_is_read_as_utc() -> None:
    parsed = parse_message(mail("Subject: s\nDate: Tue, 01 Jul 2025 08:00:00 -0000"))
    assert parsed.date == 1_751_356_800_000


def test_preview_is_collapsed_and_short() -> None:
    body = b"  Line one.\r\n\r\n\tLine two.  " + b"word " * 200
    parsed = parse_message(mail("Subject: s", body))
    assert parsed.preview.startswith("Line one. Line two. word word")
    assert len(parsed.preview) <= 200


@pytest.mark.parametrize(
    "raw",
    [
        mail("Subject: " + "x" * 200_000),
        mail("Subject: s\nReferences: " + " ".join(f"<r{i}@x>" for i in range(20_000))),
        mail('Subject: s\nTo: <<<@@>>>, ,,, "unterminated <a@b'),
        mail("Subject: s\nFrom: \nTo:\nDate:\nContent-Type:"),
        mail("Subject: =?utf-8?b?broken base64?= =?utf-8?q?=FF=FE?="),
        b"Subject: s\r\nX-Binary: \x00\x01\xff\r\n\r\n\x00\xff\xfe body",
        b"From sender@example.com Mon Jan  1 00:00:00 2024\nSubject: with From_ line\n\nbody",
        b"Subject: headers only, no body",
    ],
)
def test_absurd_input_still_parses(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMessage)
    assert _all_text(parsed).encode("utf-8")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b"\r\n\r\nbody without headers", "no headers found"),
        (b"Just some text, not a mail.\n", "no headers found"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3", "no headers found"),
    ],
)
def test_not_an_email_raises(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedMessage, match=problem):
        parse_message(raw)


@pytest.mark.parametrize(
    "content_type", ["multipart/mixed; boundary=never", "multipart/alternative"]
)
def test_multipart_without_a_usable_boundary_is_read_as_text(content_type: str) -> None:
    parsed = parse_message(mail(f"Subject: s\nContent-Type: {content_type}", b"no parts\r\n"))
    assert (parsed.text, parsed.attachments) == ("no parts\n", [])


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("unclosed <b>bold <i>and", "unclosed bold and"),
        ("<![if !supportLists]>x<![endif]>", "x"),
        ("<p>kept</p><![bogus[ lost", "kept"),
        ("<div>&lt;tag&gt; &#8364; &euro;</div>", "<tag> € €"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_parse_never_raises_after_a_valid_header_line(tail: bytes) -> None:
    parsed = parse_message(b"Subject: x\r\n" + tail)
    assert parsed.size == len(tail) + 12
    assert _all_text(parsed).encode("utf-8")


def _all_text(parsed: ParsedMessage) -> str:
    addresses = [*parsed.to, *parsed.cc, *parsed.bcc, *parsed.reply_to]
    names = [a.filename or "" for a in parsed.attachments]
    return " ".join(
        [
            parsed.message_id,
            parsed.subject,
            parsed.normalized_subject,
            parsed.from_address,
            parsed.from_name,
            parsed.text,
            parsed.html or "",
            parsed.preview,
            *parsed.references,
            *(f"{n} {a}" for n, a in addresses),
            *names,
        ]
    )


# --- Attachments: data, Content-ID, inline -------------------------------------------------


def _multipart(*parts: bytes, boundary: bytes = b"b") -> bytes:
    inner = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return inner + b"--" + boundary + b"--\r\n"


RELATED = mail(
    """
Subject: newsletter
Content-Type: multipart/related; boundary="b"
""",
    _multipart(
        b'Content-Type: text/html\r\n\r\n<img src="cid:logo%40x"><img src="CID:chart@x">',
        b"Content-Type: image/png\r\nContent-ID: <logo@x>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=",
        b"Content-Type: image/gif\r\nContent-ID:   <Chart@X>  \r\n\r\nGIF89a",
        b"Content-Type: image/jpeg\r\nContent-ID: unbracketed@x\r\n\r\nJFIF",
        b"Content-Type: application/pdf\r\nContent-Disposition: INLINE\r\n\r\n%PDF",
    ),
)


def test_attachments_carry_data_content_id_and_inline() -> None:
    assert parse_message(RELATED).attachments == [
        Attachment(None, "image/png", 8, b"\x89PNG\r\n\x1a\n", "logo@x", True),
        Attachment(None, "image/gif", 6, b"GIF89a", "Chart@X", True),
        Attachment(None, "image/jpeg", 4, b"JFIF", "unbracketed@x", False),
        Attachment(None, "application/pdf", 4, b"%PDF", None, True),
    ]


INNER_WITH_PARTS = b"From: a@x\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n" + _multipart(
    b"Content-Type: text/plain\r\n\r\ninner text",
    b"Content-Type: image/png\r\n\r\nPNG",
    boundary=b"in",
)


@pytest.mark.parametrize(
    ("part_headers", "inner", "filename"),
    [
        ("", b"Subject: Quarterly report\r\n\r\nbody", "Quarterly report.eml"),
        ('; name="given.eml"', b"Subject: ignored\r\n\r\nbody", "given.eml"),
        ("", b"Subject: =?utf-8?q?r=C3=A9sum=C3=A9?=\r\n\r\nbody", "résumé.eml"),
        ("", INNER_WITH_PARTS, None),  # no subject; its own parts are not listed
    ],
)
def test_attached_message_is_one_named_attachment(
    part_headers: str, inner: bytes, filename: str | None
) -> None:
    raw = mail(
        "Subject: fwd\nContent-Type: multipart/mixed; boundary=b",
        _multipart(
            b"Content-Type: text/plain\r\n\r\nsee below",
            b"Content-Type: message/rfc822" + part_headers.encode() + b"\r\n\r\n" + inner,
        ),
    )
    parsed = parse_message(raw)
    assert parsed.text == "see below"
    assert parsed.attachments == [
        Attachment(filename, "message/rfc822", len(inner), inner, None, False)
    ]


# --- Limits ------------------------------------------------------------------------------------


def _nested_multipart(levels: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(levels)
    )
    tail = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(levels)))
    return b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\ninner" + tail


def _nested_messages(levels: int) -> bytes:
    return (
        b"Subject: deep\r\n"
        + b"Content-Type: message/rfc822\r\n\r\n" * levels
        + b"Subject: bottom\r\n\r\nbody"
    )


def _nested_mixed(levels: int) -> bytes:
    raw = b"Subject: bottom\r\n\r\nbody"
    for level in range(levels):
        if level % 2:
            raw = b"Content-Type: message/rfc822\r\n\r\n" + raw
        else:
            raw = b"Content-Type: multipart/mixed; boundary=m%d\r\n\r\n--m%d\r\n%s\r\n--m%d--" % (
                level, level, raw, level,
            )  # fmt: skip
    return b"Subject: deep\r\n" + raw


@pytest.mark.parametrize("nested", [_nested_multipart, _nested_messages, _nested_mixed])
def test_1200_nested_levels_are_rejected_fast(nested: Callable[[int], bytes]) -> None:
    raw = nested(1_200)
    started = time.perf_counter()
    with pytest.raises(MalformedMessage, match="MIME nesting deeper than 100 levels"):
        parse_message(raw)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("nested", [_nested_multipart, _nested_messages, _nested_mixed])
def test_nesting_up_to_the_limit_parses(nested: Callable[[int], bytes]) -> None:
    assert parse_message(nested(MAX_DEPTH)).subject == "deep"
    with pytest.raises(MalformedMessage, match="nesting"):
        parse_message(nested(MAX_DEPTH + 1))


def _parts(count: int) -> bytes:
    return mail(
        "Subject: many\nContent-Type: multipart/mixed; boundary=b",
        _multipart(
            *[b"Content-Type: application/octet-stream\r\n\r\n%d" % i for i in range(count)]
        ),
    )


def test_part_count_limit() -> None:
    assert len(parse_message(_parts(MAX_PARTS)).attachments) == MAX_PARTS
    with pytest.raises(MalformedMessage, match=f"more than {MAX_PARTS} MIME parts"):
        parse_message(_parts(MAX_PARTS + 1))
    started = time.perf_counter()
    with pytest.raises(MalformedMessage, match="MIME parts"):
        parse_message(_parts(50_000))
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: " + b"x" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\nbody",
        b"Subject: s\r\n" + b"X-Filler: abcdefgh\r\n" * (MAX_HEADER_BYTES // 20 + 10) + b"\r\nb",
        b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        + b"X-Part: "
        + b"y" * (MAX_HEADER_BYTES + 1)
        + b"\r\n\r\npart\r\n--b--",
    ],
)
def test_header_section_over_the_limit_is_rejected(raw: bytes) -> None:
    with pytest.raises(MalformedMessage, match="header section over 1024 KiB"):
        parse_message(raw)


def test_header_section_just_under_the_limit_parses() -> None:
    raw = b"Subject: s\r\nX-Filler: " + b"z" * (MAX_HEADER_BYTES - 100) + b"\r\n\r\nbody"
    assert parse_message(raw).text == "body"


# --- Dates --------------------------------------------------------------------------------------

NOW = 1_751_356_800_000  # 2025-07-01 08:00 UTC


@pytest.mark.parametrize(
    ("date", "now", "expected"),
    [
        ("Tue, 01 Jul 2025 10:00:00 +0200", NOW, NOW),
        ("Thu, 03 Jul 2025 07:59:00 +0000", NOW, NOW + 2 * 86_400_000 - 60_000),
        ("Thu, 03 Jul 2025 08:01:00 +0000", NOW, None),  # more than two days ahead
        ("Thu, 03 Jul 2025 08:01:00 +0000", None, NOW + 2 * 86_400_000 + 60_000),
        ("Tue, 01 Jan 1980 00:00:00 +0000", NOW, 315_532_800_000),
        ("Mon, 31 Dec 1979 23:59:59 +0000", NOW, None),  # before 1980
        ("Thu, 01 Jan 1970 00:00:00 +0000", None, None),
        ("2025-07-01T08:00:00Z", NOW, NOW),
    ],
)
def test_date_plausibility(date: str, now: int | None, expected: int | None) -> None:
    assert parse_message(mail(f"Subject: s\nDate: {date}"), now=now).date == expected


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (
            "Received: from b.example by c.example; Tue, 01 Jul 2025 08:00:00 +0000\n"
            "Received: from a.example by b.example; Mon, 30 Jun 2025 08:00:00 +0000",
            NOW,
        ),
        ("Received: from a by b (with; semicolons);\n Tue, 01 Jul 2025 10:00:00 +0200", NOW),
        ("Received: from a by b; Tue, 01 Jul 2099 10:00:00 +0000", None),
        ("Received: from a by b; garbage", None),
        ("Received: from a by b", None),
        ("X-Other: 1", None),
    ],
)
def test_received_date_is_the_topmost(received: str, expected: int | None) -> None:
    assert parse_message(mail(f"Subject: s\n{received}"), now=NOW).received_date == expected


# --- Content fingerprint -----------------------------------------------------------------------

ORIGINAL = (
    b"From: Ana <ana@example.com>\r\nTo: team@acme.test\r\nSubject: Plans\r\n"
    b"Date: Tue, 01 Jul 2025 10:00:00 +0200\r\nMessage-ID: <plans@example.com>\r\n"
    b"MIME-Version: 1.0\r\n\r\nHello team,\r\nFrom now on we meet on Mondays.\r\n"
)


@pytest.mark.parametrize(
    "copy",
    [
        ORIGINAL,
        b"Received: from mx by mbox; Tue, 01 Jul 2025 10:00:05 +0200\r\n"
        b"Delivered-To: bob@acme.test\r\nReturn-Path: <ana@example.com>\r\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com\r\nARC-Seal: i=1\r\n" + ORIGINAL,
        ORIGINAL.replace(b"\r\n", b"\n"),
        ORIGINAL.replace(b"\r\n", b"\r"),
        b"From ana@example.com Tue Jul  1 08:00:00 2025\n"
        + ORIGINAL.replace(b"\r\n", b"\n").replace(b"\nFrom now", b"\n>From now")
        + b"\n",
        ORIGINAL.replace(b"MIME-Version: 1.0\r\n", b"Status: RO\r\nX-Mozilla-Status: 0001\r\n")
        + b"\r\n\r\n",
        ORIGINAL.replace(b"Subject: Plans", b"Subject:   Plans\r\n\t "),
        ORIGINAL.replace(b"Hello team,", b"Hello team,   \t"),
    ],
)
def test_fingerprint_ignores_transport_and_export(copy: bytes) -> None:
    assert parse_message(copy).content_sha256 == parse_message(ORIGINAL).content_sha256


@pytest.mark.parametrize(
    "other",
    [
        ORIGINAL.replace(b"Mondays", b"Tuesdays"),  # same Message-ID, another body
        ORIGINAL.replace(b"Subject: Plans", b"Subject: Plans!"),
        ORIGINAL.replace(b"To: team@acme.test", b"To: other@acme.test"),
        ORIGINAL.replace(b"MIME-Version: 1.0", b"Cc: x@acme.test"),
        ORIGINAL.replace(b"<plans@example.com>", b"<plans2@example.com>"),
        ORIGINAL.replace(b"Hello team,\r\n", b"Hello team,\r\n\r\n"),
    ],
)
def test_fingerprint_changes_with_content(other: bytes) -> None:
    assert parse_message(other).content_sha256 != parse_message(ORIGINAL).content_sha256


# --- Bounces ------------------------------------------------------------------------------------

ORIGINAL_HEADERS = b"From: ana@example.com\r\nSubject: Plans\r\nMessage-ID: <plans@example.com>\r\n"


def _bounce(headers: str, *parts: bytes) -> bytes:
    return mail(headers, _multipart(*parts))


@pytest.mark.parametrize(
    ("raw", "bounce_of"),
    [
        (
            _bounce(
                "From: MAILER-DAEMON@mx.test\nSubject: Undelivered Mail Returned to Sender\n"
                'Content-Type: multipart/report; report-type="delivery-status"; boundary=b',
                b"Content-Type: text/plain\r\n\r\nCould not deliver.",
                b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.1.1",
                b"Content-Type: message/rfc822\r\n\r\n" + ORIGINAL_HEADERS + b"\r\nbody",
            ),
            "<plans@example.com>",
        ),
        (
            _bounce(
                "From: postmaster@mx.test\nSubject: Delivery Status Notification (Failure)\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
                b"Content-Type: text/plain\r\n\r\nFailed.",
                b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.0.0",
                b"Content-Type: text/rfc822-headers\r\n\r\n" + ORIGINAL_HEADERS,
            ),
            "<plans@example.com>",
        ),
        (  # no report, but a daemon returning the original as an attachment
            _bounce(
                "From: Mail Delivery System <MAILER-DAEMON@mx.test>\nSubject: Mail delivery "
                "failed: returning message to sender\nContent-Type: multipart/mixed; boundary=b",
                b"Content-Type: text/plain\r\n\r\nThis message was created automatically.",
                b"Content-Type: message/rfc822\r\n\r\n" + ORIGINAL_HEADERS + b"\r\nbody",
            ),
            "<plans@example.com>",
        ),
        (  # a bounce subject from an ordinary-looking sender
            _bounce(
                "From: Exchange <admin@corp.test>\nSubject: Undeliverable: Plans\n"
                "Content-Type: multipart/mixed; boundary=b",
                b"Content-Type: text/plain\r\n\r\nDelivery has failed.",
                b"Content-Type: message/rfc822\r\n\r\n" + ORIGINAL_HEADERS + b"\r\nbody",
            ),
            "<plans@example.com>",
        ),
        (  # an ordinary forward is not a bounce
            _bounce(
                "From: bob@acme.test\nSubject: Fwd: Plans\n"
                "Content-Type: multipart/mixed; boundary=b",
                b"Content-Type: text/plain\r\n\r\nSee below.",
                b"Content-Type: message/rfc822\r\n\r\n" + ORIGINAL_HEADERS + b"\r\nbody",
            ),
            None,
        ),
        (  # a read receipt is a report, but not of delivery
            _bounce(
                "From: bob@acme.test\nSubject: Read: Plans\nContent-Type: multipart/report; "
                "report-type=disposition-notification; boundary=b",
                b"Content-Type: text/plain\r\n\r\nRead.",
                b"Content-Type: message/disposition-notification\r\n\r\nDisposition: displayed",
                b"Content-Type: text/rfc822-headers\r\n\r\n" + ORIGINAL_HEADERS,
            ),
            None,
        ),
        (  # a bounce without the original: nothing to name
            mail("From: MAILER-DAEMON@mx.test\nSubject: failure notice", b"It failed."),
            None,
        ),
        (  # the original had no Message-ID
            _bounce(
                "From: MAILER-DAEMON@mx.test\nSubject: Returned mail\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
                b"Content-Type: message/delivery-status\r\n\r\nStatus: 5.0.0",
                b"Content-Type: text/rfc822-headers\r\n\r\nSubject: Plans\r\n",
            ),
            None,
        ),
    ],
)
def test_bounce_of(raw: bytes, bounce_of: str | None) -> None:
    parsed = parse_message(raw)
    assert parsed.bounce_of == bounce_of
    assert parsed.message_id != "<plans@example.com>"


# --- Hostile input: only MalformedMessage may escape ---------------------------------------------

HOSTILE = [
    _nested_multipart(5_000),
    _nested_messages(5_000),
    _parts(20_000),
    b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n" * 3_000,
    b"Subject: s\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" + b"\n--ax" * 200_000,
    b"Subject: s\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n--\r\n",
    b'Subject: s\r\nContent-Type: multipart/alternative; boundary=""\r\n\r\n--\r\nx',
    b"Subject: s\r\nContent-Type: multipart/mixed; boundary=" + b"b" * 5000 + b"\r\n\r\nx",
    b"Subject: s\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!",
    b"Subject: s\r\nContent-Type: message/rfc822\r\n\r\n",
    b"Subject: s\r\n\r\n" + bytes(range(256)) * 100,
    b"Subject: s\x00\r\nFrom: \x00 <\x00@\x00>\r\nTo: \xed\xa0\x80 <a@x>\r\n\r\n\x00\xed\xb0\x80",
    b"Subject: =?utf-7?q?+2D3-?= =?utf-16?b?AD0=?= =?x-user-defined?q?=FF?=\r\n\r\nx",
    b"Subject: s\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+2D3-+3gA-",
    b"To: " + b'"' * 100_000 + b"\r\nCc: " + b"(" * 100_000 + b"\r\nBcc: " + b"<" * 100_000,
    b"Subject: s\r\nContent-Type: text/html\r\n\r\n" + b"<div>" * 100_000 + b"<!--" * 1000,
    b"Subject: s\r\nContent-Type: text/html\r\n\r\n" + b"<a " * 100_000,
    b"Subject: s\r\nContent-Disposition: attachment; filename*0*=x; filename*999*=y\r\n\r\nz",
    b"Subject: s\r\nContent-Type: text/plain; charset=" + b"x" * 100_000 + b"\r\n\r\nz",
    b"Subject: s\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\n\xff\x00\r\nend",
    b"Subject: s\r\nReferences: " + b"<" * 200_000 + b"\r\nDate: " + b"9" * 100_000,
    b"Subject: s\r\nReceived: ;;;\r\nDate: Mon, 1 Jan 99999999999 00:00:00 +9999\r\n\r\nx",
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_raises_nothing_but_malformed(raw: bytes) -> None:
    started = time.perf_counter()
    parsed = _parsed_or_reason(raw, NOW)
    if isinstance(parsed, ParsedMessage):
        assert _all_text(parsed).encode("utf-8")
        assert "\x00" not in parsed.text + (parsed.html or "")
    else:
        assert parsed  # the reason shown to admins
    assert time.perf_counter() - started < 3


def _parsed_or_reason(raw: bytes, now: int) -> ParsedMessage | str:
    try:
        return parse_message(raw, now=now)
    except MalformedMessage as exc:
        return str(exc)


_FRAGMENTS = st.sampled_from(
    [
        b"\r\n", b"\n", b"\r", b" ", b"--b\r\n", b"--b--\r\n", b"--b", b"\r\n\r\n", b":", b";",
        b'"', b"<", b">", b"(", b")", b",", b"\x00", b"\xff", b"=?utf-8?b?w6k=?=",
        b"=?utf-8?q?a=C3?=", b"=\r\n", b"begin 644 x\n", b"<meta charset=koi8-r>", b"cid:x",
        b"\x1b$B", b"From ", b"Subject: s\r\n", b"Content-Type: multipart/mixed; boundary=b\r\n",
        b"Content-Type: message/rfc822\r\n", b"Content-Type: text/html\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        b"Content-Type: text/rfc822-headers\r\n", b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n", b"Content-ID: <x>\r\n",
        b"Content-Disposition: attachment; filename*=utf-8''%C3%A9\r\n", b"To: Doe, J <a@x>\r\n",
        b"Received: x; Tue, 01 Jul 2025 10:00:00 +0200\r\n", b"Message-ID: <m@x>\r\n",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS | st.binary(max_size=12), max_size=60), st.integers(0, 2**42))
def test_parse_of_mime_shaped_noise_never_raises(fragments: list[bytes], now: int) -> None:
    parsed = _parsed_or_reason(b"".join(fragments), now)
    if isinstance(parsed, ParsedMessage):
        assert _all_text(parsed).encode("utf-8")
        assert all(a.size == len(a.data) for a in parsed.attachments)
    else:
        assert parsed
