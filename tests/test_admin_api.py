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
