"""A seeded, realistic mbox for the import benchmark (`bench.app_mail`): customer-support
threads of 1–20 messages between customers and the account, with In-Reply-To and
References (the root and the last nine ancestors, as mail clients trim them), replies
quoting the message before. About half of the replies are the account's own (its Sent
folder). Each message is 2–20 KB before attachments (log-uniform): 70 % text and HTML
alternatives, 22 % text only, 8 % HTML only; 10 % carry a 50–300 KB file (random bytes
behind a PDF, JPEG, PNG or ZIP signature). Text parts are 8bit (55 %), quoted-printable
(30 %) or base64 (15 %); 4 % are in a non-UTF-8 charset (Latin-1, Windows-1252, KOI8-R,
ISO-2022-JP, GB2312) with an encoded-word subject. Received mail carries Received and
DKIM-Signature headers; the mbox is in date order, mboxrd-quoted, LF line endings.

On top: 1 % exact duplicates of an earlier message placed later in the file, and eleven
malformed messages: five that must be rejected (no header section, twice; MIME nested 101
levels deep; 1,001 parts; a header section over 1 MiB) and six the parser reads anyway."""

from __future__ import annotations

import base64
import html
import math
import quopri
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

ADDRESS = "support@bench.test"
START = datetime(2025, 11, 1, tzinfo=UTC).timestamp()
WORDS = """order package delivery refund invoice account password tracking number shipment
customer support team update please thanks could would we you your the a an and or but with
from for about since yesterday today tomorrow week still not yet arrived damaged replacement
return label warehouse courier address billing charge card payment receipt subscription plan
upgrade cancel renewal discount code error page login screen app version issue problem
question answer help check confirm sent received attached photo screenshot colleague manager
urgent soon possible again already""".split()  # noqa: SIM905 (a word list reads better so)
SUBJECTS = ("Order {n} has not arrived", "Invoice {n}: wrong amount", "Cannot log in",
            "Refund for order {n}", "Question about my subscription", "Damaged package {n}",
            "Change of delivery address", "Your quote {n}", "Partnership enquiry")  # fmt: skip
FIRST = ("Carla", "John", "Ana", "Wei", "Olga", "José", "Zoë", "Priya", "Tom", "Fatima", "Jörg")
LAST = ("Customer", "Smith", "García", "Müller", "Ivanova", "Chen", "Okafor", "Dubois", "Tanaka")
DOMAINS = ("example.com", "mail.example.org", "shop.example.net")
FOREIGN = {  # the non-UTF-8 charsets, each with a line it can encode
    "iso-8859-1": "Bonjour, ma commande n'est pas arrivée. Grüße aus München, señor.",
    "windows-1252": "Le total est de 49 € — “urgent”, s’il vous plaît…",
    "koi8-r": "Здравствуйте, мой заказ ещё не пришёл. Пожалуйста, проверьте.",
    "iso-2022-jp": "お世話になっております。注文がまだ届いていません。",
    "gb2312": "您好，我的订单还没有到。请帮忙查一下。",
}
FILES = (("application/pdf", "invoice-{}.pdf", b"%PDF-1.7\n"),
         ("image/jpeg", "photo-{}.jpg", b"\xff\xd8\xff\xe0"),
         ("image/png", "screenshot-{}.png", b"\x89PNG\r\n\x1a\n"),
         ("application/zip", "logs-{}.zip", b"PK\x03\x04"))  # fmt: skip
MAILERS = ("Apple Mail (2.3774)", "Microsoft Outlook 16.0", "Mozilla Thunderbird 128.3", None)
HTML_HEAD = '<html><head><style>p{margin:0}</style></head><body><div dir="ltr">'
QUOTE = '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
OUTLOOK = "<p class=MsoNormal><span style='font-size:11.0pt;font-family:\"Calibri\",sans-serif'>"
Person = tuple[str, str]  # display name, address
Dated = tuple[float, bytes]  # a message and when it was sent


@dataclass(frozen=True)
class Mailbox:
    data: bytes
    messages: int
    threads: int
    duplicates: int = 0  # exact copies of an earlier message, later in the file
    rejects: int = 0  # built to be rejected
    lenient: int = 0  # malformed in ways the parser reads anyway


class _Mails:
    def __init__(self, seed: int) -> None:
        self.seed, self.rng = seed, random.Random(seed)
        rng = self.rng
        self.paragraphs = [
            " ".join(rng.choices(WORDS, k=rng.randint(30, 110))).capitalize() + "."
            for _ in range(400)
        ]
        self.people = [
            (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"c{n}@{rng.choice(DOMAINS)}")
            for n in range(1500)
        ]

    def thread(self, number: int, length: int, at: float, gap_s: float) -> list[Dated]:
        rng, us = self.rng, ("Support", ADDRESS)
        customer = rng.choice(self.people)
        subject = rng.choice(SUBJECTS).format(n=rng.randrange(10_000, 99_999))
        ids: list[str] = []
        out, quote = [], ""
        for i in range(length):
            ours = i > 0 and rng.random() < 0.45  # the account's replies
            sender, recipient = (us, customer) if ours else (customer, us)
            domain = sender[1].partition("@")[2]
            mid = f"<{self.seed}.{number}.{i}.{rng.getrandbits(32):08x}@{domain}>"
            references = ids if len(ids) <= 10 else ids[:1] + ids[-9:]
            head = self._headers(mid, ("Re: " if i else "") + subject, sender, recipient, at)
            raw, quote = self._mail(head, references, quote, sender[0], at, transport=not ours)
            out.append((at, raw))
            ids.append(mid)
            at += rng.expovariate(1 / gap_s)
        return out

    def _headers(self, mid: str, subject: str, sender: Person, to: Person, at: float) -> list[str]:
        rng = self.rng
        zone = timezone(timedelta(minutes=30 * rng.choice((-16, -10, 0, 2, 4, 11, 18))))
        headers = [f"From: {_address(sender)}", f"To: {_address(to)}"]
        if rng.random() < 0.2:
            headers.append(f"Cc: {_address(rng.choice(self.people))}")
        date = format_datetime(datetime.fromtimestamp(at, zone))
        return [*headers, f"Subject: {subject}", f"Date: {date}", f"Message-ID: {mid}"]

    def _mail(self, headers: list[str], references: list[str], quote: str, name: str,
              at: float, transport: bool) -> tuple[bytes, str]:  # fmt: skip
        rng = self.rng
        size = math.exp(rng.uniform(math.log(2_000), math.log(20_000)))
        charset = rng.choice(list(FOREIGN)) if rng.random() < 0.04 else "utf-8"
        shape = rng.random()
        text = self._text(size * (0.4 if shape < 0.7 else 0.9), charset, name, at, quote)
        if shape < 0.7:
            html_part = self._part("text/html", charset, self._html(text))
            body = self._multipart(
                "alternative", [self._part("text/plain", charset, text), html_part]
            )
        elif shape < 0.92:
            body = self._part("text/plain", charset, text)
        else:
            body = self._part("text/html", charset, self._html(text))
        if rng.random() < 0.1:
            body = self._multipart("mixed", [body, self._attachment()])
        if charset != "utf-8":  # the subject starts in the body's charset: an encoded word
            word = base64.b64encode(FOREIGN[charset][:10].encode(charset)).decode()
            headers[-3] = headers[-3].replace("Subject: ", f"Subject: =?{charset}?b?{word}?= ")
        if references:
            headers += [f"In-Reply-To: {references[-1]}", "References: " + "\n ".join(references)]
        mailer = rng.choice(MAILERS)
        headers += ["MIME-Version: 1.0"] + ([f"X-Mailer: {mailer}"] if mailer else [])
        if transport:
            headers = self._transport(headers[0], at) + headers
        return ("\n".join(headers) + "\n").encode() + body, text

    def _transport(self, sender: str, at: float) -> list[str]:
        """Received and DKIM-Signature headers, as the receiving servers leave them."""
        rng = self.rng
        domain = sender.rpartition("@")[2].rstrip(">")
        stamp = format_datetime(datetime.fromtimestamp(at + rng.uniform(1, 30), UTC))
        signature = base64.b64encode(rng.randbytes(256)).decode()
        folded = "\n\t".join(signature[k : k + 70] for k in range(0, len(signature), 70))
        body_hash = base64.b64encode(rng.randbytes(32)).decode()
        return [
            f"Received: from mx{rng.randrange(1, 9)}.{domain} ([198.51.100.{rng.randrange(255)}])"
            f"\n\tby mx.bench.test with ESMTPS id {rng.getrandbits(48):012x}"
            f"\n\tfor <{ADDRESS}>; {stamp}",
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1;"
            f"\n\th=from:to:subject:date:message-id;\n\tbh={body_hash};\n\tb={folded}",
        ]

    def _text(self, size: float, charset: str, name: str, at: float, quote: str) -> str:
        lines = ["Hello,", ""] + ([FOREIGN[charset], ""] if charset != "utf-8" else [])
        while sum(map(len, lines)) < size:
            lines += [self.rng.choice(self.paragraphs), ""]
        lines += ["Best regards,", name]
        if quote:
            when = time.strftime("%a, %d %b %Y at %H:%M", time.gmtime(at - 3600))
            lines += ["", f"On {when}, they wrote:"]
            lines += ["> " + line for line in quote[:1500].splitlines()]
        return "\n".join(lines) + "\n"

    def _html(self, text: str) -> str:
        """Gmail-like (divs, a quote block) or Outlook-like (styled spans) markup."""
        rng = self.rng
        outlook, out = rng.random() < 0.4, [HTML_HEAD]
        for line in filter(None, text.split("\n")):
            escaped = html.escape(line.removeprefix("> "))
            if rng.random() < 0.1:
                link = f"https://track.example.com/o/{rng.getrandbits(40):x}?utm_source=mail"
                escaped += f' <a href="{link}">track it</a>'
            if line.startswith("> "):
                out.append(f"{QUOTE}{escaped}</blockquote>")
            elif outlook:
                out.append(f"{OUTLOOK}{escaped}<o:p></o:p></span></p>")
            else:
                out.append(f"<div>{escaped}</div>")
        out.append('<img src="https://pixel.example.com/o.gif" width="1"></div></body></html>')
        return "\n".join(out) + "\n"

    def _part(self, content_type: str, charset: str, text: str) -> bytes:
        data = text.encode(charset, errors="replace")
        roll = self.rng.random()
        if charset == "iso-2022-jp":
            encoding, payload = "7bit", data
        elif roll < 0.55:
            encoding, payload = "8bit", data
        elif roll < 0.85:
            encoding, payload = "quoted-printable", quopri.encodestring(data)
        else:
            encoding, payload = "base64", base64.encodebytes(data)
        head = f"Content-Type: {content_type}; charset={charset}\n"
        return f"{head}Content-Transfer-Encoding: {encoding}\n\n".encode() + payload

    def _attachment(self) -> bytes:
        rng = self.rng
        content_type, pattern, magic = rng.choice(FILES)
        data = magic + rng.randbytes(rng.randint(50_000, 300_000) - len(magic))
        name = pattern.format(rng.randrange(1000))
        named = f'filename="{name}"' if rng.random() < 0.8 else f"filename*=utf-8''%C3%A9-{name}"
        head = f'Content-Type: {content_type}; name="{name}"\n'
        head += f"Content-Disposition: attachment; {named}\nContent-Transfer-Encoding: base64\n\n"
        return head.encode() + base64.encodebytes(data)

    def _multipart(self, kind: str, parts: list[bytes]) -> bytes:
        boundary = f"=_{self.rng.getrandbits(64):016x}".encode()
        head = b'Content-Type: multipart/%s; boundary="%s"\n\n' % (kind.encode(), boundary)
        inner = b"".join(b"--" + boundary + b"\n" + part + b"\n" for part in parts)
        return head + inner + b"--" + boundary + b"--\n"


def _address(person: Person) -> str:
    name, address = person
    shown = f'"{name}"' if name.isascii() else Header(name, "utf-8").encode()
    return f"{shown} <{address}>"


def _broken(n: int, rest: str) -> bytes:
    head = f"From: Broken {n} <broken{n}@example.net>\nTo: {ADDRESS}\nSubject: broken {n}\n"
    head += f"Date: Mon, 1 Dec 2025 10:00:00 +0000\nMessage-ID: <broken{n}@example.net>\n"
    return (head + rest).encode()


def malformed() -> tuple[list[bytes], list[bytes]]:
    """Mail to be rejected, and mail broken in ways the parser reads anyway."""
    deep = "Content-Type: text/plain\n\ninnermost\n"
    for n in range(101):
        deep = f'Content-Type: multipart/mixed; boundary="n{n}"\n\n--n{n}\n{deep}--n{n}--\n'
    many = "".join(f"--p\nContent-Type: text/plain\n\npart {k}\n" for k in range(1001))
    references = "\n ".join(f"<ref{k}.0123456789abcdef@example.net>" for k in range(30_000))
    alternative = 'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="u"\n\n'
    rejects = [
        b"Thanks for the call today, here are my notes.\nNo headers here at all.\n",
        b"<html><body>Just an HTML fragment saved from a browser</body></html>\n",
        _broken(1, "MIME-Version: 1.0\n" + deep),
        _broken(2, 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="p"\n\n')
        + f"{many}--p--\n".encode(),
        _broken(3, f"References: {references}\n\nA reply with very many references.\n"),
    ]
    lenient = [  # unterminated multipart, bad base64, unknown charset, no boundary
        _broken(4, alternative + "--u\nContent-Type: text/plain\n\nThe text.\n--u\n")
        + b"Content-Type: text/html\n\n<p>cut he",
        _broken(5, "Content-Transfer-Encoding: base64\n\nNot base64 at all!!! ###\n"),
        _broken(6, "Content-Type: text/plain; charset=x-no-such-charset\n\nUnknown charset.\n"),
        _broken(7, "MIME-Version: 1.0\nContent-Type: multipart/alternative\n\nNo boundary.\n"),
        f"From: <undated@example.net>\nTo: {ADDRESS}\nDate: yesterday at noon\n\nNo id.\n".encode(),
        f"From: Zoë <zoe@example.net>\nTo: {ADDRESS}\nSubject: Arrivée abîmée\n\n8-bit.\n".encode(
            "latin-1"
        ),
    ]
    return rejects, lenient


_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def _mbox(raws: list[bytes]) -> bytes:
    """mboxrd: a From_ line before each message, its lines starting ">*From " quoted."""
    stamp = b"From bench@bench.test Mon Dec  1 10:00:00 2025\n"
    return b"".join(stamp + _FROM_LINE.sub(rb">\1", raw) + b"\n" for raw in raws)


def build_mailbox(count: int, seed: int) -> Mailbox:
    """`count` messages in all: threads over 300 days, 1 % duplicates, eleven malformed."""
    mails = _Mails(seed)
    rng = mails.rng
    rejects, lenient = malformed()
    duplicates = round(count / 100)
    unique = count - duplicates - len(rejects) - len(lenient)
    dated: list[Dated] = []
    threads = 0
    while len(dated) < unique:
        length = min(20, unique - len(dated), 1 + int(rng.expovariate(1 / 3)))
        dated += mails.thread(threads, length, START + rng.uniform(0, 300 * 86400), 4 * 3600)
        threads += 1
    raws = [raw for _, raw in sorted(dated, key=lambda pair: pair[0])]
    for _ in range(duplicates):
        source = rng.randrange(len(raws))
        raws.insert(rng.randint(source + 1, len(raws)), raws[source])
    for raw in rejects + lenient:  # never first: an mbox starts with a message
        raws.insert(rng.randint(1, len(raws)), raw)
    return Mailbox(_mbox(raws), len(raws), threads, duplicates, len(rejects), len(lenient))


def build_thread(count: int, seed: int) -> Mailbox:
    """One thread of `count` messages, about an hour apart."""
    dated = _Mails(seed).thread(0, count, START, 3600)
    return Mailbox(_mbox([raw for _, raw in dated]), count, 1)
