"""The Missive-compatible drafts API through the real server (sign-in and sessions are in
`test_auth.py`)."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.server import LiveServer, make_person


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"to_fields": [{"address": "not-an-address"}]}, "drafts.to_fields[0].address"),
        ({"to_fields": [{"name": "no address"}]}, "drafts.to_fields[0].address"),
        ({"cc_fields": "someone@example.com"}, "drafts.cc_fields"),
        ({"subject": 42}, "drafts.subject"),
        ({"body": ["x"]}, "drafts.body"),
    ],
)
async def test_bad_drafts_are_refused_before_anything_is_written(
    live_server: LiveServer, draft: dict[str, object], field: str
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    async with live_server.client(alice.token) as http:
        response = await http.post("/v1/drafts", json={"drafts": draft})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


async def test_drafts_need_a_user_and_belong_to_their_author(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    async with httpx.AsyncClient(base_url=live_server.http) as anonymous:
        assert (await anonymous.post("/v1/drafts", json={"drafts": {}})).status_code == 401
    async with live_server.client(alice.token) as http:
        created = await http.post("/v1/drafts", json={"drafts": {"subject": "Hi", "body": "x"}})
        draft_id = created.json()["drafts"]["id"]
    async with live_server.client(bob.token) as http:  # alice's new email is hers alone
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 404
    assert await live_server.services.storage.get_draft(draft_id) is not None
    async with live_server.client(alice.token) as http:
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 204
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 404
    assert await live_server.services.storage.get_document(f"draft:{draft_id}") is None


async def test_json_endpoints_refuse_other_content_types(live_server: LiveServer) -> None:
    """A cross-site form can post text/plain; the API only reads application/json."""
    alice = await make_person(live_server.services, "alice@acme.test")
    body = '{"drafts": {"subject": "forged"}}'
    async with live_server.client(alice.token) as http:
        response = await http.post(
            "/v1/drafts", content=body, headers={"content-type": "text/plain"}
        )
        assert response.status_code == 415
        assert "application/json" in response.json()["error"]["message"]
        signin = await http.post(
            "/api/session",
            content='{"email": "a@b.c", "password": "12345678"}',
            headers={"content-type": "text/plain"},
        )
        assert signin.status_code == 415
