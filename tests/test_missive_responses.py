"""`/v1/responses` (Missive §2.13) on both backends: create personal, organization and
team responses, list and get what the token's user sees, update and delete; bad input is
named and changes nothing."""

from __future__ import annotations

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
