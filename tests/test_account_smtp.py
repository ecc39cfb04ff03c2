"""Accounts with an outgoing server: settings checked and named before anything is stored,
the password sealed at rest (never in the database in clear, never in an answer), and the
stored account able to deliver to a real SMTP server."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from server.actions import smtp_accounts
from server.sealing import SealError, seal, unseal
from server.storage.base import Storage
from sync.compose import Mailbox, Outgoing, build
from sync.smtp import deliver
from tests.fixtures.cli import run_main
from tests.fixtures.server import LiveServer, make_person
from tests.fixtures.smtp import PASSWORD, USERNAME, SmtpFixture


def test_sealing_round_trips_and_binds_the_account() -> None:
    sealed = seal("key-1", "hunter2", "acc-1")
    assert b"hunter2" not in sealed and unseal("key-1", sealed, "acc-1") == "hunter2"
    assert seal("key-1", "hunter2", "acc-1") != sealed  # a fresh nonce every time
    for key, account in (("key-2", "acc-1"), ("key-1", "acc-2")):
        with pytest.raises(SealError):
            unseal(key, sealed, account)
    with pytest.raises(SealError):
        unseal("key-1", sealed[:-1] + bytes([sealed[-1] ^ 1]), "acc-1")


async def _owner(live: LiveServer) -> Any:
    owner = await make_person(live.services, "owner@acme.test")
    async with live.services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", owner.user.id)
    return owner


@pytest.mark.parametrize(
    ("smtp", "field"),
    [
        ({"host": "smtp.example.com", "port": 25, "security": "none"}, "smtp.security"),
        ({"host": "smtp.example.com", "port": 70000, "security": "tls"}, "smtp.port"),
        ({"host": "smtp example.com", "port": 465, "security": "tls"}, "smtp.host"),
        ({"host": "smtp.example.com", "port": 465, "security": "ssl"}, "smtp.security"),
        ({"host": "smtp.example.com", "port": "465"}, "smtp.port"),
        ({"host": "smtp.example.com", "port": 465, "username": "u"}, "smtp.password"),
        ({"host": "smtp.example.com", "port": 465, "pasword": "typo"}, "smtp"),
    ],
)
async def test_bad_smtp_settings_are_named_and_nothing_is_created(
    live_server: LiveServer, smtp: dict[str, Any], field: str
) -> None:
    owner = await _owner(live_server)
    async with live_server.client(owner.token) as http:
        answer = await http.post(
            "/api/admin/accounts",
            json={"address": "support@acme.test", "owner": owner.user.id, "smtp": smtp},
        )
        assert (answer.status_code, answer.json()["error"]["field"]) == (400, field)
        assert (await http.get("/api/admin/accounts")).json()["accounts"] == []


async def test_an_account_with_smtp_delivers_and_keeps_its_password_sealed(
    live_server: LiveServer, smtp_server: SmtpFixture
) -> None:
    owner = await _owner(live_server)
    services = live_server.services
    settings = {"host": smtp_server.host, "port": smtp_server.port, "security": "starttls",
                "username": USERNAME, "password": PASSWORD}  # fmt: skip
    async with live_server.client(owner.token) as http:
        created = await http.post(
            "/api/admin/accounts",
            json={"address": "support@acme.test", "owner": owner.user.id, "smtp": settings},
        )
    assert created.status_code == 201, created.text
    assert PASSWORD not in created.text
    assert created.json()["account"]["smtp"]["port"] == smtp_server.port
    async with cast(Any, services.storage).db.transaction(readonly=True) as tx:
        row = await tx.fetchone("SELECT password_sealed FROM account_smtp")
    assert PASSWORD.encode() not in bytes(row[0])
    [account] = await services.storage.accounts_by_address("support@acme.test")
    server = await smtp_accounts.server_for(services.storage, services.settings, account)
    assert server is not None and server.password == PASSWORD
    raw = build(
        Outgoing(
            message_id="first@acme.test", sender=Mailbox("support@acme.test"),
            to=[Mailbox("carla@example.com")], subject="Hello", text="Hi\n",
            html="<p>Hi</p>", date=datetime(2026, 11, 26, tzinfo=UTC),
        )
    )  # fmt: skip
    trusted = dataclasses.replace(server, tls_context=smtp_server.client_tls)
    result = await deliver(trusted, "support@acme.test", ["carla@example.com"], raw)
    assert result.outcome == "sent" and smtp_server.sink.received[0].data == raw


def test_the_command_line_sets_smtp_and_refuses_plain_smtp_to_a_remote_host(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        return run_main(capsys, *args, "--json")

    assert run("org", "create", "Acme")[0] == 0
    assert run("user", "create", "owner@acme.test", "--org", "Acme")[0] == 0
    status, _, err = run(
        "account", "create", "Acme", "support@acme.test", "--owner", "owner@acme.test",
        "--smtp-host", "smtp.example.com", "--smtp-security", "none",
    )  # fmt: skip
    assert status != 0 and "--smtp-security" in err
    status, out, err = run(
        "account", "create", "Acme", "support@acme.test", "--owner", "owner@acme.test",
        "--smtp-host", "smtp.example.com", "--smtp-port", "465", "--smtp-security", "tls",
        "--smtp-username", "support@acme.test", "--smtp-password", "s3cret",
    )  # fmt: skip
    assert status == 0, err
    assert json.loads(out)["smtp"] == "smtp.example.com:465 (tls)" and "s3cret" not in out


async def test_storage_keeps_what_it_is_given(storage: Storage) -> None:
    from server.storage.mail import StoredSmtp

    org = await storage.create_organization("Acme")
    account = await storage.create_account(org.id, "a@acme.test", None, "inbox", None, [])
    assert await storage.account_smtp(account.id) is None
    first = StoredSmtp("smtp.acme.test", 587, "starttls", "a", b"\x01sealed")
    await storage.set_account_smtp(account.id, first)
    second = dataclasses.replace(first, port=465, security="tls")
    await storage.set_account_smtp(account.id, second)  # replaces, one row per account
    assert await storage.account_smtp(account.id) == second
