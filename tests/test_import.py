"""Importing mail: one real mbox threads by Message-ID / In-Reply-To / References, skips
duplicates, rejects what is not an email without stopping, and delivers per the account;
the HTTP import reaches live viewers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.fixtures.cli import run_main
from tests.fixtures.mail import ORDER, OTHER, REPLY, mbox
from tests.fixtures.server import LiveServer, make_person
from tests.yclient import yws


def test_tandem_import_threads_an_mbox(in_process: Path, capsys: object) -> None:
    def ok(*args: str) -> dict[str, object]:
        status, out, err = run_main(capsys, *args, "--json")  # type: ignore[arg-type]
        assert status == 0, err
        result: dict[str, object] = json.loads(out)
        return result

    ok("org", "create", "Acme")
    ok("user", "create", "owner@acme.test", "--org", "Acme")
    ok("user", "create", "agent@acme.test", "--org", "Acme")
    ok("team", "create", "Acme", "Support", "--active", "agent@acme.test")
    ok(
        "account", "create", "Acme", "support@acme.test", "--owner", "owner@acme.test",
        "--share-with", "team:Support", "--delivery", "team_inbox",
    )  # fmt: skip
    archive = in_process / "archive.mbox"
    archive.write_bytes(mbox(ORDER, REPLY, OTHER, ORDER))
    junk = in_process / "junk.eml"
    junk.write_bytes(b"\x00\x01 not a mail at all")
    result = ok("import", "support@acme.test", str(archive), str(junk))
    assert (result["imported"], result["duplicates"], result["rejected"]) == (3, 1, 1)
    assert len(result["conversations"]) == 2  # type: ignore[arg-type]
    again = ok("import", "support@acme.test", str(archive))
    assert (again["imported"], again["duplicates"]) == (0, 4)


async def test_http_import_reaches_a_live_viewer_and_the_team_inbox(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    admin = await make_person(services, "admin@acme.test")
    agent = await make_person(services, "agent@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", admin.user.id)
    team = await services.storage.create_team(admin.org.id, "Support", [agent.user.id], [], True)
    await services.storage.create_account(
        admin.org.id,
        "support@acme.test",
        admin.user.id,
        "team_inbox",
        team.id,
        [(agent.user.id, False)],
    )
    headers = {"content-type": "message/rfc822"}
    async with live_server.client(admin.token) as http:
        first = await http.post(
            "/api/admin/accounts/support@acme.test/import", content=ORDER, headers=headers
        )
        assert first.status_code == 200, first.text
        [conv_id] = first.json()["conversations"]
    async with live_server.client(agent.token) as http:
        rows = (await http.get(f"/api/mailboxes/team_inbox?team={team.id}")).json()["conversations"]
        assert [row["id"] for row in rows] == [conv_id]
    async with yws(live_server.ws, f"conv:{conv_id}", agent.token) as viewer:
        await asyncio.wait_for(viewer.synced.wait(), 5)
        async with live_server.client(admin.token) as http:
            second = await http.post(
                "/api/admin/accounts/support@acme.test/import", content=REPLY, headers=headers
            )
        assert second.json()["conversations"] == [conv_id]

        def has_two_messages() -> bool:
            return len(viewer.doc.get("messages", type=__import__("pycrdt").Array)) == 2

        await viewer.wait_for(has_two_messages)
    async with live_server.client(admin.token) as http:
        wrong = await http.post(
            "/api/admin/accounts/support@acme.test/import",
            content=b"x",
            headers={"content-type": "text/plain"},
        )
        assert wrong.status_code == 415
