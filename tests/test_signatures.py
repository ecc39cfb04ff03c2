"""Signatures: sanitising on save (SF-5), Liquid rendered per user (TS-2), the "insert in"
rule (SG-3), plain text; and the API on both backends — who creates and edits which
(TS-1), bad input named, the limits (SF-6), a member's preview, other organizations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.identity.signatures import chosen_body, clean_style, render, sanitise, to_text
from server.responses.render import Person, TemplateError
from server.storage import signatures as signature_rows
from server.storage.base import Storage
from server.storage.signatures import SignatureRecord
from tests.fixtures.app import MadeUser, MakeUser

API = "/api/signatures"


def auth(person: MadeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


def test_negative_margins_position_and_pointer_events_go() -> None:
    dirty = '<p style="position:absolute;margin-left:-50px;color:red;margin-top:4px">Hi</p>'
    assert sanitise(dirty) == '<p style="color:red;margin-top:4px">Hi</p>'
    assert clean_style("margin: 0 -4px; pointer-events: none; font-family: Arial") == (
        "font-family: Arial"
    )
    assert clean_style("color: red; margin: 4px 0") == "color: red; margin: 4px 0"  # untouched
    assert clean_style("position: fixed") is None  # nothing left: the attribute goes


def test_tags_email_clients_do_not_support_go_and_liquid_stays() -> None:
    body = (
        '<table><tr><td><img src="{{ user.avatar_url }}" style="width: 50px;"></td>'
        "<td><b>{{ user.first_name }}</b> {% if user.last_name %}{{ user.last_name }}"
        '{% endif %}</td></tr></table><script>alert(1)</script><form><input value="x"></form>'
        '<a href="javascript:alert(1)" onclick="x()">bad</a><a href="https://acme.test">ok</a>'
    )
    clean = sanitise(body)
    assert "<script" not in clean and "alert" not in clean and "<form" not in clean
    assert "onclick" not in clean and "<input" not in clean
    assert '<img src="{{ user.avatar_url }}" style="width: 50px;">' in clean
    assert "{% if user.last_name %}{{ user.last_name }}{% endif %}" in clean
    assert '<a href="https://acme.test">ok</a>' in clean
    rich = sanitise("<table><tr><td><b>Ann</b></td></tr></table>", "richtext")
    assert rich == "<b>Ann</b>"  # the rich-text editor has no tables


def test_rendered_per_user_with_their_values_escaped() -> None:
    body = sanitise("<p>{{ user.first_name }} {{ user.last_name }} · {{ user.email }}</p>")
    assert render(body, Person("ann@acme.test", "Ann Lee")) == ("<p>Ann Lee · ann@acme.test</p>")
    sneaky = Person("x@acme.test", 'Eve <img src=x onerror="alert(1)">')
    shown = render(body, sneaky)  # the name is text, not markup
    assert "<img" not in shown and "&lt;img src=x" in shown
    assert render("{{ user.custom.employee_id }}", Person("a@acme.test", "A")) == ""
    with pytest.raises(TemplateError):
        render("{{ user.name ", Person())


@pytest.mark.parametrize(
    ("insert_in", "alt", "first", "expected"),
    [
        ("all", "short", True, "main"),
        ("all", "short", False, "main"),
        ("first", "short", True, "main"),
        ("first", "short", False, ""),
        ("first_then_alt", "short", True, "main"),
        ("first_then_alt", "short", False, "short"),
        ("first_then_alt", "", False, ""),
    ],
)
def test_insert_in(insert_in: str, alt: str, first: bool, expected: str) -> None:
    assert chosen_body(insert_in, "main", alt, first=first) == expected


def test_plain_text_keeps_links_readable() -> None:
    html = (
        '<p><b>Ann Lee</b><br>Support</p><p><a href="https://acme.test">Our site</a> | '
        '<a href="mailto:ann@acme.test">ann@acme.test</a></p><ul><li>one</li><li>two</li></ul>'
    )
    assert to_text(html) == (
        "Ann Lee\nSupport\nOur site <https://acme.test> | ann@acme.test\n- one\n- two"
    )


async def _post(client: httpx.AsyncClient, who: MadeUser, **body: Any) -> httpx.Response:
    return await client.post(API, json={"name": "Main", "body": "<p>Hi</p>", **body},
                             headers=auth(who))  # fmt: skip


async def test_who_creates_edits_and_sees_which(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("admin@acme.test", role="admin")
    member = await make_user("member@acme.test")
    other = await make_user("other@acme.test")
    refused = await _post(client, member, scope="organization")
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "scope")
    team = await _post(client, admin, scope="organization", name="Team",
                       body="<p>{{ user.name }}</p>", format="html")  # fmt: skip
    assert team.status_code == 201, team.text
    mine = await _post(client, member, insert_in="first_then_alt", alt_body="<p>-- M</p>")
    assert mine.status_code == 201 and mine.json()["signature"]["scope"] == "personal"
    team_id, mine_id = team.json()["signature"]["id"], mine.json()["signature"]["id"]

    listed = (await client.get(API, headers=auth(member))).json()["signatures"]
    assert {(s["name"], s["editable"]) for s in listed} == {("Team", False), ("Main", True)}
    assert [s["name"] for s in (await client.get(API, headers=auth(other))).json()[
        "signatures"]] == ["Team"]  # fmt: skip

    edit = await client.patch(f"{API}/{team_id}", json={"name": "X"}, headers=auth(member))
    assert edit.status_code == 403  # TS-1: a member cannot edit a managed signature
    assert (await client.delete(f"{API}/{team_id}", headers=auth(member))).status_code == 403
    assert (await client.patch(f"{API}/{mine_id}", json={"name": "Y"},
                               headers=auth(other))).status_code == 404  # fmt: skip
    renamed = await client.patch(f"{API}/{team_id}", json={"name": "Team 2"}, headers=auth(admin))
    assert renamed.json()["signature"]["name"] == "Team 2"
    edited = await client.patch(
        f"{API}/{mine_id}",
        json={"body": '<p style="position:fixed;color:red">Bye</p>'},
        headers=auth(member),
    )
    assert edited.json()["signature"]["body"] == '<p style="color:red">Bye</p>'
    assert (await client.delete(f"{API}/{mine_id}", headers=auth(member))).status_code == 204
    assert (await client.delete(f"{API}/{mine_id}", headers=auth(member))).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"body": "<p>{{ user.name </p>"}, 400, "body"),
        ({"alt_body": "{% if %}"}, 400, "alt_body"),
        ({"name": ""}, 400, "name"),
        ({"name": 7}, 400, "name"),
        ({"name": "a\nb"}, 400, "name"),
        ({"body": ""}, 400, "body"),
        ({"body": "<script>x</script>"}, 400, "body"),  # nothing left once sanitised
        ({"format": "markdown"}, 400, "format"),
        ({"insert_in": "replies"}, 400, "insert_in"),
        ({"scope": "team"}, 400, "scope"),
        ({"colour": "red"}, 400, "colour"),
    ],
)
async def test_bad_input_is_named(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    member = await make_user("member@acme.test")
    answer = await _post(client, member, **body)
    assert (answer.status_code, answer.json()["error"]["field"]) == (status, field), answer.text
    assert (await client.get(API, headers=auth(member))).json()["signatures"] == []


async def test_limits(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (signature_rows.MAX_PERSONAL, signature_rows.MAX_ORGANIZATION) == (100, 500)
    owner = await make_user("owner@acme.test", role="owner")
    for index in range(100):
        await storage.create_signature(SignatureRecord(
            "", owner.org.id, "personal", owner.user.id, f"S{index}", "richtext", "<p>x</p>",
            "all", "", owner.user.id,
        ))  # fmt: skip
    full = await _post(client, owner)
    assert (full.status_code, full.json()["error"]["field"]) == (422, "scope")
    assert "100 personal signatures" in full.json()["error"]["message"]
    monkeypatch.setattr(signature_rows, "MAX_ORGANIZATION", 1)
    assert (await _post(client, owner, scope="organization")).status_code == 201
    refused = await _post(client, owner, scope="organization")
    assert refused.status_code == 422 and "1 organization signatures" in refused.text


async def test_preview_for_a_member_and_other_organizations(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("admin@acme.test", role="admin")
    member = await make_user("jane@acme.test")
    stranger = await make_user("eve@globex.test", org="Globex", role="owner")
    created = await _post(
        client, admin, scope="organization", format="html", insert_in="first_then_alt",
        body='<p>{{ user.first_name | default: "Someone" }} · '
             '<a href="mailto:{{ user.email }}">{{ user.email }}</a></p>',
        alt_body="<p>{{ user.first_name }}</p>",
    )  # fmt: skip
    path = f"{API}/{created.json()['signature']['id']}/preview"
    preview = await client.get(f"{path}?user={member.user.id}", headers=auth(admin))
    assert preview.json()["preview"] == {
        "user": member.user.id,
        "first": {
            "html": '<p>Jane · <a href="mailto:jane@acme.test">jane@acme.test</a></p>',
            "text": "Jane · jane@acme.test",
        },
        "reply": {"html": "<p>Jane</p>", "text": "Jane"},
    }
    mine = await client.get(path, headers=auth(member))  # yourself by default
    assert mine.json()["preview"]["user"] == member.user.id
    unknown = await client.get(f"{path}?user={stranger.user.id}", headers=auth(admin))
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (400, "user")
    for method in ("GET", "PATCH", "DELETE"):
        url = path if method == "GET" else path.removesuffix("/preview")
        body = {"name": "mine"} if method == "PATCH" else None
        answer = await client.request(method, url, json=body, headers=auth(stranger))
        assert answer.status_code == 404, method
    listed = await client.get(f"{API}?organization={admin.org.id}", headers=auth(stranger))
    assert (listed.status_code, listed.json()["error"]["field"]) == (403, "organization")
