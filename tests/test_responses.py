"""Canned responses: the search rules (prefix, any order, scope prefixes, ranking by
frequency), Liquid rendering (defaults, null checks, form variables first), and the API on
both backends — scopes, who sees and edits what, bad Liquid named, the limits."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from pycrdt import Map

from server.errors import Unprocessable
from server.responses.render import Person, form_variables, render
from server.responses.search import Searchable, search
from server.storage.base import Storage
from server.storage.responses import MAX_PERSONAL, ResponseRecord
from tests.fixtures.mail import ORDER
from tests.fixtures.server import LiveServer, make_person
from tests.fixtures.server import Person as Member
from tests.yclient import yws

BETTER = Searchable("1", "How to be a better person?", "", "Be kind.", "personal")
REFUND_ONCE = Searchable("2", "Refunds", "", "We refund within 14 days.", "organization")
REFUND_A_LOT = Searchable(
    "3", "Refund policy", "Refund", "refund refund refund refund", "team", "t-sales"
)
ITEMS = [BETTER, REFUND_ONCE, REFUND_A_LOT]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ho bet pers", ["1"]),  # prefixes, in any order (CR-8)
        ("pers better", ["1"]),
        ("person?", ["1"]),  # punctuation belongs to the token
        ("refund", ["3", "2"]),  # ranked by how often it occurs (CR-10)
        ("refund days", ["2"]),  # every token must match
        ("personal", ["1"]),  # scope prefixes (CR-9)
        ("sales refund", ["3"]),
        ("acme refund", ["2"]),
        ("nothing", []),
        ("", ["1", "2", "3"]),
    ],
)
def test_search(query: str, expected: list[str]) -> None:
    found = [item.id for item in search(ITEMS, query, org_name="Acme", teams={"Sales": "t-sales"})]
    assert (found if query else sorted(found)) == expected  # no query: everything


def test_liquid_defaults_null_checks_and_form_variables() -> None:
    template = (
        "{% if recipient.first_name == null %}Hello,{% else %}Hi {{ recipient.first_name }},"
        "{% endif %} your order {{ order_number }} ({{ user.first_name | default: 'us' }})"
    )
    assert form_variables(template) == ["order_number"]
    named = {"recipient": Person("c@x.test", "Carla Customer").as_liquid()}
    assert render(template, named, {"order_number": "42"}) == "Hi Carla, your order 42 (us)"
    unnamed = {"recipient": Person("c@x.test").as_liquid()}
    assert render(template, unnamed, {"order_number": "7"}).startswith("Hello, your order 7")
    greeting = "Hi {{ recipient.first_name | default: 'there' }},"
    assert render(greeting, unnamed, {}) == "Hi there,"


async def _org(live: LiveServer) -> tuple[Member, Member, Member, str]:
    services = live.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")
    team = await services.storage.create_team(alice.org.id, "Sales", [alice.user.id], [], True)
    return alice, bob, carol, team.id


async def _call(live: LiveServer, who: Member, method: str, path: str, body: Any = None) -> Any:
    async with live.client(who.token) as http:
        return await http.request(method, path, json=body)


async def test_scopes_permissions_and_search_over_http(live_server: LiveServer) -> None:
    alice, bob, carol, team = await _org(live_server)
    made = {}
    for scope, extra in (("personal", {}), ("team", {"team": team}), ("organization", {})):
        answer = await _call(live_server, alice, "POST", "/api/responses",
                             {"title": f"Refund {scope}", "body": "We refund.", "scope": scope,
                              **extra})  # fmt: skip
        assert answer.status_code == 201, answer.text
        made[scope] = answer.json()["response"]["id"]
    seen = {}
    for who in (alice, bob):
        listed = (await _call(live_server, who, "GET", "/api/responses?q=refund")).json()
        seen[who.user.email] = sorted(r["title"] for r in listed["responses"])
    assert seen["alice@acme.test"] == ["Refund organization", "Refund personal", "Refund team"]
    assert seen["bob@acme.test"] == ["Refund organization"]  # not in Sales, not alice's
    personal = f"/api/responses/{made['personal']}"
    assert (await _call(live_server, bob, "PATCH", personal, {"title": "Mine"})).status_code == 404
    shared = f"/api/responses/{made['organization']}"
    edited = await _call(live_server, bob, "PATCH", shared, {"title": "Refunds (all)"})
    assert edited.status_code == 200 and edited.json()["response"]["title"] == "Refunds (all)"
    forbidden = await _call(live_server, bob, "POST", "/api/responses",
                            {"title": "x", "body": "y", "scope": "team", "team": team})  # fmt: skip
    assert (forbidden.status_code, forbidden.json()["error"]["field"]) == (403, "team")
    broken = await _call(live_server, carol, "POST", "/api/responses",
                         {"title": "Broken", "body": "Hi {{ name "})  # fmt: skip
    assert (broken.status_code, broken.json()["error"]["field"]) == (400, "body")
    assert (await _call(live_server, alice, "DELETE", personal)).status_code == 204
    assert (await _call(live_server, alice, "DELETE", personal)).status_code == 404


async def test_rendering_for_a_conversation_asks_for_form_variables_first(
    live_server: LiveServer,
) -> None:
    alice, *_ = await _org(live_server)
    services = live_server.services
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    await services.storage.create_account(
        alice.org.id, "support@acme.test", alice.user.id, "inbox", None, []
    )
    async with live_server.client(alice.token) as http:
        imported = await http.post(
            "/api/admin/accounts/support@acme.test/import",
            content=ORDER,
            headers={"content-type": "message/rfc822"},
        )
        [conv] = imported.json()["conversations"]
        created = await http.post(
            "/api/responses",
            json={"title": "Tracking", "subject": "Re: {{ message.subject }}",
                  "body": "Hi {{ recipient.first_name | default: 'there' }}, order "
                          "{{ order_number }} is on its way. {{ user.first_name }}",
                  "to": [{"address": "carla@example.com"}]},
        )  # fmt: skip
        response = created.json()["response"]
        assert response["form"] == ["order_number"]
        path = f"/api/responses/{response['id']}/render"
        first = await http.post(path, json={"conversation": conv})
        assert first.json() == {"needs": ["order_number"]}
        done = await http.post(path, json={"conversation": conv, "form": {"order_number": "42"}})
        rendered = done.json()["rendered"]
        assert rendered["subject"] == "Re: Where is my order?"
        assert rendered["body"] == "Hi Carla, order 42 is on its way. Alice"  # From's name
        assert rendered["to"] == [{"address": "carla@example.com", "name": ""}]


async def test_a_users_thousand_and_first_personal_response_is_refused(storage: Storage) -> None:
    org = await storage.create_organization("Acme")
    user = await storage.create_user("a@acme.test", "A", None)
    async with cast(Any, storage).db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO responses (id, org_id, scope, user_id, team_id, title, subject, body,"
            " recipients, created_by, updated_at) VALUES (?, ?, 'personal', ?, NULL, ?, '', '',"
            " '{}', ?, 0)",
            [(f"r{n}", org.id, user.id, f"t{n}", user.id) for n in range(MAX_PERSONAL - 1)],
        )
    record = ResponseRecord("", org.id, "personal", user.id, None, "last", "", "b", {}, user.id)
    await storage.create_response(record)
    with pytest.raises(Unprocessable, match="at most 1000 personal"):
        await storage.create_response(record)
    shared = ResponseRecord("", org.id, "organization", None, None, "x", "", "b", {}, user.id)
    await storage.create_response(shared)  # the shared limit is counted apart


async def test_inserting_a_response_into_a_draft_reaches_its_editors_in_one_update(
    live_server: LiveServer,
) -> None:
    alice, bob, _, _ = await _org(live_server)
    services = live_server.services
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    await services.storage.create_account(
        alice.org.id, "support@acme.test", alice.user.id, "inbox", None, [(bob.user.id, False)]
    )
    async with live_server.client(alice.token) as http:
        imported = await http.post(
            "/api/admin/accounts/support@acme.test/import",
            content=ORDER,
            headers={"content-type": "message/rfc822"},
        )
        [conv] = imported.json()["conversations"]
        draft = (await http.post(f"/api/conversations/{conv}/drafts")).json()["draft"]["id"]
        made = await http.post(
            "/api/responses",
            json={"title": "Tracking", "scope": "organization",
                  "body": "Hi {{ recipient.first_name }},\nOrder {{ order_number }} ships today.",
                  "cc": [{"address": "boss@example.com"}, {"address": "carla@example.com"}]},
        )  # fmt: skip
        response = made.json()["response"]["id"]
    async with yws(live_server.ws, f"draft:{draft}", bob.token) as editor:
        await asyncio.wait_for(editor.synced.wait(), 5)
        async with live_server.client(bob.token) as http:
            path = f"/api/drafts/{draft}/responses"
            first = await http.post(path, json={"response": response})
            assert first.json() == {"needs": ["order_number"]}
            done = await http.post(
                path, json={"response": response, "form": {"order_number": "42"}}
            )
            assert done.status_code == 200, done.text
            missing = await http.post(path, json={"response": "nope"})
            assert (missing.status_code, missing.json()["error"]["field"]) == (400, "response")

        def arrived() -> bool:
            return "Order 42 ships today." in editor.text()

        await editor.wait_for(arrived)
        assert "Hi Carla," in editor.text()
        headers = editor.doc.get("headers", type=Map).to_py()
        assert [a["address"] for a in headers["cc_fields"]] == [
            "boss@example.com",
            "carla@example.com",
        ]
    stored = await services.storage.load_document(f"draft:{draft}")  # in the log, not just sent
    logged = b"".join([stored.snapshot or b"", *(u for _, u in stored.updates)])
    assert b"Order 42 ships today." in logged
