"""The organization's settings through `/api/admin/organization` and `tandem org set`, on
both backends: members read, owners and admins change, bad values are named, and the
setting reaches the directory the state machine reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.actions.directory import load_directory
from server.settings import Settings
from server.storage.base import Storage
from tests.fixtures.app import MadeUser, MakeUser
from tests.fixtures.cli import tandem

ORG = "/api/admin/organization"


def auth(person: MadeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


async def test_owners_and_admins_change_the_settings_members_read_them(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    admin = await make_user("admin@acme.test", role="admin")
    member = await make_user("member@acme.test")
    read = await client.get(ORG, headers=auth(member))
    assert read.status_code == 200, read.text
    assert read.json()["organization"] == {
        "id": admin.org.id,
        "name": "Acme",
        "multi_team_delivery": "duplicate",
    }
    refused = await client.patch(ORG, json={"multi_team_delivery": "single"}, headers=auth(member))
    assert refused.status_code == 403
    changed = await client.patch(
        ORG, json={"multi_team_delivery": "single", "name": " Acme Inc "}, headers=auth(admin)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["organization"]["multi_team_delivery"] == "single"
    assert changed.json()["organization"]["name"] == "Acme Inc"
    assert (await load_directory(storage, admin.org.id)).multi_team_delivery == "single"
    assert (await client.get(ORG, headers=auth(member))).json()["organization"][
        "multi_team_delivery"
    ] == "single"


BAD = {
    "unknown-mode": ({"multi_team_delivery": "triplicate"}, "multi_team_delivery"),
    "mode-not-a-string": ({"multi_team_delivery": True}, "multi_team_delivery"),
    "empty-name": ({"name": "  "}, "name"),
    "name-not-a-string": ({"name": 7}, "name"),
    "unknown-field": ({"multi_team": "single"}, "multi_team"),
}


@pytest.mark.parametrize(("body", "field_name"), BAD.values(), ids=BAD.keys())
async def test_bad_values_are_named_and_change_nothing(
    client: httpx.AsyncClient,
    storage: Storage,
    make_user: MakeUser,
    body: dict[str, Any],
    field_name: str,
) -> None:
    owner = await make_user("owner@acme.test", role="owner")
    response = await client.patch(
        ORG, json={"multi_team_delivery": "single", **body}, headers=auth(owner)
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field_name
    assert (await storage.org_settings(owner.org.id)).multi_team_delivery == "duplicate"
    org = await storage.get_organization(owner.org.id)
    assert org is not None and org.name == "Acme"


async def test_which_organization(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    owner = await make_user("owner@acme.test", role="owner")
    other = await make_user("someone@globex.test", org="Globex", role="owner")
    await storage.add_membership(other.org.id, owner.user.id, "member")
    # the caller's first organization unless ?organization= names another
    assert (await client.get(ORG, headers=auth(owner))).json()["organization"]["name"] == "Acme"
    there = await client.get(f"{ORG}?organization={other.org.id}", headers=auth(owner))
    assert there.json()["organization"]["name"] == "Globex"
    member_there = await client.patch(
        f"{ORG}?organization={other.org.id}",
        json={"multi_team_delivery": "single"},
        headers=auth(owner),
    )
    assert member_there.status_code == 403
    stranger = await client.get(f"{ORG}?organization={owner.org.id}", headers=auth(other))
    assert stranger.status_code == 403 and stranger.json()["error"]["field"] == "organization"
    taken = await client.patch(ORG, json={"name": "Globex"}, headers=auth(owner))
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "name"
    assert (await client.get(ORG)).status_code == 401


# --- the command line, on both backends ---------------------------------------------------


async def test_tandem_org_set(
    cli_on_storage: Settings, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    status, created, err = await tandem(capsys, "org", "create", "Acme")
    assert status == 0, err
    status, result, err = await tandem(
        capsys, "org", "set", "Acme", "--multi-team-delivery", "single"
    )
    assert status == 0, err
    assert result == {
        "id": created["id"],
        "name": "Acme",
        "multi_team_delivery": "single",
        "message": "Acme: mail to several teams -> single",
    }
    assert (await storage.org_settings(created["id"])).multi_team_delivery == "single"
    status, result, err = await tandem(
        capsys, "org", "set", "Acme", "--multi-team-delivery", "duplicate", "--name", "Acme Inc"
    )
    assert status == 0, err
    assert (result["name"], result["multi_team_delivery"]) == ("Acme Inc", "duplicate")
    status, _, err = await tandem(capsys, "org", "set", "Acme Inc")
    assert status == 1 and "nothing to set" in err
    status, _, err = await tandem(capsys, "org", "set", "Nope", "--multi-team-delivery", "single")
    assert status == 1 and "no organization named 'Nope'" in err
    with pytest.raises(SystemExit) as usage:
        await tandem(capsys, "org", "set", "Acme Inc", "--multi-team-delivery", "triple")
    assert usage.value.code == 2
    assert "invalid choice: 'triple'" in capsys.readouterr().err
