"""`/v1/responses` (Missive §2.13) on both backends: create personal, organization and
team responses, list and get what the token's user sees, update and delete; bad input is
named and changes nothing."""

from __future__ import annotations

import base64
from typing import Any

from tests.fixtures.server import LiveServer, make_person


async def test_missive_responses(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    team = await services.storage.create_team(alice.org.id, "Sales", [alice.user.id], [], True)
    org = alice.org.id

    async def call(who: Any, method: str, path: str, body: Any = None) -> Any:
        async with live_server.client(who.token) as http:
            return await http.request(method, path, json=body)

    created = await call(alice, "POST", "/v1/responses", {"responses": [
        {"title": "Mine", "body": "Hi", "user": alice.user.id},
        {"title": "Everyone", "body": "Hello {{ recipient.first_name }}", "organization": org,
         "to_fields": [{"address": "ops@acme.test"}]},
        {"title": "Sales only", "body": "Deal", "organization": org,
         "share_with_team": team.id},
    ]})  # fmt: skip
    assert created.status_code == 201, created.text
    mine, everyone, sales = created.json()["responses"]
    assert (mine["user"], mine["organization"]) == (alice.user.id, None)
    assert everyone["to_fields"] == [{"address": "ops@acme.test", "name": ""}]
    assert sales["share_with_team"] == team.id
    titles = {
        who.user.email: sorted(r["title"] for r in
                               (await call(who, "GET", "/v1/responses")).json()["responses"])
        for who in (alice, bob)
    }  # fmt: skip
    assert titles == {"alice@acme.test": ["Everyone", "Mine", "Sales only"],
                      "bob@acme.test": ["Everyone"]}  # fmt: skip
    assert (await call(bob, "GET", f"/v1/responses/{mine['id']}")).status_code == 404
    got = await call(bob, "GET", f"/v1/responses/{everyone['id']}")
    assert got.json()["responses"][0]["title"] == "Everyone"
    patched = await call(bob, "PATCH", f"/v1/responses/{everyone['id']}",
                         {"responses": [{"id": everyone["id"], "title": "Everyone!"}]})  # fmt: skip
    assert patched.json()["responses"][0]["title"] == "Everyone!"
    bad = [
        ({"responses": [{"title": "x", "body": "y"}]}, "responses[0]"),
        ({"responses": [{"title": "x", "body": "{{ oops", "user": alice.user.id}]},
         "body"),
        ({"responses": [{"title": "x", "user": bob.user.id}]}, "responses[0].user"),
        ({"responses": [{"title": "x", "organization": org, "colour": "red"}]},
         "responses[0].colour"),
    ]  # fmt: skip
    for body, field in bad:
        answer = await call(alice, "POST", "/v1/responses", body)
        assert 400 <= answer.status_code < 500 and answer.json()["error"]["field"] == field, body
    gone = await call(alice, "DELETE", f"/v1/responses/{mine['id']},{sales['id']}")
    assert gone.status_code == 200
    left = (await call(alice, "GET", "/v1/responses")).json()["responses"]
    assert [r["title"] for r in left] == ["Everyone!"]


async def test_missive_response_files_are_listed_downloaded_and_replaced(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    pdf = b"%PDF-1.4 price list " * 50
    async with live_server.client(alice.token) as http:
        one = {"title": "Prices", "body": "See attached", "organization": alice.org.id,
               "attachments": [{"base64_data": base64.b64encode(pdf).decode(),
                                "filename": "prices.pdf"}]}  # fmt: skip
        created = await http.post("/v1/responses", json={"responses": [one]})
        assert created.status_code == 201, created.text
        [made] = created.json()["responses"]
        [file] = made["attachments"]
        assert (file["filename"], file["extension"], file["size"]) == (
            "prices.pdf",
            "pdf",
            len(pdf),
        )
        assert (file["media_type"], file["sub_type"]) == ("application", "pdf")
        assert (await http.get(file["url"])).content == pdf
        listed = (await http.get("/v1/responses")).json()["responses"]
        assert listed[0]["attachments"] == [file]
        kept = {"id": made["id"], "title": "Prices 2026"}  # no `attachments`: files stay
        patched = await http.patch(f"/v1/responses/{made['id']}", json={"responses": [kept]})
        assert patched.json()["responses"][0]["attachments"] == [file]
        cleared = {"id": made["id"], "attachments": []}  # the whole set is replaced
        patched = await http.patch(f"/v1/responses/{made['id']}", json={"responses": [cleared]})
        assert patched.json()["responses"][0]["attachments"] == []
        assert (await http.get(file["url"])).status_code == 404
        broken = {**one, "title": "Broken", "attachments": [{"base64_data": "***",
                                                              "filename": "x.pdf"}]}  # fmt: skip
        refused = await http.post("/v1/responses", json={"responses": [broken]})
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == "responses[0].attachments[0].base64_data"
        titles = [r["title"] for r in (await http.get("/v1/responses")).json()["responses"]]
        assert titles == ["Prices 2026"]  # nothing was created
        paged = await http.get("/v1/responses", params={"limit": "many"})
        assert (paged.status_code, paged.json()["error"]["field"]) == (400, "limit")
