"""split_mbox on mboxrd and mboxo files, CRLF files, and bytes that are not an mbox."""

from __future__ import annotations

import pytest

from sync.mbox import MalformedMailbox, is_mbox, split_mbox
from sync.mime import parse_message

THREE_MESSAGES = (
    b"From ana@example.com Tue Jul  1 10:00:00 2025\n"
    b"From: ana@example.com\n"
    b"Subject: one\n"
    b"Message-ID: <one@example.com>\n"
    b"\n"
    b"First body.\n"
    b">From the top, as mboxrd escapes it.\n"
    b"\n"
    b"From bob@example.com Tue Jul  1 11:00:00 2025\n"
    b"From: bob@example.com\n"
    b"Subject: Re: one\n"
    b"Message-ID: <two@example.com>\n"
    b"\n"
    b"Bob wrote, quoting:\n"
    b">>From the top, as mboxrd escapes it.\n"
    b"> >From a line that stays as it is\n"
    b"\n"
    b"From MAILER-DAEMON Tue Jul  1 12:00:00 2025\n"
    b"Subject: three\n"
    b"\n"
    b"Last body, no trailing newline."
)


def test_three_messages_mboxrd() -> None:
    messages = split_mbox(THREE_MESSAGES)
    assert messages == [
        b"From: ana@example.com\nSubject: one\nMessage-ID: <one@example.com>\n\n"
        b"First body.\nFrom the top, as mboxrd escapes it.\n",
        b"From: bob@example.com\nSubject: Re: one\nMessage-ID: <two@example.com>\n\n"
        b"Bob wrote, quoting:\n>From the top, as mboxrd escapes it.\n"
        b"> >From a line that stays as it is\n",
        b"Subject: three\n\nLast body, no trailing newline.",
    ]
    assert [parse_message(raw).subject for raw in messages] == ["one", "Re: one", "three"]


def test_crlf_mbox_keeps_crlf_messages() -> None:
    crlf = THREE_MESSAGES.replace(b"\n", b"\r\n")
    messages = split_mbox(crlf)
    assert messages == [raw.replace(b"\n", b"\r\n") for raw in split_mbox(THREE_MESSAGES)]
    assert parse_message(messages[0]).text == "First body.\nFrom the top, as mboxrd escapes it.\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"From x\nSubject: a\n\nbody\n", [b"Subject: a\n\nbody\n"]),
        (b"From x\nSubject: a\n\nbody\n\n", [b"Subject: a\n\nbody\n"]),
        (b"From x\nSubject: a\n\nbody", [b"Subject: a\n\nbody"]),
        # "From" without the space is an ordinary line.
        (b"From x\nSubject: a\n\nFromage\n", [b"Subject: a\n\nFromage\n"]),
        # An empty message between two separators is dropped.
        (
            b"From x\nSubject: a\n\nb\n\nFrom y\n\nFrom z\nSubject: c\n\nd\n",
            [b"Subject: a\n\nb\n", b"Subject: c\n\nd\n"],
        ),
    ],
)
def test_edges(data: bytes, expected: list[bytes]) -> None:
    assert split_mbox(data) == expected


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the input is empty"),
        (b"Subject: a plain mail\n\nbody\n", "must start with 'From '"),
        (b"\nFrom x\nSubject: a\n\n", "must start with 'From '"),
        (b"%PDF-1.4\n\x00\x01", "must start with 'From '"),
        (b"From the desk of the CEO,\nplease read.\n", "the first message has no headers"),
    ],
)
def test_not_an_mbox(data: bytes, problem: str) -> None:
    assert not is_mbox(data)
    with pytest.raises(MalformedMailbox, match=problem):
        split_mbox(data)


def test_is_mbox() -> None:
    assert is_mbox(THREE_MESSAGES)
    assert is_mbox(THREE_MESSAGES.replace(b"\n", b"\r\n"))
