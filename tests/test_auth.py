"""Signing in and out, sessions, bearer tokens and the sign-in rate limit, through the real
app on both storage backends."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from server.auth import SESSION_COOKIE, bearer_from_header
from server.credentials import hash_secret, new_api_token, new_session_id
from server.errors import InvalidInput, TooManyRequests
from server.passwords import hash_password, needs_rehash, verify_password
from server.ratelimit import RateLimiter
from server.settings import Settings
from server.storage.base import Storage
from tests.fixtures.app import MakeUser, http_client, running_app, services_of_app


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/session", json={"email": email, "password": password})


def cookie_header(session_id: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


def install_limiter(app: Starlette, attempts: int, now: list[float]) -> None:
    services_of_app(app).login_limiter = RateLimiter(attempts, 60, now=lambda: now[0])


async def test_sign_in_sets_an_httponly_samesite_cookie_that_signs_requests_in(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user("alice@acme.test", role="admin")
    response = await sign_in(client, "  Alice@ACME.test ", alice.password)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "user": {"id": alice.user.id, "email": "alice@acme.test", "name": "Alice"},
        "organizations": [{"id": alice.org.id, "name": "Acme", "role": "admin"}],
    }
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert attributes[0].startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "samesite=lax", "path=/", f"max-age={30 * 86400}"} <= set(attributes)
    assert "secure" not in attributes
    current = await client.get("/api/session")
    assert current.status_code == 200
    assert current.json()["user"]["id"] == alice.user.id


async def test_the_database_keeps_only_the_hash_of_a_session(
    client: httpx.AsyncClient, make_user: MakeUser, storage: Storage
) -> None:
    alice = await make_user()
    session_id = (await sign_in(client, alice.user.email, alice.password)).cookies[SESSION_COOKIE]
    later = int(time.time() * 1000) + 60_000
    assert await storage.user_for_session_hash(session_id, later) is None
    found = await storage.user_for_session_hash(hash_secret(session_id), later)
    assert found is not None and found.id == alice.user.id


async def test_secure_cookie_and_lifetime_follow_the_settings(
    app_settings: Settings, make_user: MakeUser
) -> None:
    alice = await make_user()
    settings = dataclasses.replace(app_settings, cookie_secure=True, session_days=2)
    async with running_app(settings) as app, http_client(app) as http:
        response = await sign_in(http, alice.user.email, alice.password)
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert "secure" in attributes
    assert f"max-age={2 * 86400}" in attributes


async def test_wrong_password_and_unknown_email_get_the_same_401(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user()
    wrong_password = await sign_in(client, alice.user.email, "not-the-password")
    unknown_email = await sign_in(client, "nobody@acme.test", "not-the-password")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["error"]["code"] == "unauthorized"
    assert "alice" not in wrong_password.text and "nobody" not in unknown_email.text
    assert "set-cookie" not in wrong_password.headers
    assert (await client.get("/api/session")).status_code == 401


async def test_failures_exhaust_the_limit_then_429_until_the_window_passes(
    app: Starlette, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user()
    now = [1000.0]
    install_limiter(app, 3, now)
    for _ in range(3):
        assert (await sign_in(client, alice.user.email, "guess-guess")).status_code == 401
    now[0] += 15
    limited = await sign_in(client, alice.user.email, alice.password)  # even the right one
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "45"
    assert limited.json()["error"]["code"] == "rate_limited"
    now[0] += 45
    assert (await sign_in(client, alice.user.email, alice.password)).status_code == 200


async def test_the_limit_counts_per_email_across_addresses_and_per_address_across_emails(
    app: Starlette, make_user: MakeUser
) -> None:
    alice = await make_user("alice@acme.test")
    bob = await make_user("bob@acme.test")
    install_limiter(app, 2, [0.0])
    async with (
        http_client(app, "192.0.2.1") as first,
        http_client(app, "192.0.2.2") as second,
        http_client(app, "192.0.2.3") as third,
    ):
        assert (await sign_in(first, alice.user.email, "guess-one")).status_code == 401
        assert (await sign_in(second, alice.user.email, "guess-two")).status_code == 401
        assert (await sign_in(third, alice.user.email, alice.password)).status_code == 429
        assert (await sign_in(first, bob.user.email, "guess-three")).status_code == 401
        assert (await sign_in(first, bob.user.email, bob.password)).status_code == 429
        assert (await sign_in(second, bob.user.email, bob.password)).status_code == 200


async def test_a_successful_sign_in_forgives_the_email_but_not_the_address(
    app: Starlette, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice = await make_user()
    install_limiter(app, 3, [0.0])
    assert (await sign_in(client, alice.user.email, "guess-one")).status_code == 401
    assert (await sign_in(client, alice.user.email, "guess-two")).status_code == 401
    assert (await sign_in(client, alice.user.email, alice.password)).status_code == 200
    async with http_client(app, "192.0.2.9") as elsewhere:
        for _ in range(2):  # the email starts again from zero...
            assert (await sign_in(elsewhere, alice.user.email, "guess")).status_code == 401
    third = await sign_in(client, "carol@acme.test", "guess-three")
    assert third.status_code == 401  # ...while the first address has used all three
    assert (await sign_in(client, "carol@acme.test", "guess-four")).status_code == 429


async def test_signing_out_ends_the_session_and_clears_the_cookie(
    client: httpx.AsyncClient, make_user: MakeUser, storage: Storage
) -> None:
    alice = await make_user()
    session_id = (await sign_in(client, alice.user.email, alice.password)).cookies[SESSION_COOKIE]
    assert (await client.get("/api/session", headers=cookie_header(session_id))).status_code == 200
    signed_out = await client.delete("/api/session")
    assert signed_out.status_code == 204
    cleared = signed_out.headers["set-cookie"].lower()
    assert cleared.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in cleared
    later = int(time.time() * 1000) + 60_000
    assert await storage.user_for_session_hash(hash_secret(session_id), later) is None
    replayed = await client.get("/api/session", headers=cookie_header(session_id))
    assert replayed.status_code == 401
    assert (await client.delete("/api/session")).status_code == 204  # idempotent


async def test_an_expired_session_is_refused(
    client: httpx.AsyncClient, make_user: MakeUser, storage: Storage
) -> None:
    alice = await make_user()
    now_ms = int(time.time() * 1000)
    expired, expired_hash = new_session_id()
    await storage.create_session(alice.user.id, expired_hash, now_ms - 1)
    current, current_hash = new_session_id()
    await storage.create_session(alice.user.id, current_hash, now_ms + 60_000)
    assert (await client.get("/api/session", headers=cookie_header(expired))).status_code == 401
    assert (await client.get("/api/session", headers=cookie_header(current))).status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ("Bearer {token}", 200),
        ("bearer   {token}", 200),
        ("Bearer tdm_unknown", 401),
        ("Basic {token}", 401),
        ("Bearer", 401),
        (None, 401),
    ],
)
async def test_bearer_tokens(
    client: httpx.AsyncClient, make_user: MakeUser, authorization: str | None, status: int
) -> None:
    alice = await make_user()
    headers = {"Authorization": authorization.format(token=alice.token)} if authorization else {}
    response = await client.get("/api/session", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json()["user"]["email"] == alice.user.email
    else:
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (b'{"email": "a@acme.test", ', None, "not valid JSON"),
        (b"", None, "empty"),
        (b'["a@acme.test", "password"]', None, "JSON object"),
        (b'{"email": "a@acme.test"}', "password", "'password' is required"),
        (b'{"password": "long enough"}', "email", "'email' is required"),
        (b'{"email": 42, "password": "long enough"}', "email", "must be a non-empty string"),
    ],
)
async def test_malformed_sign_in_requests_get_a_400_naming_the_problem(
    client: httpx.AsyncClient, body: bytes, field: str | None, says: str
) -> None:
    response = await client.post(
        "/api/session", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error.get("field") == field
    assert says in error["message"]


async def test_a_weak_password_hash_is_upgraded_on_sign_in(
    client: httpx.AsyncClient, make_user: MakeUser, storage: Storage
) -> None:
    alice = await make_user()
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(alice.password)
    await storage.set_password_hash(alice.user.id, weak)
    assert (await sign_in(client, alice.user.email, alice.password)).status_code == 200
    stored = (await storage.get_user(alice.user.id)).password_hash  # type: ignore[union-attr]
    assert stored != weak and stored is not None
    assert not needs_rehash(stored) and verify_password(stored, alice.password)


async def test_the_home_page_is_a_sign_in_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Tandem</title>" in response.text
    assert 'fetch("/api/session"' in response.text and 'type="password"' in response.text


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("BEARER abc ", "abc"),
        ("Bearer ", None),
        ("Token abc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_from_header(header: str | None, token: str | None) -> None:
    assert bearer_from_header(header) == token


def test_secrets_are_random_and_stored_as_sha256() -> None:
    token, token_hash = new_api_token()
    assert token.startswith("tdm_") and len(token) > 40
    assert token_hash == hash_secret(token) and len(token_hash) == 64
    assert new_api_token()[0] != token
    session_id, session_hash = new_session_id()
    assert session_hash == hash_secret(session_id) and session_id != new_session_id()[0]


def test_passwords() -> None:
    with pytest.raises(InvalidInput) as short:
        hash_password("seven77")
    assert short.value.field == "password"
    stored = hash_password("eight888")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "eight888")
    assert not verify_password(stored, "eight889")
    assert not verify_password("not-a-hash", "eight888")
    assert not verify_password(None, "eight888")
    assert needs_rehash("not-a-hash") and not needs_rehash(stored)


def test_rate_limiter_slides_and_forgets() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10, now=lambda: now[0])
    limiter.check("k")
    limiter.record_failure("k")
    now[0] = 4.0
    limiter.record_failure("k")
    limiter.check("other")
    with pytest.raises(TooManyRequests) as limited:
        limiter.check("k")
    assert limited.value.retry_after == 6  # when the first failure leaves the window
    now[0] = 10.5  # the first has left; one remains
    limiter.check("k")
    limiter.record_failure("k")
    with pytest.raises(TooManyRequests):
        limiter.check("k")
    limiter.reset("k")
    limiter.check("k")


def test_rate_limiter_memory_stays_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 10, now=lambda: now[0])
    for _ in range(1000):
        limiter.record_failure("hammered")
    for i in range(1000):
        limiter.record_failure(f"ip:{i}")
        limiter.check(f"never-failed:{i}")
    assert len(limiter._failures["hammered"]) == 3
    assert len(limiter._failures) == 1001
    now[0] = 25.0
    limiter.record_failure("fresh")
    assert list(limiter._failures) == ["fresh"]
