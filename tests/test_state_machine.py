"""The conversation state machine, one case per row of the spec's table (seed C, part 1),
then every refusal. The organization and the helpers are in tests/fixtures/machine.py."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.conversations.machine import (
    COMMANDS,
    receive_message,
    send_message,
)
from server.conversations.model import (
    MAX_LABELS,
    MAX_MESSAGES,
    Conversation,
    Delivery,
    Directory,
)
from server.errors import AppError, Conflict, Forbidden, InvalidInput, Merged, Unprocessable
from tests.fixtures.machine import (
    DIRECTORY,
    HOUR,
    NOW,
    SUPPORT_TI,
    arrive,
    do,
    facts,
    looks,
    make,
    outbound,
    send,
    snoozed_for_everyone,
    wake,
    with_comment,
)

# --- the table --------------------------------------------------------------------------


@dataclass
class Row:
    """`start` goes through `act`; then each listed user `looks` as given, each listed fact
    holds, the timeline gained exactly `events`, and the result has the listed attributes."""

    start: Conversation
    act: Callable[[Conversation], object]
    users: dict[str, str]
    conv: dict[str, object] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    result: dict[str, object] = field(default_factory=dict)


ROWS = {
    "1-inbound-personal-new-thread": Row(
        make(messages=0),
        arrive(Delivery(owner="alice")),
        {"alice": "inbox unread", "bob": "-"},
        {"private": True, "messages": 1, "in_team_inbox": False},
        result={"notify": frozenset({"alice"}), "needs_new_conversation": False},
    ),
    "2-inbound-shared-inbox-flow-new-thread": Row(
        make(messages=0),
        arrive(
            Delivery(inbox_users=frozenset({"alice", "bob"}), archived_users=frozenset({"carol"}))
        ),
        {"alice": "inbox unread", "bob": "inbox unread", "carol": "archived unread", "dave": "-"},
        {"private": False, "in_team_inbox": False},
        result={"notify": frozenset({"alice", "bob"})},
    ),
    "3-inbound-team-inbox-flow-new-thread": Row(
        make(messages=0),
        arrive(Delivery(team="support")),
        {
            "bob": "archived unread",
            "carol": "archived unread",
            "olga": "archived unread",
            "alice": "-",
        },
        {"team": "support", "in_team_inbox": True, "status": "open"},
        result={"notify": frozenset({"bob", "carol"})},
    ),
    "6-inbound-reply-open-unassigned": Row(
        make({"bob": "watching", "carol": "", "olga": ""}, team="support"),
        arrive(Delivery(team="support")),
        {"bob": "inbox unread watching", "carol": "archived unread", "olga": "archived unread"},
        {"in_team_inbox": True, "messages": 2},
    ),
    "6-inbound-direct-reply-to-unwatched": Row(
        make({"alice": "", "carol": ""}),
        arrive(Delivery(direct_to=frozenset({"alice"}))),
        {"alice": "inbox unread", "carol": "archived unread"},
    ),
    "7-inbound-reply-assigned-default": Row(
        make(
            {"bob": "watching", "dave": "watching", "carol": ""}, team="support", assignees=["bob"]
        ),
        arrive(Delivery(team="support")),
        {
            "bob": "inbox unread watching",
            "dave": "inbox unread watching",
            "carol": "archived unread",
        },
        {"in_team_inbox": False, "assignees": ["bob"]},
    ),
    "7-inbound-reply-assigned-option-team-inbox": Row(
        make({"dave": "watching", "alice": "watching"}, team="sales", assignees=["dave"]),
        arrive(Delivery(team="sales")),
        {"dave": "archived unread watching", "alice": "inbox unread watching"},
        {"in_team_inbox": True, "assignees": ["dave"]},
    ),
    "8-inbound-reply-closed-reopens": Row(
        make(
            {"bob": "watching", "alice": "watching", "carol": ""},
            team="support",
            assignees=["bob"],
            status="closed",
        ),
        arrive(Delivery(team="support")),
        {
            "bob": "inbox unread watching",
            "alice": "inbox unread watching",
            "carol": "archived unread",
        },
        {"status": "open", "in_team_inbox": False},
        ["reopened"],
        {"notify": frozenset({"bob"})},
    ),
    "9-inbound-reply-to-full-conversation": Row(
        make({"alice": "watching"}, messages=MAX_MESSAGES),
        arrive(Delivery(owner="alice")),
        {"alice": "archived watching"},
        {"messages": MAX_MESSAGES},
        result={"needs_new_conversation": True},
    ),
    "11-inbound-reply-discards-snooze-if-reply": Row(
        snoozed_for_everyone(
            make({"alice": "inbox", "bob": "inbox snoozed"}), discard_if_reply=True
        ),
        arrive(Delivery()),
        {"alice": "inbox unread", "bob": "snoozed unread"},
        {"snoozed_for_everyone": False},
        ["unsnoozed"],
    ),
    "12-comment-no-mention": Row(
        make(
            {
                "carol": "",
                "bob": "watching",
                "dave": "watching",
                "erin": "",
                "owen": "trashed watching",
            },
            assignees=["bob"],
        ),
        do("comment", "carol", comment_id="k1", body="on it"),
        {
            "carol": "archived watching",
            "bob": "inbox chat watching",
            "dave": "inbox chat watching",
            "erin": "archived chat",
            "owen": "trash chat watching",
        },
        {"mentions": []},
    ),
    "13-comment-mention-user-shares-private": Row(
        make({"alice": "inbox"}),
        do("comment", "alice", comment_id="k1", body="@bob look", mentions=[{"user": "bob"}]),
        {"alice": "inbox watching", "bob": "inbox chat", "carol": "-"},
        {"private": False, "mentions": ["bob"]},
    ),
    "13-comment-mention-brings-back-from-trash": Row(
        make({"alice": "inbox", "bob": "trashed"}),
        do("comment", "alice", comment_id="k1", body="@bob", mentions=[{"user": "bob"}]),
        {"bob": "inbox chat"},
    ),
    "14-comment-mention-team-active-only": Row(
        make({"alice": "inbox"}),
        do("comment", "alice", comment_id="k1", body="@support", mentions=[{"team": "support"}]),
        {"bob": "inbox chat", "carol": "inbox chat", "olga": "-"},
        {"mentions": ["bob", "carol"]},
    ),
    "14-comment-mention-team-with-observers": Row(
        make({"alice": "inbox"}),
        do("comment", "alice", comment_id="k1", body="@ops", mentions=[{"team": "ops"}]),
        {"erin": "inbox chat", "olga": "inbox chat", "bob": "-"},
    ),
    "15-comment-mention-all-org-members": Row(
        make({"alice": "inbox"}),
        do("comment", "alice", comment_id="k1", body="@all", mentions=[{"all": True}]),
        {user: "inbox chat" for user in DIRECTORY.members if user != "alice"},
    ),
    "15-comment-mention-group": Row(
        make({"bob": "inbox"}),
        do("comment", "bob", comment_id="k1", body="@leads", mentions=[{"group": "leads"}]),
        {"alice": "inbox chat", "dave": "inbox chat", "carol": "-"},
    ),
    "16-react-toggles-without-notifying": Row(
        with_comment(make({"alice": "", "bob": "watching"})),
        do("react", "alice", comment="k1", emoji="👍"),
        {"alice": "archived", "bob": "archived watching"},
        {"reactions": {"👍": ["bob", "alice"]}},
    ),
    "16-react-again-removes": Row(
        with_comment(make({"bob": "watching"})),
        do("react", "bob", comment="k1", emoji="👍"),
        {"bob": "archived watching"},
        {"reactions": {}},
    ),
    "17-add-people-show-in-inbox": Row(
        make({"alice": "inbox"}),
        do("add_people", "alice", users=["dave"], teams=["support"], show_in_inbox=True),
        {"dave": "inbox", "bob": "inbox", "carol": "inbox", "olga": "-"},
        {"private": False},
        ["shared"],
    ),
    "18-add-people-archived": Row(
        make({"alice": "inbox", "carol": "inbox"}),
        do("add_people", "alice", users=["bob", "carol"], show_in_inbox=False),
        {"bob": "archived", "carol": "inbox"},
        events=["shared"],
    ),
    "19-assign-user": Row(
        make({"alice": "inbox"}, **SUPPORT_TI),
        do("assign", "alice", users=["bob"]),
        {"bob": "inbox watching", "alice": "inbox"},
        {"assignees": ["bob"], "in_team_inbox": False},
        ["assigned"],
    ),
    "20-set-assignees-only-me": Row(
        make({"alice": "", "bob": "inbox watching"}, assignees=["bob"]),
        do("set_assignees", "alice", users=["alice"]),
        {"alice": "inbox watching", "bob": "inbox watching"},
        {"assignees": ["alice"]},
        ["unassigned", "assigned"],
    ),
    "21-unassign": Row(
        make({"alice": "", "bob": "inbox watching"}, assignees=["bob"], team="support"),
        do("unassign", "alice", users=["bob"]),
        {"bob": "inbox watching"},
        {"assignees": [], "in_team_inbox": False},
        ["unassigned"],
    ),
    "22-move-to-team": Row(
        make({"alice": "inbox"}),
        do("move_to_team", "alice", team="support"),
        {"alice": "inbox", "bob": "archived", "carol": "archived", "olga": "archived"},
        SUPPORT_TI,
        ["moved"],
    ),
    "23-reply-from-team-inbox-assigns-replier": Row(
        make({"bob": "unread"}, **SUPPORT_TI),
        send("bob"),
        {"bob": "inbox watching"},
        {"assignees": ["bob"], "in_team_inbox": False, "messages": 2},
        ["assigned"],
    ),
    "23-reply-from-team-inbox-option-stays": Row(
        make({"dave": ""}, team="sales", in_team_inbox=True),
        send("dave"),
        {"dave": "archived"},
        {"assignees": [], "in_team_inbox": True, "messages": 2},
    ),
    "28-plain-send-outside-team-inbox": Row(
        make({"alice": "inbox unread"}),
        send("alice"),
        {"alice": "inbox"},
        {"assignees": [], "messages": 2},
    ),
    "24-close": Row(
        make(
            {
                "alice": "inbox",
                "bob": "inbox watching",
                "carol": "inbox",
                "dave": "inbox watching",
                "erin": "inbox",
            },
            assignees=["bob"],
            **SUPPORT_TI,
        ),
        do("close", "alice"),
        {
            "alice": "archived",
            "bob": "inbox watching",
            "carol": "archived",
            "dave": "inbox watching",
            "erin": "inbox",
        },
        {"status": "closed", "assignees": ["bob"], "in_team_inbox": False},
        ["closed"],
    ),
    "25-archive-personal": Row(
        make({"alice": "inbox", "bob": "inbox"}),
        do("archive", "alice"),
        {"alice": "archived", "bob": "inbox"},
    ),
    "26-archive-while-assigned-archives-only": Row(
        make({"alice": "inbox watching"}, assignees=["alice"]),
        do("archive", "alice"),
        {"alice": "archived watching"},
        {"assignees": ["alice"], "status": "open"},
    ),
    "27-archive-from-team-inbox": Row(
        make({"bob": "", "carol": "inbox"}, **SUPPORT_TI),
        do("archive", "bob", team="support"),
        {"bob": "archived", "carol": "inbox"},
        {"in_team_inbox": False, "status": "open", "team": "support"},
        ["archived"],
    ),
    "29-snooze-for-me": Row(
        make({"alice": "inbox", "bob": "inbox"}),
        do("snooze", "alice", until=NOW + HOUR),
        {"alice": "snoozed", "bob": "inbox"},
        {"snoozed_for_everyone": False},
        ["snoozed"],
    ),
    "29-snooze-for-me-leave-in-inbox": Row(
        make({"alice": "inbox"}),
        do("snooze", "alice", until=NOW + HOUR, leave_in_inbox=True),
        {"alice": "inbox"},
        events=["snoozed"],
    ),
    "30-snooze-for-everyone": Row(
        make({"alice": "inbox", "bob": "inbox watching"}, **SUPPORT_TI),
        do("snooze", "alice", until=NOW + HOUR, scope="everyone"),
        {"alice": "snoozed", "bob": "snoozed watching"},
        {"snoozed_for_everyone": True, "in_team_inbox": True},
        ["snoozed"],
    ),
    "31-snooze-time-reached-for-me": Row(
        make({"alice": "due", "bob": ""}),
        wake("alice"),
        {"alice": "inbox", "bob": "archived"},
        result={"__value__": True},
    ),
    "31-snooze-time-reached-for-everyone-team": Row(
        snoozed_for_everyone(make({"alice": "", "bob": ""}, team="support"), until=NOW),
        wake(None),
        {"alice": "inbox", "bob": "archived"},
        {"in_team_inbox": True, "snoozed_for_everyone": False},
    ),
    "31-snooze-time-reached-for-everyone-no-team": Row(
        snoozed_for_everyone(make({"alice": "", "bob": "", "carol": "trashed"}), until=NOW),
        wake(None),
        {"alice": "inbox", "bob": "inbox", "carol": "trash"},
        {"snoozed_for_everyone": False},
    ),
    "31-stale-wake-changes-nothing": Row(
        make({"alice": "snoozed"}),
        wake("alice", until=NOW - HOUR),
        {"alice": "snoozed"},
        result={"__value__": False},
    ),
    "32-discard-snooze": Row(
        make({"alice": "snoozed"}),
        do("unsnooze", "alice"),
        {"alice": "inbox"},
        events=["unsnoozed"],
    ),
    "35-trash-from-team-inbox": Row(
        snoozed_for_everyone(
            make(
                {"alice": "inbox", "bob": "inbox watching", "carol": "inbox watching snoozed"},
                assignees=["bob", "carol"],
                labels=["vip"],
                **SUPPORT_TI,
            )
        ),
        do("trash", "bob", team="support"),
        {"alice": "trash", "bob": "trash watching", "carol": "trash watching"},
        {
            "trashed_for_everyone": True,
            "team": None,
            "in_team_inbox": False,
            "labels": [],
            "assignees": ["carol"],
            "snoozed_for_everyone": False,
        },
        ["unassigned", "trashed"],
    ),
    "36-trash-for-the-actor-only": Row(
        make({"alice": "inbox watching", "bob": "inbox"}, assignees=["alice"]),
        do("trash", "alice"),
        {"alice": "trash watching", "bob": "inbox"},
        {"assignees": [], "trashed_for_everyone": False},
        ["unassigned", "trashed"],
    ),
    "39-restore-without-labels-or-assignees": Row(
        make({"alice": "inbox", "bob": "inbox"}, trashed_for_everyone=True),
        do("restore", "alice"),
        {"alice": "inbox", "bob": "inbox"},
        {"trashed_for_everyone": False, "labels": [], "assignees": []},
        ["restored"],
    ),
    "41-mark-unread": Row(
        make({"alice": "inbox", "bob": "inbox"}),
        do("mark_unread", "alice"),
        {"alice": "inbox unread", "bob": "inbox"},
    ),
    "41-mark-read": Row(
        make({"alice": "inbox unread chat", "bob": "unread"}),
        do("mark_read", "alice"),
        {"alice": "inbox", "bob": "archived unread"},
    ),
    "42-star": Row(
        make({"alice": "", "bob": ""}),
        do("star", "alice"),
        {"alice": "archived starred", "bob": "archived"},
    ),
    "42-unstar": Row(make({"alice": "starred"}), do("unstar", "alice"), {"alice": "archived"}),
    "43-watch": Row(make({"alice": ""}), do("watch", "alice"), {"alice": "archived watching"}),
    "43-unwatch": Row(make({"alice": "watching"}), do("unwatch", "alice"), {"alice": "archived"}),
    "50-label-with-auto-share": Row(
        make({"alice": "inbox"}),
        do("add_labels", "alice", labels=["vip", "billing"]),
        {"dave": "archived", "alice": "inbox"},
        {"labels": ["vip", "billing"]},
        ["labelled"],
    ),
    "50-remove-label-keeps-access": Row(
        make({"alice": "inbox", "dave": ""}, labels=["vip", "billing"]),
        do("remove_labels", "alice", labels=["vip"]),
        {"dave": "archived"},
        {"labels": ["billing"]},
        ["unlabelled"],
    ),
    "53-delete-own-comment": Row(
        with_comment(make({"bob": ""})),
        do("delete_comment", "bob", comment="k1"),
        {"bob": "archived"},
        {"comment_deleted": True, "reactions": {}},
    ),
    "53-admin-deletes-any-comment": Row(
        with_comment(make({"bob": "", "erin": ""})),
        do("delete_comment", "erin", comment="k1"),
        {"bob": "archived"},
        {"comment_deleted": True},
    ),
    "54-rename": Row(
        make({"alice": ""}),
        do("rename", "alice", subject="  Refund for #1234 "),
        {"alice": "archived"},
        {"subject": "Refund for #1234", "subject_custom": True},
        ["renamed"],
    ),
}


@pytest.mark.parametrize("row", [pytest.param(row, id=name) for name, row in ROWS.items()])
def test_state_machine_row(row: Row) -> None:
    conv = row.start
    before = len(conv.events)
    result = row.act(conv)
    for user, expected in row.users.items():
        assert looks(conv, user) == expected, user
    current = facts(conv)
    for key, expected in row.conv.items():
        assert current[key] == expected, key
    assert [event.type for event in conv.events[before:]] == row.events
    for name, expected in row.result.items():
        actual = result if name == "__value__" else getattr(result, name)
        assert actual == expected, name


# --- refusals: each raises before changing anything ------------------------------------

ROOM = {"kind": "team_room"}
FULL_OF_LABELS = [f"l{n}" for n in range(MAX_LABELS)]
MANY_LABELS = Directory(
    org_id="org",
    members=DIRECTORY.members,
    labels={**DIRECTORY.labels, **{label: frozenset() for label in FULL_OF_LABELS}},
)


def in_org(directory: Directory, name: str, actor: str, **params: Any) -> Callable[..., object]:
    return lambda conv: COMMANDS[name](conv, actor, now=NOW, directory=directory, **params)


REFUSALS = {
    "unwatch-while-assigned": (
        make({"alice": "watching"}, assignees=["alice"]),
        do("unwatch", "alice"),
        Conflict,
        None,
    ),
    "assign-in-a-room": (
        make({"alice": ""}, **ROOM),
        do("assign", "alice", users=["bob"]),
        Unprocessable,
        None,
    ),
    "set-assignees-in-a-room": (
        make({"alice": ""}, **ROOM),
        do("set_assignees", "alice", users=["alice"]),
        Unprocessable,
        None,
    ),
    "close-a-room": (make({"alice": ""}, **ROOM), do("close", "alice"), Unprocessable, None),
    "move-a-room-to-a-team": (
        make({"alice": ""}, **ROOM),
        do("move_to_team", "alice", team="support"),
        Unprocessable,
        None,
    ),
    "snooze-to-the-past": (
        make({"alice": ""}),
        do("snooze", "alice", until=NOW),
        InvalidInput,
        "until",
    ),
    "label-of-another-org": (
        make({"alice": ""}),
        do("add_labels", "alice", labels=["vip", "elsewhere"]),
        InvalidInput,
        "labels",
    ),
    "too-many-labels": (
        make({"alice": ""}, labels=list(FULL_OF_LABELS)),
        in_org(MANY_LABELS, "add_labels", "alice", labels=["vip"]),
        Unprocessable,
        "labels",
    ),
    "assign-unknown-user": (
        make({"alice": ""}),
        do("assign", "alice", users=["bob", "mallory"]),
        InvalidInput,
        "users",
    ),
    "assign-nobody": (make({"alice": ""}), do("assign", "alice", users=[]), InvalidInput, "users"),
    "add-unknown-user": (
        make({"alice": ""}),
        do("add_people", "alice", users=["mallory"]),
        InvalidInput,
        "users",
    ),
    "add-unknown-team": (
        make({"alice": ""}),
        do("add_people", "alice", users=["bob"], teams=["nope"]),
        InvalidInput,
        "teams",
    ),
    "mention-unknown-user": (
        make({"alice": ""}),
        do(
            "comment",
            "alice",
            comment_id="k1",
            body="hi",
            mentions=[{"user": "bob"}, {"user": "x"}],
        ),
        InvalidInput,
        "mentions[1]",
    ),
    "mention-unknown-group": (
        make({"alice": ""}),
        do("comment", "alice", comment_id="k1", body="hi", mentions=[{"group": "nope"}]),
        InvalidInput,
        "mentions[0]",
    ),
    "empty-comment": (
        make({"alice": ""}),
        do("comment", "alice", comment_id="k1", body="  "),
        InvalidInput,
        "body",
    ),
    "actor-without-access": (make({"alice": ""}), do("star", "bob"), Forbidden, None),
    "actor-outside-the-org": (make({"alice": ""}), do("star", "mallory"), Forbidden, None),
    "member-deletes-someone-elses-comment": (
        with_comment(make({"alice": "", "bob": ""})),
        do("delete_comment", "alice", comment="k1"),
        Forbidden,
        "comment",
    ),
    "edit-someone-elses-comment": (
        with_comment(make({"alice": "", "bob": ""})),
        do("edit_comment", "alice", comment="k1", body="mine now"),
        Forbidden,
        "comment",
    ),
    "react-to-unknown-comment": (
        make({"alice": ""}),
        do("react", "alice", comment="k9", emoji="👍"),
        InvalidInput,
        "comment",
    ),
    "archive-from-a-team-inbox-it-is-not-in": (
        make({"bob": ""}, team="support"),
        do("archive", "bob", team="support"),
        Conflict,
        "team",
    ),
    "archive-from-a-team-inbox-as-non-member": (
        make({"alice": ""}, **SUPPORT_TI),
        do("archive", "alice", team="support"),
        Forbidden,
        "team",
    ),
    "trash-from-a-team-inbox-as-non-member": (
        make({"alice": ""}, **SUPPORT_TI),
        do("trash", "alice", team="support"),
        Forbidden,
        "team",
    ),
    "move-to-a-team-without-inbox": (
        make({"alice": ""}),
        do("move_to_team", "alice", team="ops"),
        Unprocessable,
        "team",
    ),
    "rename-to-nothing": (
        make({"alice": ""}),
        do("rename", "alice", subject=" "),
        InvalidInput,
        "subject",
    ),
    "receive-an-outbound-message": (
        make({"alice": ""}),
        lambda conv: receive_message(conv, outbound(), Delivery(), now=NOW, directory=DIRECTORY),
        InvalidInput,
        "direction",
    ),
    "act-on-a-merged-conversation": (
        make({"alice": ""}, merged_into="c2"),
        do("star", "alice"),
        Merged,
        None,
    ),
}


@pytest.mark.parametrize(
    ("start", "act", "error", "field_name"),
    [pytest.param(*case, id=name) for name, case in REFUSALS.items()],
)
def test_refusal_changes_nothing(
    start: Conversation,
    act: Callable[[Conversation], object],
    error: type[AppError],
    field_name: str | None,
) -> None:
    before = copy.deepcopy(start)
    with pytest.raises(error) as refused:
        act(start)
    assert refused.value.field == field_name
    assert start == before


def test_assignees_always_watch_through_every_path() -> None:
    conv = make({"alice": "", "bob": "", "carol": ""}, **SUPPORT_TI)
    send_message(conv, "bob", summary=outbound(), now=NOW, directory=DIRECTORY)
    do("assign", "alice", users=["carol"])(conv)
    do("set_assignees", "alice", users=["dave", "bob"])(conv)
    assert conv.assignees == ["bob", "dave"]
    assert all(conv.users[user].watching for user in conv.assignees)
    do("unassign", "alice", users=["bob"])(conv)
    do("unwatch", "bob")(conv)
    assert not conv.users["bob"].watching


def test_reopen_brings_it_back_to_the_assignees_inbox() -> None:
    conv = make({"alice": "inbox", "bob": "watching"}, assignees=["bob"], status="closed")
    do("reopen", "alice")(conv)
    assert conv.status == "open"
    assert looks(conv, "bob") == "inbox watching"
    assert [event.type for event in conv.events] == ["reopened"]


def test_closing_twice_records_one_event() -> None:
    conv = make({"alice": "inbox"})
    do("close", "alice")(conv)
    do("close", "alice")(conv)
    assert [event.type for event in conv.events] == ["closed"]


def test_edit_comment_keeps_mentions_and_marks_the_edit() -> None:
    conv = with_comment(make({"bob": ""}))
    do("edit_comment", "bob", comment="k1", body="hello again")(conv)
    assert conv.comments[0].body == "hello again"
    assert conv.comments[0].edited_at == NOW


def test_new_thread_takes_the_subject_but_a_custom_subject_stays() -> None:
    conv = make({"alice": ""}, messages=0)
    arrive(Delivery(owner="alice"))(conv)
    do("rename", "alice", subject="Mine")(conv)
    arrive(Delivery(owner="alice"), number=51)(conv)
    assert conv.subject == "Mine"


def test_reopening_an_unassigned_team_conversation_puts_it_back_in_the_team_inbox() -> None:
    conv = make({"bob": ""}, team="support", status="closed")
    do("reopen", "bob")(conv)
    assert conv.in_team_inbox
    assert looks(conv, "bob") == "archived"
