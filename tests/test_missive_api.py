"""The Missive-compatible read API over what the server holds."""

from __future__ import annotations

from tests.fixtures.mail import ORDER, REPLY
from tests.fixtures.server import LiveServer, make_person


async def test_missive_shapes_for_organizations_users_teams_labels_and_conversations(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    team = await services.storage.create_team(alice.org.id, "Support", [bob.user.id], [], True)
    await services.storage.create_label(alice.org.id, "Invoices/Heroku", [])
    await services.storage.create_account(
        alice.org.id,
        "support@acme.test",
        alice.user.id,
        "team_inbox",
        team.id,
        [(bob.user.id, False)],
    )
    async with live_server.client(alice.token) as http:
        for raw in (ORDER, REPLY):
            await http.post(
                "/api/admin/accounts/support@acme.test/import",
                content=raw,
                headers={"content-type": "message/rfc822"},
            )
    async with live_server.client(bob.token) as http:
        orgs = (await http.get("/v1/organizations")).json()["organizations"]
        assert orgs == [{"id": alice.org.id, "name": "Acme"}]
        users = (await http.get("/v1/users")).json()["users"]
        assert [(u["email"], u["me"]) for u in users] == [
            ("alice@acme.test", False),
            ("bob@acme.test", True),
        ]
        teams = (await http.get("/v1/teams")).json()["teams"]
        assert teams[0]["active_members"] == [bob.user.id]
        labels = (await http.get("/v1/shared_labels")).json()["shared_labels"]
        assert (
            labels[0]["name"] == "Heroku"
            and labels[0]["name_with_parent_names"] == "Invoices/Heroku"
        )
        missing = await http.get("/v1/conversations")
        assert missing.status_code == 400
        assert missing.json()["error"]["message"] == "You need to paginate at least one mailbox"
        listed = (await http.get(f"/v1/conversations?team_inbox={team.id}")).json()["conversations"]
        assert len(listed) == 1
        conv = listed[0]
        assert conv["messages_count"] == 2
        assert conv["team"] == {"id": team.id, "name": "Support", "organization": alice.org.id}
        assert conv["latest_message_subject"] == "Re: Where is my order?"
        one = (await http.get(f"/v1/conversations/{conv['id']}")).json()["conversations"]
        assert [c["id"] for c in one] == [conv["id"]]
        messages = (await http.get(f"/v1/conversations/{conv['id']}/messages")).json()["messages"]
        assert [m["subject"] for m in messages] == ["Re: Where is my order?", "Where is my order?"]
        assert (await http.get("/v1/conversations/nope")).status_code == 404
