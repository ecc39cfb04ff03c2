"""The Missive-compatible `POST /v1/drafts` and `DELETE /v1/drafts/:id` on both backends,
against a real SMTP server (aiosmtpd on loopback): a new email sent at once with its file,
a reply found by the Message-ID it answers, Send Later with auto follow-up, the
conversation-modifying parameters, bad input named and leaving no draft behind, and who
may delete which draft when."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from pycrdt import Map

from crdt.errors import CloseCode
from crdt.schemas import new_doc
from server.actions import api_drafts, smtp_accounts
from server.actions.drafting import quoted_lines
from server.conversations.machine_drafts import (
    discard_draft,
    remove_draft,
    restore_draft,
    schedule_send,
)
from server.errors import Conflict, InvalidInput
from server.settings import Settings
from tests.fixtures.machine import DIRECTORY, NOW, make
from tests.fixtures.mail import ORDER, REPLY, RFC822
from tests.fixtures.server import LiveServer, Person, make_person, run_server, with_settings
from tests.fixtures.smtp import SmtpFixture
from tests.test_sending import _until
from tests.yclient import yws

PDF = b"%PDF-1.4 an invoice\n" + bytes(range(256)) * 40


def test_a_deleted_draft_leaves_drafts_for_good_and_a_scheduled_one_stays() -> None:
    conv = make({"alice": "", "bob": ""}, drafts=["d1", "d2"])
    discard_draft(conv, "bob", draft_id="d1", now=NOW, directory=DIRECTORY)
    remove_draft(conv, "alice", draft_id="d1", now=NOW, directory=DIRECTORY)  # discarded
    remove_draft(conv, "bob", draft_id="d2", now=NOW, directory=DIRECTORY)
    assert conv.drafts == []
    assert [e.type for e in conv.events] == ["draft_discarded", "draft_deleted", "draft_deleted"]
    with pytest.raises(InvalidInput):
        restore_draft(conv, "bob", draft_id="d1", now=NOW, directory=DIRECTORY)
    later = make({"alice": ""}, drafts=["d3"])
    schedule_send(later, "alice", draft_id="d3", outbox_id="o3", at=NOW + 1, now=NOW,
                  discard_if_reply=False, directory=DIRECTORY)  # fmt: skip
    with pytest.raises(Conflict):
        remove_draft(later, "alice", draft_id="d3", now=NOW, directory=DIRECTORY)
    assert [s.draft_id for s in later.scheduled] == ["d3"]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("Hello\r\n\r\n\r\nBye  \n\n", ["Hello", "", "Bye"]),
        ("\n\nJust this", ["Just this"]),
        ("x" * 20_005, ["x" * 20_000 + " …"]),
    ],
)
def test_a_quoted_message_is_its_lines_blank_runs_folded(text: str, lines: list[str]) -> None:
    assert quoted_lines(text) == lines


@dataclass
class World:
    live: LiveServer
    alice: Person  # owner; owns support@acme.test, which sends through the loopback server
    bob: Person  # shares the account: sees its mail
    carol: Person  # the same organization, sees none of it
    conv: str  # Carla's "Where is my order?", imported
    billing: str  # a shared label
    support: str  # a team: bob active
    quiet: str  # a team without a team inbox

    def http(self, who: Person) -> httpx.AsyncClient:
        return self.live.client(who.token)


async def _world(live: LiveServer, smtp: SmtpFixture) -> World:
    services = live.services
    storage = services.storage
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")
    async with storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    account = await storage.create_account(
        alice.org.id, "support@acme.test", alice.user.id, "inbox", None, [(bob.user.id, False)]
    )
    relay = smtp_accounts.SmtpInput(smtp.host, smtp.port, "none")
    await smtp_accounts.configure(storage, services.settings, account, relay)
    billing = await storage.create_label(alice.org.id, "Billing", [])
    support = await storage.create_team(alice.org.id, "Support", [bob.user.id], [], True)
    quiet = await storage.create_team(alice.org.id, "Quiet", [bob.user.id], [], False)
    async with live.client(alice.token) as http:
        imported = await http.post(
            "/api/admin/accounts/support@acme.test/import", content=ORDER, headers=RFC822
        )
        [conv] = imported.json()["conversations"]
    return World(live, alice, bob, carol, conv, billing.id, support.id, quiet.id)


async def _draft(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await http.post("/v1/drafts", json={"drafts": fields})


async def _ids(http: httpx.AsyncClient, mailbox: str) -> list[str]:
    rows = (await http.get(f"/api/mailboxes/{mailbox}")).json()["conversations"]
    return [row["id"] for row in rows]


async def _web(http: httpx.AsyncClient, conv: str) -> dict[str, Any]:
    found: dict[str, Any] = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
    return found


async def _count(live: LiveServer, table: str) -> int:
    async with live.services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        row = await tx.fetchone(f"SELECT count(*) FROM {table}")
    return int(row[0])


async def _headers(live: LiveServer, draft: str) -> dict[str, Any]:
    stored = await live.services.storage.load_document(f"draft:{draft}")
    doc = new_doc(f"draft:{draft}")
    for _, update in stored.updates:
        doc.apply_update(update)
    headers: dict[str, Any] = doc.get("headers", type=Map).to_py() or {}
    return headers


def _parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(message: EmailMessage) -> list[str]:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return [line for line in part.get_content().replace("\r\n", "\n").split("\n") if line]


async def test_a_new_email_is_sent_at_once_with_its_file(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.alice) as http:
        made = await _draft(
            http,
            subject="Your invoice",
            body="<p>Hello Carla,</p><p><br></p><p>Here it is.</p>",
            from_field={"address": "support@acme.test", "name": "Acme Billing"},
            to_fields=[{"address": "carla@example.com", "name": "Carla Customer"}],
            cc_fields=[{"address": "books@example.com"}],
            attachments=[{"base64_data": base64.b64encode(PDF).decode(), "filename": "inv.pdf"}],
            send=True,
        )
        assert made.status_code == 201, made.text
        draft = made.json()["drafts"]
        assert draft["conversation"] != w.conv and draft["organization"] == w.alice.org.id
        assert draft["document"] == f"draft:{draft['id']}"
        assert draft["from_field"] == {"address": "support@acme.test", "name": "Acme Billing"}
        assert draft["to_fields"] == [{"address": "carla@example.com", "name": "Carla Customer"}]
        assert draft["cc_fields"] == [{"address": "books@example.com", "name": ""}]
        assert draft["bcc_fields"] == []
        [file] = draft["attachments"]
        assert (file["filename"], file["size"]) == ("inv.pdf", len(PDF))
        assert draft["send"]["send_at"] is None
        done = await _until(http, draft["send"]["outbox"], "sent")
        assert done["conversation"] == draft["conversation"]
        [received] = loopback_smtp.sink.received
        assert received.recipients == ["carla@example.com", "books@example.com"]
        message = _parsed(received.data)
        assert message["From"] == "Acme Billing <support@acme.test>"
        assert message["To"] == "Carla Customer <carla@example.com>"
        assert message["Cc"] == "books@example.com"
        assert message["Subject"] == "Your invoice"
        assert message["In-Reply-To"] is None
        assert _text(message) == ["Hello Carla,", "Here it is."]
        [pdf] = [part for part in message.walk() if part.get_filename() == "inv.pdf"]
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_payload(decode=True) == PDF
        assert await _ids(http, "sent") == [draft["conversation"]]
        assert await _ids(http, "drafts") == []
    async with w.http(w.bob) as http:  # a new email is its author's until shared
        assert draft["conversation"] not in await _ids(http, "all")


async def test_a_reply_found_by_references_threads_and_quotes(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.alice) as http:
        made = await _draft(
            http,
            references=["order-1@example.com"],  # chevrons are optional
            body="It ships today.",
            quote_previous_message=True,
            send=True,
        )
        assert made.status_code == 201, made.text
        draft = made.json()["drafts"]
        assert draft["conversation"] == w.conv
        assert draft["subject"] == "Re: Where is my order?"
        assert draft["to_fields"] == [{"address": "carla@example.com", "name": ""}]
        assert draft["from_field"] == {"address": "support@acme.test", "name": ""}  # AL-8
        await _until(http, draft["send"]["outbox"], "sent")
        [received] = loopback_smtp.sink.received
        message = _parsed(received.data)
        assert message["In-Reply-To"] == "<order-1@example.com>"
        assert message["References"] == "<order-1@example.com>"
        assert message["Subject"] == "Re: Where is my order?"
        first, attribution, quoted = _text(message)
        assert first == "It ships today."
        assert attribution.startswith("On Tue, 24 Nov 2026 at 10:00, ")
        assert attribution.endswith("Carla Customer <carla@example.com> wrote:")
        assert quoted == "> It has not arrived."
        html = message.get_body(preferencelist=("html",))
        assert html is not None
        assert "<blockquote><p>It has not arrived.</p></blockquote>" in html.get_content()
        assert (await _web(http, w.conv))["messages_count"] == 2


async def test_a_reply_takes_what_it_is_given_over_its_defaults(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.bob) as http:  # bob sees the account's mail: he may reply
        made = await _draft(
            http,
            conversation=w.conv,
            subject="About order 1",
            to_fields=[{"address": "carla@example.org", "name": "Carla"}],
            bcc_fields=[{"address": "audit@acme.test"}],
            body="Checking.",
        )
        assert made.status_code == 201, made.text
        draft = made.json()["drafts"]
        assert (draft["conversation"], draft["subject"], draft["send"]) == (
            w.conv, "About order 1", None
        )  # fmt: skip
        headers = await _headers(live_server, draft["id"])
        assert headers["subject"] == "About order 1"
        assert headers["to_fields"] == [{"address": "carla@example.org", "name": "Carla"}]
        assert headers["bcc_fields"] == [{"address": "audit@acme.test", "name": ""}]
        assert headers["from"] == "support@acme.test"
        assert await _ids(http, "drafts") == [w.conv]
    async with w.http(w.alice) as http:  # a reply draft is everyone's with access
        assert await _ids(http, "drafts") == [w.conv]
    assert loopback_smtp.sink.received == []


async def test_send_at_schedules_and_auto_followup_drops_it_when_a_reply_comes(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    at = int(time.time()) + 3600
    async with w.http(w.alice) as http:
        made = await _draft(
            http, conversation=w.conv, body="Any update?", send_at=at, auto_followup=True
        )
        assert made.status_code == 201, made.text
        draft = made.json()["drafts"]
        assert draft["send"]["send_at"] == at and draft["send"]["status"] == "queued"
        item = (await http.get(f"/api/outbox/{draft['send']['outbox']}")).json()["outbox"]
        assert item["release_at"] == at
        assert (await _ids(http, "send_later"), await _ids(http, "drafts")) == ([w.conv], [])
        await http.post("/api/admin/accounts/support@acme.test/import", content=REPLY,
                        headers=RFC822)  # fmt: skip
        item = (await http.get(f"/api/outbox/{draft['send']['outbox']}")).json()["outbox"]
        assert item["status"] == "recalled"
        assert await _ids(http, "send_later") == []
    await asyncio.sleep(0.3)
    assert loopback_smtp.sink.received == []
    stored = await live_server.services.storage.get_draft(draft["id"])
    assert stored is not None and stored.status == "discarded"


async def test_the_conversation_modifying_parameters_apply_with_the_draft(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    a, b = w.alice.user.id, w.bob.user.id
    async with w.http(w.alice) as http:
        made = await _draft(
            http,
            conversation=w.conv,
            body="Refunded.",
            organization=w.alice.org.id,
            add_shared_labels=[w.billing],
            add_assignees=[b],
            conversation_color="warning",
            close=True,
            send=True,
        )
        assert made.status_code == 201, made.text
        await _until(http, made.json()["drafts"]["send"]["outbox"], "sent")
        state = await _web(http, w.conv)
        assert state["status"] == "closed"  # sending does not reopen it
        assert state["labels"] == [w.billing] and state["assignees"] == [b]
        assert state["color"] == "warning" and state["messages_count"] == 2
        shared = await _draft(
            http, subject="Team note", body="For Support.", team=w.support,
            conversation_subject="Support: note",
        )  # fmt: skip
        assert shared.status_code == 201, shared.text
        conv = shared.json()["drafts"]["conversation"]
        state = await _web(http, conv)
        assert state["team"] == w.support and state["subject"] == "Support: note"
        assert set(state["users"]) == {a, b}
        assert not state["users"][a]["inbox"]  # a new draft waits in Drafts, not the Inbox
    async with w.http(w.bob) as http:  # the team's members co-write it
        assert conv in await _ids(http, "drafts")


BAD_BASE64 = [{"base64_data": "not base64!", "filename": "a.txt"}]
TOO_MANY = [{"base64_data": "aGk=", "filename": f"{i}.txt"} for i in range(26)]
TO_CARLA = [{"address": "carla@example.com"}]


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"from_field": {"address": "ceo@acme.test"}, "to_fields": TO_CARLA, "send": True},
         400, "drafts.from_field"),
        ({"from_field": {"address": "carol@acme.test"}}, 400, "drafts.from_field"),
        ({"from_field": {"address": "not an address"}}, 400, "drafts.from_field.address"),
        ({"to_fields": TO_CARLA, "send": True, "send_at": 4_000_000_000}, 400, "drafts.send_at"),
        ({"to_fields": TO_CARLA, "send_at": 1_000_000_000}, 400, "drafts.send_at"),
        ({"to_fields": TO_CARLA, "send": True, "auto_followup": True}, 400,
         "drafts.auto_followup"),
        ({"attachments": BAD_BASE64}, 400, "drafts.attachments[0].base64_data"),
        ({"attachments": [{"base64_data": "aGk="}]}, 400, "drafts.attachments[0].filename"),
        ({"attachments": TOO_MANY}, 400, "drafts.attachments"),
        ({"attachments": [{"base64_data": "aGk=", "filename": "a", "url": "x"}]}, 400,
         "drafts.attachments[0].url"),
        ({"colour": "red"}, 400, "drafts.colour"),
        ({"reopen": True}, 400, "drafts.reopen"),
        ({"to_fields": [{"phone_number": "+15551234567"}]}, 400,
         "drafts.to_fields[0].phone_number"),
        ({"from_field": {"phone_number": "+15551234567", "type": "twilio"}}, 400,
         "drafts.from_field.phone_number"),
        ({"account": "7d7c0e4e-0000-4000-8000-000000000000"}, 400, "drafts.account"),
        ({"external_response_id": "HX123"}, 400, "drafts.external_response_id"),
        ({"to_fields": [{"address": "carla@"}]}, 400, "drafts.to_fields[0].address"),
        ({"subject": "No one to send to", "send": True}, 400, "drafts.to_fields"),
        ({"conversation": "{conv}", "to_fields": [], "send": True}, 400, "drafts.to_fields"),
        ({"conversation": "{hidden}"}, 400, "drafts.conversation"),
        ({"add_shared_labels": ["{billing}"]}, 400, "drafts.organization"),
        ({"organization": "{org}", "add_shared_labels": ["nope"]}, 400,
         "drafts.add_shared_labels"),
        ({"team": "{quiet}", "add_to_team_inbox": True}, 422, "team"),
        ({"conversation": "{conv}", "team": "{quiet}", "add_to_team_inbox": True}, 422, "team"),
    ],
)  # fmt: skip
async def test_bad_drafts_are_named_and_leave_nothing_behind(
    live_server: LiveServer,
    loopback_smtp: SmtpFixture,
    fields: dict[str, Any],
    status: int,
    field: str,
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.carol) as http:  # a conversation only carol sees
        hidden = await http.post("/v1/posts", json={"posts": {"text": "mine"}})
        assert hidden.status_code == 201, hidden.text
    names = {"{conv}": w.conv, "{hidden}": hidden.json()["posts"]["conversation"],
             "{billing}": w.billing, "{org}": w.alice.org.id, "{quiet}": w.quiet}  # fmt: skip

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    drafts, convs = await _count(live_server, "drafts"), await _count(live_server, "conversations")
    async with w.http(w.alice) as http:
        refused = await _draft(http, **{key: fill(value) for key, value in fields.items()})
        assert refused.status_code == status, refused.text
        assert refused.json()["error"]["field"] == field
        assert await _ids(http, "drafts") == []
        assert (await _web(http, w.conv))["status"] == "open"
    assert await _count(live_server, "drafts") == drafts
    assert await _count(live_server, "conversations") == convs
    assert await _count(live_server, "attachments") == 0
    assert loopback_smtp.sink.received == []


async def test_the_from_field_error_reads_as_missives(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.carol) as http:  # carol may send from no alias
        refused = await _draft(http, from_field={"address": "support@acme.test"})
    error = refused.json()["error"]
    assert error["message"] == "'from_field' does not match an available sender"
    async with w.http(w.carol) as http:  # with no From she cannot send either
        refused = await _draft(http, to_fields=TO_CARLA, send=True)
    assert refused.json()["error"]["field"] == "drafts.from_field"
    assert await _count(live_server, "drafts") == 0


async def test_a_send_that_fails_after_the_checks_takes_the_draft_back(
    live_server: LiveServer, loopback_smtp: SmtpFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net behind the checks (a race such as an alias unshared meanwhile)."""

    async def refused(*args: object, **kwargs: object) -> None:
        raise InvalidInput("no alias 'support@acme.test' to send from", field="from")

    monkeypatch.setattr(api_drafts, "send_draft", refused)
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.alice) as http:
        attached = [{"base64_data": "aGk=", "filename": "hi.txt"}]
        failed = await _draft(http, conversation=w.conv, attachments=attached, send=True)
        assert failed.status_code == 400
        assert failed.json()["error"]["field"] == "drafts.from_field"
        assert await _ids(http, "drafts") == []
    conv = await live_server.services.conversations.read(w.conv)
    assert conv.drafts == [] and conv.events[-1].type == "draft_deleted"
    assert await _count(live_server, "drafts") == 0
    assert await _count(live_server, "attachments") == 0


async def test_the_request_and_its_files_have_limits(
    app_settings: Settings, loopback_smtp: SmtpFixture
) -> None:
    async with run_server(with_settings(app_settings, max_attachment_bytes=1000)) as live:
        w = await _world(live, loopback_smtp)
        async with w.http(w.alice) as http:
            big = [{"base64_data": base64.b64encode(b"x" * 1001).decode(), "filename": "a.bin"}]
            refused = await _draft(http, attachments=big)
            assert refused.status_code == 413
            assert refused.json()["error"]["field"] == "drafts.attachments"
            huge = {"drafts": {"body": "x" * (10 * 1024 * 1024)}}
            assert (await http.post("/v1/drafts", json=huge)).status_code == 413
        assert await _count(live, "drafts") == 0


async def test_who_deletes_which_draft_and_when(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    w = await _world(live_server, loopback_smtp)
    async with w.http(w.alice) as alice, w.http(w.bob) as bob, w.http(w.carol) as carol:
        reply = (await _draft(alice, conversation=w.conv, body="Hi")).json()["drafts"]["id"]
        private = (await _draft(alice, subject="Private")).json()["drafts"]
        own = private["id"]
        assert (await carol.delete(f"/v1/drafts/{reply}")).status_code == 404  # no access
        assert (await bob.delete(f"/v1/drafts/{own}")).status_code == 404  # alice's alone
        assert (await bob.delete("/v1/drafts/no-such-draft")).status_code == 404
        async with yws(live_server.ws, f"draft:{reply}", w.alice.token) as editor:
            await asyncio.wait_for(editor.synced.wait(), 5)
            assert (await bob.delete(f"/v1/drafts/{reply}")).status_code == 204  # co-writer
            assert (await editor.wait_closed())[0] == CloseCode.NOT_FOUND
        assert (await bob.delete(f"/v1/drafts/{reply}")).status_code == 404
        assert await _ids(alice, "drafts") == [private["conversation"]]
        assert await _ids(bob, "drafts") == []
        assert await live_server.services.storage.get_document(f"draft:{reply}") is None
        assert (await alice.delete(f"/v1/drafts/{own}")).status_code == 204

        later = await _draft(alice, conversation=w.conv, send_at=int(time.time()) + 3600)
        scheduled = later.json()["drafts"]
        refused = await alice.delete(f"/v1/drafts/{scheduled['id']}")
        assert (refused.status_code, refused.json()["error"]["field"]) == (409, "draft")
        assert f"/api/outbox/{scheduled['send']['outbox']}/recall" in refused.text
        await alice.post(f"/api/outbox/{scheduled['send']['outbox']}/recall")
        assert (await alice.delete(f"/v1/drafts/{scheduled['id']}")).status_code == 204
        assert await _ids(alice, "send_later") == [] and await _ids(alice, "drafts") == []

        waiting = (await _draft(alice, conversation=w.conv)).json()["drafts"]["id"]
        sent = await alice.post(f"/api/drafts/{waiting}/send", json={"undo_s": 30})
        assert sent.status_code == 202, sent.text
        refused = await bob.delete(f"/v1/drafts/{waiting}")
        assert (refused.status_code, refused.json()["error"]["field"]) == (409, "draft")
        await alice.post(f"/api/outbox/{sent.json()['outbox']['id']}/recall")
        discarded = await alice.post(f"/api/drafts/{waiting}/discard")
        assert discarded.status_code == 200, discarded.text
        assert (await alice.delete(f"/v1/drafts/{waiting}")).status_code == 204
        assert (await alice.post(f"/api/drafts/{waiting}/restore")).status_code == 404

        gone = (await _draft(alice, conversation=w.conv, send=True)).json()["drafts"]
        await _until(alice, gone["send"]["outbox"], "sent")
        refused = await alice.delete(f"/v1/drafts/{gone['id']}")
        assert (refused.status_code, refused.json()["error"]["field"]) == (409, "draft")
        assert "sent already" in refused.json()["error"]["message"]
        assert await _ids(alice, "drafts") == []
