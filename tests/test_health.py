"""`GET /healthz` on both backends: the facts a load balancer needs, and a 503 when the
database fails or hangs."""

from __future__ import annotations

import logging

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from server.routes import health
from server.storage.base import Storage
from server.storage.migrations import latest_version
from tests.fixtures.app import services_of_app


async def test_healthy(client: httpx.AsyncClient, storage: Storage) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": storage.backend,
        "schema_version": latest_version(storage.backend),
    }
    assert latest_version(storage.backend) >= 1


async def test_a_failing_database_answers_503_and_logs_why(
    app: Starlette,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refuse() -> None:
        raise ConnectionRefusedError("database is down for the test")

    monkeypatch.setattr(services_of_app(app).storage, "ping", refuse)
    with caplog.at_level(logging.ERROR, logger="server.routes.health"):
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "error": "database is down for the test"}
    assert any(record.exc_info for record in caplog.records)


async def test_a_hanging_database_answers_503_in_time(
    app: Starlette, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang() -> None:
        await anyio.sleep(60)

    monkeypatch.setattr(services_of_app(app).storage, "ping", hang)
    monkeypatch.setattr(health, "PING_TIMEOUT_S", 0.05)
    with anyio.fail_after(5):
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "error": "TimeoutError"}
