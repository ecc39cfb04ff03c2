"""Build the MIME message Tandem sends. Pure: data in, bytes out.

The Message-ID is chosen by the caller once, before the first attempt, and stored with the
outbox row, so every retry sends byte-for-byte the same message and a receiving server (or
our own threading) recognises a repeat. Structure:

    multipart/mixed            (only with attached files)
      multipart/alternative
        text/plain
        multipart/related      (only with inline images)
          text/html
          image/* (Content-ID) inline images, referenced as cid:<id> in the HTML
      application/* ...        attached files

Boundaries derive from the Message-ID, so the bytes are the same on every attempt.

Bcc recipients are envelope recipients only: they never appear in the headers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

# One address, as a mail user types it: local@domain, no spaces, one @, a dot in the domain
# (or an IP literal). Deliberately stricter than RFC 5322's quoted forms, which no customer
# types and many servers refuse.
_ADDRESS = re.compile(
    r"^[^\s@<>()\[\],;:\"]+@(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9.:a-fA-F]+\])$"
)
RECIPIENT_FIELDS = ("to", "cc", "bcc")


class InvalidAddress(ValueError):
    """An address that cannot be sent to; `field` names where it was (`to[1]`, `from`)."""

    def __init__(self, field: str, address: str) -> None:
        super().__init__(f"{field}: {address!r} is not an email address")
        self.field = field
        self.address = address


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str = ""


@dataclass(frozen=True)
class Part:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # set: an inline image the HTML shows as cid:<content_id>


@dataclass(frozen=True)
class Outgoing:
    message_id: str  # without the angle brackets
    sender: Mailbox
    to: list[Mailbox]
    subject: str
    text: str
    html: str
    date: datetime
    cc: list[Mailbox] = field(default_factory=list)
    bcc: list[Mailbox] = field(default_factory=list)
    in_reply_to: str | None = None  # a Message-ID, without brackets
    references: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)

    def recipients(self) -> list[str]:
        """Every envelope recipient, each once, in order (To, Cc, Bcc)."""
        seen: dict[str, None] = {}
        for mailbox in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(mailbox.address.lower(), None)
        return list(seen)


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain).strip("<>")


def check_address(address: str, field: str) -> str:
    value = address.strip()
    if not _ADDRESS.match(value) or len(value) > 254:
        raise InvalidAddress(field, address)
    return value


def check_recipients(outgoing: Outgoing) -> None:
    """Every address valid, and at least one recipient; raises naming the first problem."""
    check_address(outgoing.sender.address, "from")
    for name in RECIPIENT_FIELDS:
        for index, mailbox in enumerate(getattr(outgoing, name)):
            check_address(mailbox.address, f"{name}[{index}]")
    if not outgoing.recipients():
        raise InvalidAddress("to", "")


def build(outgoing: Outgoing) -> bytes:
    check_recipients(outgoing)
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = f"<{outgoing.message_id}>"
    message["Date"] = format_datetime(outgoing.date)
    message["From"] = _header(outgoing.sender)
    message["To"] = [_header(m) for m in outgoing.to] if outgoing.to else "undisclosed-recipients:;"
    if outgoing.cc:
        message["Cc"] = [_header(m) for m in outgoing.cc]
    message["Subject"] = outgoing.subject
    if outgoing.in_reply_to:
        message["In-Reply-To"] = f"<{outgoing.in_reply_to}>"
    references = [*outgoing.references]
    if outgoing.in_reply_to and outgoing.in_reply_to not in references:
        references.append(outgoing.in_reply_to)
    if references:
        message["References"] = " ".join(f"<{ref}>" for ref in references)
    message["MIME-Version"] = "1.0"
    message.set_content(outgoing.text, subtype="plain", charset="utf-8")
    message.add_alternative(outgoing.html, subtype="html", charset="utf-8")
    inline = [p for p in outgoing.parts if p.content_id]
    if inline:
        html = message.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        for part in inline:
            maintype, subtype = _split(part.content_type)
            html.add_related(
                part.data, maintype=maintype, subtype=subtype, cid=f"<{part.content_id}>",
                filename=part.filename, disposition="inline",
            )  # fmt: skip
    for part in outgoing.parts:
        if part.content_id is None:
            maintype, subtype = _split(part.content_type)
            message.add_attachment(
                part.data, maintype=maintype, subtype=subtype, filename=part.filename
            )
    seed = hashlib.sha256(outgoing.message_id.encode()).hexdigest()[:24]
    for index, node in enumerate(message.walk()):
        if node.is_multipart():
            node.set_boundary(f"=_tandem_{seed}_{index}")
    return message.as_bytes()


def _header(mailbox: Mailbox) -> Address:
    local, _, domain = mailbox.address.strip().rpartition("@")
    return Address(display_name=mailbox.name, username=local, domain=domain)


def _split(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype.lower(), subtype.lower()
