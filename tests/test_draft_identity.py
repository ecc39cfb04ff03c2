"""Who a draft is from and its signature, through HTTP and the live document: switching
the From to another alias brings that alias's signature (SG-1), switching the signature
keeps the From (SG-5), and a From a co-writer sets that the sender may not use stops the
send (403 naming `from`) and leaves the draft editable."""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import Map

from tests.fixtures.desk import support_desk
from tests.fixtures.server import LiveServer, Person, make_person
from tests.fixtures.smtp import SmtpFixture
from tests.test_sending import _parsed, _until
from tests.yclient import yws


async def _world(live: LiveServer, smtp: SmtpFixture) -> tuple[Person, Person, dict[str, str]]:
    """alice owns support@ (shared with bob, so he may send from its alias sales@ too) and
    billing@, which only she may send from; a personal signature on each of her aliases
    of support@; a mail came in to support@."""
    desk = await support_desk(live, smtp)
    alice, services, account = desk.alice, live.services, desk.account
    await services.storage.create_account(
        alice.org.id, "billing@acme.test", alice.user.id, "inbox", None, []
    )
    ids: dict[str, str] = {}
    async with live.client(alice.token) as http:
        sales = await http.post(
            f"/api/accounts/{account.id}/aliases", json={"address": "sales@acme.test"}
        )
        assert sales.status_code == 201, sales.text
        ids["sales"] = sales.json()["alias"]["id"]
        ids["support"] = account.id  # an account's own address is its default alias
        for alias, words in (("support", "Support desk"), ("sales", "Sales desk")):
            made = await http.post("/api/signatures", json={
                "scope": "personal", "name": words, "format": "html", "body": f"<p>{words}</p>",
                "insert_in": "all",
            })  # fmt: skip
            assert made.status_code == 201, made.text
            ids[f"{alias}_signature"] = made.json()["signature"]["id"]
            chosen = {"signature_id": ids[f"{alias}_signature"], "name": f"Alice ({alias})"}
            settings = await http.patch(f"/api/aliases/{ids[alias]}/settings", json=chosen)
            assert settings.status_code == 200, settings.text
    ids["conv"] = desk.conversation
    return alice, desk.bob, ids


async def _headers(live: LiveServer, draft: str, token: str) -> dict[str, Any]:
    async with yws(live.ws, f"draft:{draft}", token) as client:
        await asyncio.wait_for(client.synced.wait(), 5)
        headers: dict[str, Any] = client.doc.get("headers", type=Map).to_py() or {}
        return headers


async def test_switching_from_brings_its_signature_and_a_switched_signature_keeps_from(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, ids = await _world(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        started = (await http.post(f"/api/conversations/{ids['conv']}/drafts")).json()["draft"]
        draft = started["id"]
        seeded = await _headers(live_server, draft, alice.token)
        assert (seeded["from"], seeded["from_name"]) == ("support@acme.test", "Alice (support)")
        assert seeded["signature"]["id"] == ids["support_signature"]

        switched = await http.put(f"/api/drafts/{draft}/from", json={"address": "sales@acme.test"})
        assert switched.status_code == 200, switched.text
        now = await _headers(live_server, draft, alice.token)
        assert (now["from"], now["from_name"]) == ("sales@acme.test", "Alice (sales)")
        assert (now["signature"]["id"], now["signature"]["text"]) == (
            ids["sales_signature"], "Sales desk"
        )  # fmt: skip

        plain = await http.put(f"/api/drafts/{draft}/signature", json={"signature_id": None})
        assert plain.status_code == 200, plain.text
        now = await _headers(live_server, draft, alice.token)
        assert now["from"] == "sales@acme.test"  # From stays
        assert now["signature"] == {"id": None, "html": "", "text": ""}

        back = {"signature_id": ids["support_signature"]}  # any of hers, on any alias
        assert (await http.put(f"/api/drafts/{draft}/signature", json=back)).status_code == 200
        async with yws(live_server.ws, f"draft:{draft}", alice.token) as client:
            await asyncio.wait_for(client.synced.wait(), 5)
            client.write_paragraph("Happy to help.")
            await client.flush()
            await client.wait_saved()
        sent = await http.post(f"/api/drafts/{draft}/send", json={})
        assert sent.status_code == 202, sent.text
        await _until(http, sent.json()["outbox"]["id"], "sent")
    message = _parsed(loopback_smtp.sink.received[-1].data)
    assert message["From"] == '"Alice (sales)" <sales@acme.test>'  # quoted: it has ( )
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert str(text.get_content()).replace("\r\n", "\n").endswith("-- \nSupport desk\n")


async def test_a_from_the_sender_may_not_use_stops_the_send_and_keeps_the_draft(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    _, bob, ids = await _world(live_server, loopback_smtp)
    async with live_server.client(bob.token) as http:
        draft = (await http.post(f"/api/conversations/{ids['conv']}/drafts")).json()["draft"]["id"]
        async with yws(live_server.ws, f"draft:{draft}", bob.token) as client:
            await asyncio.wait_for(client.synced.wait(), 5)
            client.write_paragraph("On its way.")
            client.doc.get("headers", type=Map)["from"] = "billing@acme.test"  # not bob's
            await client.flush()
            await client.wait_saved()
        refused = await http.post(f"/api/drafts/{draft}/send", json={})
        assert (refused.status_code, refused.json()["error"]["field"]) == (403, "from")
        mine = await http.put(f"/api/drafts/{draft}/from", json={"address": "billing@acme.test"})
        assert (mine.status_code, mine.json()["error"]["field"]) == (403, "from")
        unknown = await http.put(f"/api/drafts/{draft}/from", json={"address": "x@acme.test"})
        assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "from")
        theirs = {"signature_id": ids["sales_signature"]}  # alice's personal signature
        hidden = await http.put(f"/api/drafts/{draft}/signature", json=theirs)
        assert (hidden.status_code, hidden.json()["error"]["field"]) == (400, "signature_id")
        fixed = await http.put(f"/api/drafts/{draft}/from", json={"address": "support@acme.test"})
        assert fixed.status_code == 200, fixed.text  # still editable, nothing was queued
        sent = await http.post(f"/api/drafts/{draft}/send", json={})
        assert sent.status_code == 202, sent.text
        await _until(http, sent.json()["outbox"]["id"], "sent")
        late = await http.put(f"/api/drafts/{draft}/signature", json={"signature_id": None})
        assert (late.status_code, late.json()["error"]["field"]) == (409, "draft")
    assert len(loopback_smtp.sink.received) == 1
    assert _parsed(loopback_smtp.sink.received[0].data)["From"] == "support@acme.test"
    stranger = await make_person(live_server.services, "eve@else.test", org_name="Else")
    async with live_server.client(stranger.token) as http:
        other = await http.put(f"/api/drafts/{draft}/from", json={"address": "a@b.test"})
        assert other.status_code == 404
