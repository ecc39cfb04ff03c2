"""`tandem team create`, `tandem label create` and `tandem reindex`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from server.conversations.index import project
from server.conversations.model import Conversation, UserState
from server.services import open_services
from server.settings import Settings
from tests.fixtures.cli import run_main


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    status, out, err = run_main(capsys, *args, "--json")
    assert status == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def test_teams_and_labels(in_process: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, "org", "create", "Acme")
    for email in ("a@acme.com", "b@acme.com"):
        _json(capsys, "user", "create", email, "--org", "Acme")
    team = _json(
        capsys, "team", "create", "Acme", "Support", "--active", "a@acme.com",
        "--observers", "b@acme.com",
    )  # fmt: skip
    assert team["has_inbox"] is True
    assert len(team["active"]) == 1 and len(team["observers"]) == 1  # type: ignore[arg-type]
    label = _json(
        capsys, "label", "create", "Acme", "/Billing/Refunds/", "--share-with", "b@acme.com"
    )
    assert label["path"] == "Billing/Refunds"
    status, _, err = run_main(capsys, "team", "create", "Acme", "Support")
    assert status == 1 and "exists" in err
    status, _, err = run_main(capsys, "team", "create", "Acme", "X", "--active", "zed@acme.com")
    assert status == 1 and "zed@acme.com is not a member" in err


def test_reindex_rebuilds_the_rows_from_the_documents(
    in_process: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.from_env()

    async def seed_and_damage() -> Conversation:
        async with open_services(settings) as services:
            org = await services.storage.create_organization("Acme")
            user = await services.storage.create_user("a@acme.com", "A", None)
            await services.storage.add_membership(org.id, user.id, "owner")
            conv = Conversation(
                id="c1", org_id=org.id, subject="s", users={user.id: UserState(inbox=True)}
            )
            await services.conversations.create(conv)
            storage = services.storage
            async with storage.conversation_transaction("conv:c1") as tx:
                damaged = project(Conversation(id="c1", org_id=org.id, subject="wrong"))
                await tx.save_index(damaged)
            assert await storage.stored_index("c1") == ((), ())
            return conv

    conv = asyncio.run(seed_and_damage())
    assert _json(capsys, "reindex")["rebuilt"] == 1

    async def stored() -> object:
        async with open_services(settings) as services:
            return await services.storage.stored_index("c1")

    expected = project(conv)
    assert asyncio.run(stored()) == (expected.users, expected.labels)


def test_accounts_shared_with_a_team_or_users(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, "org", "create", "Acme")
    for email in ("owner@acme.com", "a@acme.com", "b@acme.com"):
        _json(capsys, "user", "create", email, "--org", "Acme")
    _json(capsys, "team", "create", "Acme", "Support", "--active", "a@acme.com")
    support = _json(
        capsys, "account", "create", "Acme", "Support@Acme.com", "--owner", "owner@acme.com",
        "--share-with", "team:Support", "--delivery", "team_inbox",
    )  # fmt: skip
    assert support["address"] == "support@acme.com" and support["team"]
    assert len(support["shared_with"]) == 1  # type: ignore[arg-type]
    sales = _json(
        capsys, "account", "create", "Acme", "sales@acme.com", "--owner", "owner@acme.com",
        "--share-with", "user:a@acme.com", "--share-with", "user:b@acme.com",
    )  # fmt: skip
    assert sales["delivery"] == "inbox" and len(sales["shared_with"]) == 2  # type: ignore[arg-type]
    status, _, err = run_main(
        capsys, "account", "create", "Acme", "x@acme.com", "--owner", "owner@acme.com",
        "--delivery", "team_inbox",
    )  # fmt: skip
    assert status == 1 and "needs --share-with team:NAME" in err
    status, _, err = run_main(
        capsys, "account", "create", "Acme", "sales@acme.com", "--owner", "owner@acme.com"
    )
    assert status == 1 and "exists" in err
