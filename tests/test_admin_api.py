"""The admin API: members read, owners and admins write, bad input is named."""

from __future__ import annotations

from tests.fixtures.server import LiveServer, make_person


async def test_admins_manage_teams_and_labels_members_only_read(live_server: LiveServer) -> None:
    services = live_server.services
    admin = await make_person(services, "admin@acme.test")
    member = await make_person(services, "member@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", admin.user.id)
    async with live_server.client(admin.token) as http:
        created = await http.post(
            "/api/admin/teams",
            json={"name": "Support", "active": [member.user.id], "observers": [admin.user.id]},
        )
        assert created.status_code == 201, created.text
        team = created.json()["team"]
        assert team["active"] == [member.user.id] and team["observers"] == [admin.user.id]
        changed = await http.patch(
            f"/api/admin/teams/{team['id']}",
            json={"reply_assigns_replier": False, "inbound_reply_on_assigned": "team_inbox"},
        )
        assert changed.json()["team"]["inbound_reply_on_assigned"] == "team_inbox"
        assert changed.json()["team"]["reply_assigns_replier"] is False
        label = await http.post("/api/admin/labels", json={"path": "Billing/Refunds"})
        assert label.status_code == 201
        bad = await http.patch(
            f"/api/admin/teams/{team['id']}", json={"inbound_reply_on_assigned": "nowhere"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["field"] == (
            "inbound_reply_on_assigned"
        )
        stranger = await http.post(
            "/api/admin/teams", json={"name": "X", "active": ["not-a-member"]}
        )
        assert stranger.json()["error"]["field"] == "active"
    async with live_server.client(member.token) as http:
        assert [t["name"] for t in (await http.get("/api/admin/teams")).json()["teams"]] == [
            "Support"
        ]
        assert (await http.post("/api/admin/labels", json={"path": "X"})).status_code == 403


async def test_accounts_through_the_admin_api(live_server: LiveServer) -> None:
    services = live_server.services
    admin = await make_person(services, "admin@acme.test")
    member = await make_person(services, "member@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", admin.user.id)
    team = await services.storage.create_team(admin.org.id, "Support", [member.user.id], [], True)
    async with live_server.client(admin.token) as http:
        created = await http.post(
            "/api/admin/accounts",
            json={
                "address": "Support@Acme.test",
                "owner": admin.user.id,
                "delivery": "team_inbox",
                "team": team.id,
            },
        )
        assert created.status_code == 201, created.text
        account = created.json()["account"]
        assert account["address"] == "support@acme.test"
        assert account["shared_with"] == [{"user": member.user.id, "auto_archive": False}]
        no_team = await http.post(
            "/api/admin/accounts",
            json={"address": "x@acme.test", "owner": admin.user.id, "delivery": "team_inbox"},
        )
        assert no_team.json()["error"]["field"] == "team"
        duplicate = await http.post(
            "/api/admin/accounts", json={"address": "support@acme.test", "owner": admin.user.id}
        )
        assert duplicate.status_code == 409
    async with live_server.client(member.token) as http:
        listed = (await http.get("/api/admin/accounts")).json()["accounts"]
        assert [a["address"] for a in listed] == ["support@acme.test"]
        refused = await http.post(
            "/api/admin/accounts", json={"address": "y@acme.test", "owner": member.user.id}
        )
        assert refused.status_code == 403
