"""The Missive-compatible write API: posts, PATCH conversations, shared labels and teams.

The pure part (posts and the modifying parameters in the state machine) needs no
database; the HTTP part runs a real server on SQLite and PostgreSQL and reads every effect
back through both `GET /v1/conversations/:id` and the web API's
`GET /api/conversations/{id}`. Bad input is named and changes nothing."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.conversations.machine_modify import Changes, apply_changes
from server.conversations.machine_posts import add_post, delete_post
from server.conversations.model import Post
from server.errors import Forbidden, InvalidInput, NotFound
from tests.fixtures.machine import DIRECTORY, NOW, looks, make
from tests.fixtures.mail import ORDER
from tests.fixtures.server import LiveServer, Person, make_person

# --- the state machine -------------------------------------------------------------------


def _post(author: str = "alice", *, notify: bool = True, at: int = NOW) -> Post:
    note = {"title": "Payment", "body": "$12"} if notify else None
    return Post(f"p{at}", author, at, text="Payment received", notification=note)


def test_a_post_is_unread_for_everyone_and_brings_its_watchers_back() -> None:
    conv = make({"alice": "", "bob": "watching", "carol": "", "dave": "watching trashed"})
    add_post(conv, "alice", post=_post(), now=NOW, directory=DIRECTORY)
    assert looks(conv, "alice") == "archived unread"  # an integration wrote it, not alice
    assert looks(conv, "bob") == "inbox unread watching"
    assert looks(conv, "carol") == "archived unread"
    assert looks(conv, "dave") == "trash unread watching"  # their Trash stays theirs
    assert conv.last_activity_at == NOW


def test_a_post_without_a_notification_moves_no_inbox() -> None:
    conv = make({"alice": "", "bob": "watching"})
    add_post(conv, "alice", post=_post(notify=False), now=NOW, directory=DIRECTORY)
    assert looks(conv, "bob") == "archived unread watching"


def test_a_post_reopens_a_closed_conversation_unless_told_not_to() -> None:
    kept = make({"alice": "", "bob": ""}, status="closed", assignees=["bob"])
    apply_changes(kept, "alice", Changes(reopen=False), post=_post(), now=NOW, directory=DIRECTORY)
    assert kept.status == "closed"
    reopened = make({"alice": "", "bob": ""}, status="closed", assignees=["bob"])
    apply_changes(reopened, "alice", Changes(), post=_post(), now=NOW, directory=DIRECTORY)
    assert reopened.status == "open"
    assert looks(reopened, "bob").startswith("inbox")  # reopening summons the assignees
    silent = make({"alice": ""}, status="closed")
    apply_changes(silent, "alice", Changes(), now=NOW, directory=DIRECTORY)  # a PATCH
    assert silent.status == "closed"


def test_team_links_without_the_team_inbox_and_force_team_replaces_it() -> None:
    conv = make({"alice": "inbox"})
    apply_changes(conv, "alice", Changes(team="support"), now=NOW, directory=DIRECTORY)
    assert (conv.team, conv.in_team_inbox) == ("support", False)
    assert {"bob", "carol", "olga"} <= set(conv.users)  # the team's members see it in its All
    apply_changes(conv, "alice", Changes(team="sales"), now=NOW, directory=DIRECTORY)
    assert conv.team == "support"  # ignored: it is in a team already
    changes = Changes(team="sales", force_team=True, add_to_team_inbox=True)
    apply_changes(conv, "alice", changes, now=NOW, directory=DIRECTORY)
    assert (conv.team, conv.in_team_inbox) == ("sales", True)
    assert [e.type for e in conv.events] == ["moved", "moved"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (Changes(add_users=("nobody",)), "add_users"),
        (Changes(add_assignees=("bob",), remove_assignees=("bob",)), "remove_assignees"),
        (Changes(add_shared_labels=("someone-elses",)), "add_shared_labels"),
        (Changes(team="nowhere"), "team"),
        (Changes(add_to_team_inbox=True), "add_to_team_inbox"),
        (Changes(close=True, reopen=True), "reopen"),
        (Changes(color="blue"), "color"),
        (Changes(subject="  "), "subject"),
    ],
)
def test_refused_changes_change_nothing(changes: Changes, field: str) -> None:
    conv = make({"alice": "inbox", "bob": ""}, status="closed")
    before = copy.deepcopy(conv)
    with pytest.raises(InvalidInput) as refused:
        apply_changes(conv, "alice", changes, post=_post(), now=NOW, directory=DIRECTORY)
    assert refused.value.field == field
    assert conv == before


def test_who_deletes_a_post() -> None:
    shared = make({"alice": "", "bob": ""})
    add_post(shared, "alice", post=_post(), now=NOW, directory=DIRECTORY)
    with pytest.raises(Forbidden):
        delete_post(shared, "alice", post=f"p{NOW}", now=NOW, directory=DIRECTORY)
    shared.users["erin"] = copy.deepcopy(shared.users["bob"])  # an admin with access
    delete_post(shared, "erin", post=f"p{NOW}", now=NOW, directory=DIRECTORY)
    gone = shared.posts[0]
    assert gone.deleted and gone.text == "" and gone.notification is None
    with pytest.raises(NotFound):
        delete_post(shared, "erin", post=f"p{NOW}", now=NOW, directory=DIRECTORY)
    private = make({"bob": ""})
    add_post(private, "bob", post=_post("bob"), now=NOW, directory=DIRECTORY)
    delete_post(private, "bob", post=f"p{NOW}", now=NOW, directory=DIRECTORY)
    assert private.posts[0].deleted


# --- over HTTP, on both backends ---------------------------------------------------------


@dataclass
class World:
    live: LiveServer
    alice: Person  # owner
    bob: Person
    carol: Person
    mallory: Person  # another organization
    support: str  # team: bob active, carol observer
    sales: str  # team: carol active
    billing: str  # label
    vip: str  # label
    foreign_label: str  # a label of mallory's organization

    def http(self, who: Person) -> httpx.AsyncClient:
        return self.live.client(who.token)


async def _world(live: LiveServer) -> World:
    storage = live.services.storage
    alice = await make_person(live.services, "alice@acme.test")
    bob = await make_person(live.services, "bob@acme.test")
    carol = await make_person(live.services, "carol@acme.test")
    mallory = await make_person(live.services, "mallory@other.test", org_name="Other")
    async with storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", alice.user.id)
    org = alice.org.id
    support = await storage.create_team(org, "Support", [bob.user.id], [carol.user.id], True)
    sales = await storage.create_team(org, "Sales", [carol.user.id], [], True)
    billing = await storage.create_label(org, "Billing", [])
    vip = await storage.create_label(org, "VIP", [])
    foreign = await storage.create_label(mallory.org.id, "Secret", [])
    return World(live, alice, bob, carol, mallory, support.id, sales.id, billing.id, vip.id,
                 foreign.id)  # fmt: skip


async def _post_it(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"notification": {"title": "Order 7", "body": "paid"}, "text": "Paid", **fields}
    return await http.post("/v1/posts", json={"posts": body})


async def _v1(http: httpx.AsyncClient, conv: str) -> dict[str, Any]:
    response = await http.get(f"/v1/conversations/{conv}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["conversations"][0]
    return found


async def _web(http: httpx.AsyncClient, conv: str) -> dict[str, Any]:
    response = await http.get(f"/api/conversations/{conv}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["conversation"]
    return found


async def _listed(http: httpx.AsyncClient, query: str) -> list[str]:
    response = await http.get(f"/v1/conversations?{query}")
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


async def test_a_post_starts_a_conversation_and_later_posts_thread_onto_it(
    live_server: LiveServer,
) -> None:
    w = await _world(live_server)
    a, b = w.alice.user.id, w.bob.user.id
    async with w.http(w.alice) as http:
        first = await _post_it(
            http,
            organization=w.alice.org.id,
            add_users=[b],
            references=["<order-7@shop.test>"],
            username="Shop",
            attachments=[{"title": "Order 7", "color": "good", "timestamp": 1_700_000_000,
                          "fields": [{"title": "Total", "value": "$12", "short": True}]}],
        )  # fmt: skip
        assert first.status_code == 201, first.text
        conv = first.json()["posts"]["conversation"]
        again = await _post_it(http, references=["order-7@shop.test"], text="Shipped")
        assert again.json()["posts"]["conversation"] == conv  # chevrons are optional
        direct = await _post_it(http, conversation=conv, text=None, markdown="**Delivered**")
        assert direct.json()["posts"]["conversation"] == conv
        other = await _post_it(http, references=["order-8@shop.test"])
        assert other.json()["posts"]["conversation"] != conv
        v1 = await _v1(http, conv)
        assert [u["id"] for u in v1["users"]] == sorted([a, b])
        assert v1["subject"] is None  # the notification's title is a subject, not a custom one
        web = await _web(http, conv)
        assert web["subject"] == "Order 7"
        assert web["users"][a]["inbox"] and web["users"][a]["unread"]
        posts = (await http.get(f"/v1/conversations/{conv}/posts")).json()["posts"]
        assert [p["text"] or p["markdown"] for p in posts] == ["**Delivered**", "Shipped", "Paid"]
        assert posts[-1]["username"] == "Shop"
        assert posts[-1]["attachments"][0]["fields"][0]["short"] is True
        assert conv in await _listed(http, "inbox=true")
    async with w.http(w.bob) as http:
        web = await _web(http, conv)
        assert web["users"][b]["inbox"] and web["users"][b]["unread"]  # add_users invites
        rows = (await http.get("/api/mailboxes/inbox")).json()["conversations"]
        assert rows[0]["preview"] == "**Delivered**"


async def test_a_reference_finds_the_conversation_of_an_email(live_server: LiveServer) -> None:
    w = await _world(live_server)
    await live_server.services.storage.create_account(
        w.alice.org.id, "support@acme.test", w.alice.user.id, "inbox", None, []
    )
    async with w.http(w.alice) as http:
        imported = await http.post(
            "/api/admin/accounts/support@acme.test/import",
            content=ORDER,
            headers={"content-type": "message/rfc822"},
        )
        [conv] = imported.json()["conversations"]
        posted = await _post_it(http, references=["order-1@example.com"])
        assert posted.json()["posts"]["conversation"] == conv
        v1 = await _v1(http, conv)
        assert v1["messages_count"] == 1 and v1["latest_message_subject"] == "Where is my order?"
    async with w.http(w.bob) as http:  # bob cannot see it: his post starts a new one
        posted = await _post_it(http, references=["order-1@example.com"])
        assert posted.json()["posts"]["conversation"] != conv


async def test_each_parameter_of_a_post_leaves_its_trace(live_server: LiveServer) -> None:
    w = await _world(live_server)
    a, b, c = w.alice.user.id, w.bob.user.id, w.carol.user.id
    org = w.alice.org.id
    async with w.http(w.alice) as http, w.http(w.bob) as as_bob:  # bob is in Support
        created = await _post_it(
            http,
            organization=org,
            team=w.support,
            add_assignees=[b],
            conversation_subject="Order 7 (paid)",
            conversation_color="#2266ED",
            add_shared_labels=[w.billing, w.vip],
        )
        assert created.status_code == 201, created.text
        conv = created.json()["posts"]["conversation"]
        v1 = await _v1(http, conv)
        assert v1["subject"] == "Order 7 (paid)" and v1["color"] == "#2266ED"
        assert v1["team"]["id"] == w.support
        assert [x["id"] for x in v1["assignees"]] == [b]
        assert sorted(x["name"] for x in v1["shared_labels"]) == ["Billing", "VIP"]
        web = await _web(http, conv)
        assert web["team"] == w.support and not web["users"][c]["team_inbox"]  # linked only
        assert web["users"][b]["inbox"] and web["users"][b]["watching"]  # assigned
        assert conv in await _listed(as_bob, f"team_all={w.support}")

        moved = await _post_it(
            http,
            conversation=conv,
            organization=org,
            remove_assignees=[b],
            remove_shared_labels=[w.billing],
            team=w.support,
            add_to_team_inbox=True,
        )
        assert moved.status_code == 201, moved.text
        v1 = await _v1(http, conv)
        assert v1["assignees"] == [] and [x["name"] for x in v1["shared_labels"]] == ["VIP"]
        web = await _web(http, conv)
        assert web["users"][b]["team_inbox"] and web["users"][c]["team_inbox"]
        assert conv in await _listed(as_bob, f"team_inbox={w.support}")

        assert (await _post_it(http, conversation=conv, close=True)).status_code == 201
        assert (await _v1(http, conv))["users"][0]["closed"] is True
        assert (await _web(http, conv))["status"] == "closed"
        assert conv in await _listed(as_bob, f"team_closed={w.support}")
        assert conv in await _listed(as_bob, f"team_all={w.support}")
        assert conv not in await _listed(as_bob, f"team_inbox={w.support}")

        await _post_it(http, conversation=conv, reopen=False)
        assert (await _web(http, conv))["status"] == "closed"
        await _post_it(http, conversation=conv)
        assert (await _web(http, conv))["status"] == "open"  # a post reopens by default
        assert conv not in await _listed(as_bob, f"team_closed={w.support}")

    async with w.http(w.bob) as http:
        archived = await http.post(
            f"/api/conversations/{conv}/commands", json={"command": "archive"}
        )
        assert archived.status_code == 200
        assert not (await _web(http, conv))["users"][b]["inbox"]
    async with w.http(w.alice) as http:
        assert (await _post_it(http, conversation=conv, add_to_inbox=True)).status_code == 201
        assert (await _web(http, conv))["users"][b]["inbox"]
        forced = await _post_it(http, conversation=conv, team=w.sales, force_team=True)
        assert forced.status_code == 201
        assert (await _v1(http, conv))["team"]["id"] == w.sales
        posts = (await http.get(f"/v1/conversations/{conv}/posts?limit=10")).json()["posts"]
        assert len(posts) == 7  # every change came with its card
    assert a in (await live_server.services.conversations.read(conv)).users


async def test_patch_changes_several_conversations_silently_and_atomically(
    live_server: LiveServer,
) -> None:
    w = await _world(live_server)
    org = w.alice.org.id
    async with w.http(w.alice) as http:
        one = (await _post_it(http)).json()["posts"]["conversation"]
        two = (await _post_it(http)).json()["posts"]["conversation"]
        patched = await http.patch(
            f"/v1/conversations/{one},{two}",
            json={
                "conversations": [
                    {"id": one, "subject": "Renamed", "close": True},
                    {"id": two, "color": "danger", "organization": org,
                     "add_shared_labels": [w.vip], "add_users": [w.bob.user.id]},
                ]
            },
        )  # fmt: skip
        assert patched.status_code == 200, patched.text
        answer = {c["id"]: c for c in patched.json()["conversations"]}
        assert answer[one]["subject"] == "Renamed" and answer[one]["users"][0]["closed"]
        assert answer[two]["color"] == "danger" and answer[two]["shared_labels"][0]["id"] == w.vip
        assert (await _web(http, one))["status"] == "closed"
        assert w.bob.user.id in (await _web(http, two))["users"]
        posts = (await http.get(f"/v1/conversations/{one}/posts")).json()["posts"]
        assert len(posts) == 1  # a PATCH adds no post

        before = [await live_server.services.storage.load_document(f"conv:{c}") for c in (one, two)]
        refused = await http.patch(
            f"/v1/conversations/{one},{two}",
            json={
                "conversations": [
                    {"id": one, "reopen": True},
                    {"id": two, "organization": org, "add_shared_labels": [w.foreign_label]},
                ]
            },
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == "conversations[1].add_shared_labels"
        rooms = (await http.get("/api/rooms")).json()["rooms"]
        room = rooms[0]["id"]
        rollback = await http.patch(
            f"/v1/conversations/{one},{room}",
            json={"conversations": [{"id": one, "reopen": True}, {"id": room, "close": True}]},
        )
        assert rollback.status_code == 422  # refused by the machine mid-way: nothing stays
        after = [await live_server.services.storage.load_document(f"conv:{c}") for c in (one, two)]
        assert [s.updates for s in after] == [s.updates for s in before]
        assert (await _web(http, one))["status"] == "closed"


PATCH_REFUSALS: list[tuple[str, Any, int, str | None]] = [
    ("not-an-envelope", {"conversations": {"id": "x"}}, 400, "conversations"),
    ("id-not-in-path", [{"id": "elsewhere"}], 400, "conversations[0].id"),
    ("bad-type", [{"id": "{conv}", "close": "yes"}], 400, "conversations[0].close"),
    ("no-organization", [{"id": "{conv}", "add_assignees": ["{bob}"]}], 400,
     "conversations[0].organization"),
    ("unknown-user", [{"id": "{conv}", "organization": "{org}", "add_users": ["nobody"]}], 400,
     "conversations[0].add_users"),
    ("other-organization", [{"id": "{conv}", "organization": "{other}"}], 403,
     "conversations[0].organization"),
    ("unknown-field", [{"id": "{conv}", "archive": True}], 400, "conversations[0].archive"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("items", "status", "field"), [pytest.param(*c[1:], id=c[0]) for c in PATCH_REFUSALS]
)
async def test_bad_patches_are_named_and_change_nothing(
    live_server: LiveServer, items: Any, status: int, field: str | None
) -> None:
    w = await _world(live_server)
    async with w.http(w.alice) as http:
        conv = (await _post_it(http)).json()["posts"]["conversation"]
        names = {"conv": conv, "bob": w.bob.user.id, "org": w.alice.org.id,
                 "other": w.mallory.org.id}  # fmt: skip
        body = _fill(items if isinstance(items, dict) else {"conversations": items}, names)
        before = await live_server.services.storage.load_document(f"conv:{conv}")
        response = await http.patch(f"/v1/conversations/{conv}", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"].get("field") == field
    after = await live_server.services.storage.load_document(f"conv:{conv}")
    assert after.updates == before.updates


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


POST_REFUSALS: list[tuple[str, Any, int, str]] = [
    ("not-an-envelope", "text", 400, "posts"),
    ("no-content", {"notification": {"title": "t", "body": "b"}}, 400, "posts.text"),
    ("no-organization", {"text": "x", "add_users": ["{bob}"]}, 400, "posts.organization"),
    ("unknown-user", {"text": "x", "organization": "{org}", "add_assignees": ["nobody"]}, 400,
     "posts.add_assignees"),
    ("label-of-another-org", {"text": "x", "organization": "{org}",
                              "add_shared_labels": ["{foreign}"]}, 400, "posts.add_shared_labels"),
    ("ids-not-a-list", {"text": "x", "organization": "{org}", "add_users": "{bob}"}, 400,
     "posts.add_users"),
    ("unknown-conversation", {"text": "x", "conversation": "nope"}, 400, "posts.conversation"),
    ("bad-color", {"text": "x", "conversation_color": "blue"}, 400, "posts.conversation_color"),
    ("unknown-team", {"text": "x", "team": "nope"}, 400, "posts.team"),
    ("team-inbox-without-team", {"text": "x", "add_to_team_inbox": True}, 400,
     "posts.add_to_team_inbox"),
    ("close-and-reopen", {"text": "x", "close": True, "reopen": True}, 400, "posts.reopen"),
    ("unknown-field", {"text": "x", "colour": "red"}, 400, "posts.colour"),
    ("card-fields", {"attachments": [{"title": "t", "fields": "x"}]}, 400,
     "posts.attachments[0].fields"),
    ("notification-type", {"text": "x", "notification": "hi"}, 400, "posts.notification"),
    ("future", {"text": "x", "created_at": 4_000_000_000}, 400, "posts.created_at"),
    ("not-my-organization", {"text": "x", "organization": "{other}"}, 403, "posts.organization"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("post", "status", "field"), [pytest.param(*c[1:], id=c[0]) for c in POST_REFUSALS]
)
async def test_bad_posts_are_named_and_change_nothing(
    live_server: LiveServer, post: Any, status: int, field: str
) -> None:
    w = await _world(live_server)
    names = {"bob": w.bob.user.id, "org": w.alice.org.id, "other": w.mallory.org.id,
             "foreign": w.foreign_label}  # fmt: skip
    async with w.http(w.alice) as http:
        conv = (await _post_it(http)).json()["posts"]["conversation"]
        before = await live_server.services.storage.load_document(f"conv:{conv}")
        targeted = {**post, "conversation": post.get("conversation", conv)} if isinstance(
            post, dict) else post  # fmt: skip
        for body in (post, targeted):  # starting a conversation, and into one
            response = await http.post("/v1/posts", json={"posts": _fill(body, names)})
            assert response.status_code == status, response.text
            assert response.json()["error"]["field"] == field
        assert await _listed(http, "all=true") == [conv]  # no conversation was started
    after = await live_server.services.storage.load_document(f"conv:{conv}")
    assert after.updates == before.updates


async def test_who_may_see_change_and_delete_posts(live_server: LiveServer) -> None:
    w = await _world(live_server)
    async with w.http(w.alice) as http:
        made = (await _post_it(http, organization=w.alice.org.id, add_users=[w.bob.user.id])).json()
        post, conv = made["posts"]["id"], made["posts"]["conversation"]
    for outsider in (w.mallory, w.carol):  # another organization; same one without access
        async with w.http(outsider) as http:
            assert (await http.get(f"/v1/conversations/{conv}/posts")).status_code == 404
            patched = await http.patch(
                f"/v1/conversations/{conv}", json={"conversations": [{"id": conv, "close": True}]}
            )
            assert patched.status_code == 404
            into = await _post_it(http, conversation=conv)
            assert into.status_code == 400 and into.json()["error"]["field"] == "posts.conversation"
            assert (await http.delete(f"/v1/posts/{post}")).status_code == 404
    async with w.http(w.bob) as http:
        assert (await http.delete(f"/v1/posts/{post}")).status_code == 403  # shared: admins only
        own = (await _post_it(http)).json()["posts"]  # private to bob
        assert (await http.delete(f"/v1/posts/{own['id']}")).status_code == 204
    async with w.http(w.alice) as http:
        assert (await http.delete(f"/v1/posts/{post}")).status_code == 204
        assert (await http.delete(f"/v1/posts/{post}")).status_code == 404
        assert (await http.get(f"/v1/conversations/{conv}/posts")).json()["posts"] == []
        assert (await _web(http, conv))["status"] == "open"  # what it changed stays


async def test_shared_labels_members_create_and_rename_admins_share(
    live_server: LiveServer,
) -> None:
    w = await _world(live_server)
    org, storage = w.alice.org.id, live_server.services.storage
    async with w.http(w.bob) as http:
        made = await http.post(
            "/v1/shared_labels",
            json={"shared_labels": [
                {"name": "Invoices", "organization": org, "color": "#FF0000"},
            ]},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        invoices = made.json()["shared_labels"][0]
        assert (invoices["name"], invoices["color"], invoices["parent"]) == (
            "Invoices",
            "#FF0000",
            None,
        )
        nested = await http.post(
            "/v1/shared_labels",
            json={
                "shared_labels": [{"name": "Heroku", "organization": org, "parent": invoices["id"]}]
            },
        )
        heroku = nested.json()["shared_labels"][0]
        assert heroku["name_with_parent_names"] == "Invoices/Heroku"
        assert heroku["parent"] == invoices["id"]
        sharing = await http.post(
            "/v1/shared_labels",
            json={"shared_labels": [{"name": "Mine", "organization": org,
                                     "share_with_users": [w.bob.user.id]}]},
        )  # fmt: skip
        assert sharing.status_code == 403
        assert sharing.json()["error"]["field"] == "shared_labels[0].share_with_users"
        renamed = await http.patch(
            f"/v1/shared_labels/{invoices['id']}",
            json={
                "shared_labels": [
                    {"id": invoices["id"], "name": "Bills", "color": None, "share_with_users": []}
                ]
            },
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["shared_labels"][0]["color"] is None
        paths = sorted(label.path for label in await storage.labels(org))
        assert paths == ["Billing", "Bills", "Bills/Heroku", "VIP"]  # the child moved along
        before = await storage.labels(org)
        for body, status, field in (
            ([{"id": heroku["id"], "name": "VIP", "parent": None}], 409, "shared_labels[0].name"),
            ([{"id": invoices["id"], "parent": heroku["id"]}], 400, "shared_labels[0].parent"),
            ([{"id": invoices["id"], "share_with_organization": True}], 400,
             "shared_labels[0].share_with_organization"),
            ([{"id": invoices["id"], "name": "a/b"}], 400, "shared_labels[0].name"),
        ):  # fmt: skip
            response = await http.patch(
                f"/v1/shared_labels/{body[0]['id']}", json={"shared_labels": body}
            )
            assert (response.status_code, response.json()["error"]["field"]) == (status, field)
        assert await storage.labels(org) == before
    async with w.http(w.alice) as http:
        shared = await http.patch(
            f"/v1/shared_labels/{heroku['id']}",
            json={"shared_labels": [{"id": heroku["id"], "parent": None,
                                     "share_with_users": [w.carol.user.id]}]},
        )  # fmt: skip
        assert shared.status_code == 200, shared.text
        assert shared.json()["shared_labels"][0]["share_with_users"] == [w.carol.user.id]
        listed = (await http.get("/v1/shared_labels")).json()["shared_labels"]
        assert "Heroku" in [label["name_with_parent_names"] for label in listed]
        conv = (await _post_it(http, organization=org, add_shared_labels=[heroku["id"]])).json()
        assert w.carol.user.id in (await _web(http, conv["posts"]["conversation"]))["users"]
    async with w.http(w.mallory) as http:
        foreign = await http.patch(
            f"/v1/shared_labels/{heroku['id']}",
            json={"shared_labels": [{"id": heroku["id"], "name": "Mine now"}]},
        )
        assert foreign.status_code == 404
        not_member = await http.post(
            "/v1/shared_labels", json={"shared_labels": [{"name": "X", "organization": org}]}
        )
        assert not_member.status_code == 403


async def test_teams_are_created_and_changed_by_owners_and_admins(live_server: LiveServer) -> None:
    w = await _world(live_server)
    org, b, c = w.alice.org.id, w.bob.user.id, w.carol.user.id
    team = {"name": "Billing", "organization": org, "emoji": ":dart:", "color": "#2266ED",
            "active_members": [b], "observers": [c], "team_inbox_enabled": True,
            "team_mention_behavior": "all_members", "user_reply_behavior": "leave_in_team_inbox",
            "received_reply_behavior": "show_in_team_inbox"}  # fmt: skip
    async with w.http(w.bob) as http:
        refused = await http.post("/v1/teams", json={"teams": [team]})
        assert refused.status_code == 403
    async with w.http(w.alice) as http:
        made = await http.post("/v1/teams", json={"teams": [team]})
        assert made.status_code == 201, made.text
        created = made.json()["teams"][0]
        assert {k: created[k] for k in team} == team
        admin = (await http.get("/api/admin/teams")).json()["teams"]
        ours = next(t for t in admin if t["id"] == created["id"])
        assert ours["mention_adds_observers"] and not ours["reply_assigns_replier"]
        assert ours["inbound_reply_on_assigned"] == "team_inbox"
        teams_before = await live_server.services.storage.teams(org)
        for body, status, field in (
            ({**team, "name": "Support"}, 409, "teams[0].name"),
            ({**team, "business_hours": {"tz": "UTC"}}, 400, "teams[0].business_hours"),
            ({**team, "observers": [b]}, 400, "teams[0].observers"),
            ({**team, "active_members": ["nobody"]}, 400, "teams[0].active_members"),
            ({**team, "user_reply_behavior": "shout"}, 400, "teams[0].user_reply_behavior"),
            ({**team, "organization": w.mallory.org.id}, 403, "teams[0].organization"),
        ):
            response = await http.post("/v1/teams", json={"teams": [body]})
            assert (response.status_code, response.json()["error"]["field"]) == (status, field)
        assert await live_server.services.storage.teams(org) == teams_before
        changed = await http.patch(
            f"/v1/teams/{created['id']},{w.sales}",
            json={"teams": [{"id": created["id"], "name": "Invoices", "active_members": [c]},
                            {"id": w.sales, "team_inbox_enabled": False}]},
        )  # fmt: skip
        assert changed.status_code == 200, changed.text
        first, second = changed.json()["teams"]
        assert (first["name"], first["active_members"], first["observers"]) == ("Invoices", [c], [])
        assert second["team_inbox_enabled"] is False
        listed = (await http.get("/v1/teams")).json()["teams"]
        assert "Invoices" in [t["name"] for t in listed]
    async with w.http(w.bob) as http:
        member = await http.patch(
            f"/v1/teams/{w.sales}", json={"teams": [{"id": w.sales, "name": "Mine"}]}
        )
        assert member.status_code == 403
    async with w.http(w.mallory) as http:
        foreign = await http.patch(
            f"/v1/teams/{w.sales}", json={"teams": [{"id": w.sales, "name": "Mine"}]}
        )
        assert foreign.status_code == 404
