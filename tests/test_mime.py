"""parse_message on real-looking mail: well-formed, encoded, and broken in the usual ways."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.mime import (
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
    assert parsed.attachments == [
        Attachment("report.pdf", "application/pdf", 19),
        Attachment("gráfico.png", "image/png", 8),
        Attachment(None, "message/rfc822", len(b"Subject: forwarded\n\ninner body")),
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
