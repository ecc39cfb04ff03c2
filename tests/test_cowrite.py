"""The issue's whole path, as the web client will take it: two people co-write one reply
in headless Tiptap composers (ProseMirror + y-prosemirror over @hocuspocus/provider),
typing into the same paragraph at once, marking words and moving their carets, which each
sees; one attaches a file and an image the other places in the text; one presses Send; the
customer's server receives exactly the merged text, as HTML and plain text, threaded
under the mail it answers, from the alias and with the signature the reply started with,
the file attached and the image inline."""

from __future__ import annotations

import asyncio
import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from tests.fixtures.desk import support_desk
from tests.fixtures.node import NODE_DIR
from tests.fixtures.server import LiveServer, Person
from tests.fixtures.smtp import SmtpFixture
from tests.test_sending import _until

PDF = b"%PDF-1.4 an invoice\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 300
SIGNATURE = "<p><b>{{ user.name }}</b><br>Acme Support</p>"


async def compose(
    node: str, live: LiveServer, draft: str, token: str, steps: list[dict[str, Any]],
    *expect: str, cursor_of: str = "",
) -> dict[str, Any]:  # fmt: skip
    """Run one composer through `steps`; it returns once every `expect` text (and the
    caret of `cursor_of`) has reached it and the server has acknowledged its edits."""
    args = ["--url", live.ws, "--doc", f"draft:{draft}", "--token", token,
            "--steps", json.dumps(steps)]  # fmt: skip
    for text in expect:
        args += ["--expect", text]
    if cursor_of:
        args += ["--expect-cursor", cursor_of]
    process = await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / "composer.mjs"), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 40)
    lines = stdout.decode().strip().splitlines()
    assert lines, f"composer printed nothing; stderr:\n{stderr.decode()}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert result.get("ok"), f"{result}\nstderr:\n{stderr.decode()}"
    return result


TRACKING = "https://track.example/ZX-42"


async def _world(live: LiveServer, smtp: SmtpFixture) -> tuple[Person, Person, str]:
    """alice (owner) and bob share support@acme.test, which sends through `smtp`; alice
    signs as "Alice at Acme" with the team's signature on it; a mail came in; alice
    started a reply. (alice, bob, draft)"""
    desk = await support_desk(live, smtp)
    alice = desk.alice
    async with live.client(alice.token) as http:
        signature = await http.post("/api/signatures", json={
            "scope": "organization", "name": "Team", "format": "html", "body": SIGNATURE,
            "insert_in": "all",
        })  # fmt: skip
        assert signature.status_code == 201, signature.text
        [alias] = (await http.get("/api/aliases")).json()["aliases"]
        chosen = {"name": "Alice at Acme", "signature_id": signature.json()["signature"]["id"]}
        assert (await http.patch(f"/api/aliases/{alias['id']}/settings", json=chosen)).is_success
        started = (await http.post(f"/api/conversations/{desk.conversation}/drafts")).json()
    assert started["draft"]["from"]["address"] == "support@acme.test"  # where it was sent
    return alice, desk.bob, started["draft"]["id"]


async def _attach(http: Any, draft: str, name: str, kind: str, data: bytes, inline: int) -> str:
    uploaded = await http.post(
        f"/api/drafts/{draft}/attachments", params={"filename": name, "inline": inline},
        content=data, headers={"content-type": kind},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["attachment"]["id"])


def _parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no text/{kind} part"
    return str(part.get_content()).replace("\r\n", "\n")


async def test_two_composers_co_write_a_reply_that_is_sent_as_merged(
    node: str, live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, bob, draft = await _world(live_server, loopback_smtp)
    async with live_server.client(bob.token) as http:
        await _attach(http, draft, "invoice.pdf", "application/pdf", PDF, 0)
        logo = await _attach(http, draft, "logo.png", "image/png", PNG, 1)
    alice_steps = [
        {"op": "type", "text": "Hello Carla, thanks for writing.", "block": 0},
        {"op": "paragraph"},
        {"op": "type", "text": "Your order left our warehouse this morning.", "block": 1},
        {"op": "mark", "find": "this morning", "mark": "bold"},
        {"op": "cursor", "find": "warehouse"},
        {"op": "await", "text": "PostNord"},  # then the image goes below bob's list
        {"op": "image", "src": f"cid:{logo}", "alt": "our logo"},
    ]
    bob_steps = [
        {"op": "await", "text": "Hello"},  # then types before it while alice goes on
        {"op": "type", "text": "We are sorry for the wait. ", "block": 0, "at": 0},
        {"op": "await", "text": "warehouse this morning."},  # then the list goes below it
        {"op": "list", "items": ["Tracking: ZX-42", "Carrier: PostNord"]},
        {"op": "mark", "find": "ZX-42", "mark": "link", "attrs": {"href": TRACKING}},
        {"op": "cursor", "find": "PostNord"},
    ]
    both = ("thanks for writing", "sorry for the wait", "warehouse this morning", "PostNord")
    a, b = await asyncio.gather(
        compose(node, live_server, draft, alice.token, alice_steps, *both, cursor_of="Bob"),
        compose(node, live_server, draft, bob.token, bob_steps, *both, cursor_of="Alice"),
    )
    assert a["blocks"] == b["blocks"]  # converged, whatever the interleaving
    # each sees the other's caret, under the name the server gave their awareness
    assert a["cursors"]["Bob"].endswith("PostNord")
    assert b["cursors"]["Alice"].endswith("warehouse")
    # both typed into the first paragraph at once, each at their own caret
    assert a["blocks"][0] == "We are sorry for the wait. Hello Carla, thanks for writing."

    async with live_server.client(bob.token) as http:
        sent = await http.post(f"/api/drafts/{draft}/send", json={})
        assert sent.status_code == 202, sent.text
        item = sent.json()["outbox"]
        done = await _until(http, item["id"], "sent")
    assert done["smtp_code"] == 250
    [received] = loopback_smtp.sink.received
    message = _parsed(received.data)
    assert message["In-Reply-To"] == "<order-1@example.com>"
    assert message["References"] == "<order-1@example.com>"
    assert message["Subject"] == "Re: Where is my order?"
    assert message["From"] == "Alice at Acme <support@acme.test>"
    text = _part(message, "plain")
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines == [
        a["blocks"][0],
        a["blocks"][1],
        "- Tracking: ZX-42 <https://track.example/ZX-42>",
        "- Carrier: PostNord",
        "[our logo]",
        "-- ",  # the signature, rendered for alice who started the reply
        "Alice",
        "Acme Support",
    ]
    html = _part(message, "html")
    assert "<strong>this morning</strong>" in html
    assert f'<a href="{TRACKING}"' in html
    assert "<li><p>Carrier: PostNord</p></li>" in html
    assert f'<img src="cid:{logo}" alt="our logo">' in html
    assert html.endswith('<div class="signature"><p><b>Alice</b><br>Acme Support</p></div>\n')
    parts = {str(p.get("Content-ID") or p.get_filename()): p for p in message.walk()}
    image, pdf = parts[f"<{logo}>"], parts["invoice.pdf"]
    assert (image.get_content_type(), image.get_payload(decode=True)) == ("image/png", PNG)
    assert image.get_content_disposition() == "inline"
    assert (pdf.get_content_type(), pdf.get_payload(decode=True)) == ("application/pdf", PDF)
    assert pdf.get_content_disposition() == "attachment"
