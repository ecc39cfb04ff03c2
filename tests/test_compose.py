"""The MIME message Tandem sends, parsed back with the standard library and with our own
parser: threading headers, the text and HTML parts, inline images and attachments, Bcc
kept out of the headers, and bad addresses named before anything is built."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from sync.compose import (
    InvalidAddress,
    Mailbox,
    Outgoing,
    Part,
    build,
    new_message_id,
)
from sync.mime import parse_message

WHEN = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def reply(**changes: object) -> Outgoing:
    fields: dict[str, object] = {
        "message_id": "reply-1@acme.test",
        "sender": Mailbox("support@acme.test", "Acme Support"),
        "to": [Mailbox("carla@example.com", "Carla Customer")],
        "cc": [Mailbox("boss@example.com")],
        "bcc": [Mailbox("archive@acme.test")],
        "subject": "Re: Where is my order? — #1234",
        "text": "Hi Carla,\n\nIt ships today.\n",
        "html": "<p>Hi Carla,</p><p>It ships <strong>today</strong>.</p>",
        "date": WHEN,
        "in_reply_to": "order-2@example.com",
        "references": ["order-1@example.com"],
    }
    fields.update(changes)
    return Outgoing(**fields)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_reply_threads_and_carries_both_parts() -> None:
    raw = build(reply())
    message = parsed(raw)
    assert message["Message-ID"] == "<reply-1@acme.test>"
    assert message["In-Reply-To"] == "<order-2@example.com>"
    assert message["References"] == "<order-1@example.com> <order-2@example.com>"
    assert message["From"] == "Acme Support <support@acme.test>"
    assert message["To"] == "Carla Customer <carla@example.com>"
    assert message["Cc"] == "boss@example.com"
    assert message["Bcc"] is None and b"archive@acme.test" not in raw
    assert message["Subject"] == "Re: Where is my order? — #1234"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None  # line ends are CRLF on the wire
    assert text.get_content().replace("\r\n", "\n") == "Hi Carla,\n\nIt ships today.\n"
    assert html is not None and "<strong>today</strong>" in html.get_content()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    ours = parse_message(raw)  # what our own ingestion will read when it comes back
    assert ours.message_id == "<reply-1@acme.test>"
    assert ours.in_reply_to == "<order-2@example.com>"
    assert ours.references == ["<order-1@example.com>", "<order-2@example.com>"]


def test_the_envelope_holds_every_recipient_once() -> None:
    outgoing = reply(cc=[Mailbox("Carla@Example.com")], bcc=[Mailbox("archive@acme.test")])
    assert outgoing.recipients() == ["carla@example.com", "archive@acme.test"]


def test_inline_images_and_attachments() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    pdf = b"%PDF-1.4 invoice"
    raw = build(
        reply(
            html='<p>Logo: <img src="cid:logo@acme.test"></p>',
            parts=[
                Part("logo.png", "image/png", png, content_id="logo@acme.test"),
                Part("invoice 1234.pdf", "application/pdf", pdf),
            ],
        )
    )
    message = parsed(raw)
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    related = alternative.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert 'src="cid:logo@acme.test"' in html.get_content()
    assert image["Content-ID"] == "<logo@acme.test>"
    assert image.get_content() == png
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice 1234.pdf"
    assert attachment.get_content() == pdf


def test_the_same_outgoing_builds_the_same_bytes() -> None:
    assert build(reply()) == build(reply())  # retries send exactly what was first sent


def test_message_ids_are_unique_and_in_our_domain() -> None:
    ids = {new_message_id("acme.test") for _ in range(100)}
    assert len(ids) == 100 and all(i.endswith("@acme.test") for i in ids)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": [Mailbox("carla@")]}, "to[0]"),
        ({"to": [Mailbox("ok@example.com"), Mailbox("two words@example.com")]}, "to[1]"),
        ({"cc": [Mailbox("no-at-sign")]}, "cc[0]"),
        ({"bcc": [Mailbox("a@b")]}, "bcc[0]"),
        ({"sender": Mailbox("support@acme")}, "from"),
        ({"to": [Mailbox("x@example.com\r\nBcc: victim@example.com")]}, "to[0]"),
        ({"to": [], "cc": [], "bcc": []}, "to"),
    ],
)
def test_bad_addresses_are_named_before_anything_is_built(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidAddress) as refused:
        build(reply(**changes))
    assert refused.value.field == field
