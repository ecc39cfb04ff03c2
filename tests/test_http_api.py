"""Sign-in, sessions, tokens, health and the drafts API through the real app."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from server.passwords import hash_password
from server.ratelimit import RateLimiter
from server.settings import Settings
from tests.fixtures.server import LiveServer, make_person, run_server

PASSWORD = "correct horse battery"


async def _alice_with_password(live: LiveServer) -> None:
    person = await make_person(live.services, "alice@acme.test")
    await live.services.storage.set_password_hash(person.user.id, hash_password(PASSWORD))


async def test_sign_in_sets_an_httponly_cookie_that_works_until_sign_out(
    live_server: LiveServer,
) -> None:
    await _alice_with_password(live_server)
    async with live_server.client() as http:
        response = await http.post(
            "/api/session", json={"email": "Alice@Acme.test", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user"]["email"] == "alice@acme.test"
        assert body["organizations"] == [
            {"id": body["organizations"][0]["id"], "name": "Acme", "role": "member"}
        ]
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert (await http.get("/api/session")).json()["user"]["name"] == "Alice"
        assert (await http.delete("/api/session")).status_code == 204
        stolen = response.cookies.get("tandem_session")
        assert stolen
    async with live_server.client() as replay:
        replay.cookies.set("tandem_session", stolen)
        assert (await replay.get("/api/session")).status_code == 401


async def test_wrong_email_and_wrong_password_look_the_same(live_server: LiveServer) -> None:
    await _alice_with_password(live_server)
    async with live_server.client() as http:
        wrong_password = await http.post(
            "/api/session", json={"email": "alice@acme.test", "password": "nope-nope"}
        )
        no_such_user = await http.post(
            "/api/session", json={"email": "nobody@acme.test", "password": "nope-nope"}
        )
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json() == no_such_user.json()


async def test_failed_sign_ins_are_rate_limited(app_settings: Settings) -> None:
    settings = dataclasses.replace(app_settings, login_attempts=3, login_window_s=60)
    async with run_server(settings) as live:
        await _alice_with_password(live)
        async with live.client() as http:
            for _ in range(3):
                bad = await http.post(
                    "/api/session", json={"email": "alice@acme.test", "password": "guess-123"}
                )
                assert bad.status_code == 401
            limited = await http.post(
                "/api/session", json={"email": "alice@acme.test", "password": PASSWORD}
            )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10, now=lambda: now[0])
    limiter.record_failure("k")
    limiter.record_failure("k")
    with pytest.raises(Exception, match="too many"):
        limiter.check("k")
    now[0] = 10.5
    limiter.check("k")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"not json", 400, None),
        (b"[]", 400, None),
        (b'{"email": "a@b.test"}', 400, "password"),
        (b'{"password": "x"}', 400, "email"),
    ],
)
async def test_bad_sign_in_requests_name_the_problem(
    live_server: LiveServer, body: bytes, status: int, field: str | None
) -> None:
    async with live_server.client() as http:
        response = await http.post("/api/session", content=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"]
    assert error.get("field") == field


async def test_bearer_tokens_and_health(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    async with live_server.client(alice.token) as http:
        assert (await http.get("/api/session")).json()["user"]["email"] == "alice@acme.test"
        health = (await http.get("/healthz")).json()
    assert health["status"] == "ok"
    assert health["database"] == live_server.services.storage.backend
    async with live_server.client("tdm_revoked") as http:
        assert (await http.get("/api/session")).status_code == 401


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
    async with live_server.client(bob.token) as http:
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 403
    async with live_server.client(alice.token) as http:
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 204
        assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 404
    assert await live_server.services.storage.get_document(f"draft:{draft_id}") is None
