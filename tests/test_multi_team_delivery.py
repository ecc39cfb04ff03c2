"""Mail to the accounts of several teams (state machine rows 4 and 5), the pure part: the
machine's rows in both organization modes, its refusals, and the routing helpers that
pick teams and the conversation a team's copy joins. The organization is the one in
tests/fixtures/machine.py (teams Sales, Support and Ops — Ops has no team inbox).
Ingestion on both backends is in tests/test_multi_team_ingest.py."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.actions.mail_routing import (
    addressed_teams,
    copy_key,
    is_key_of,
    pick_conversation,
)
from server.conversations.machine import receive_message, send_message
from server.conversations.machine_mail import first_team, teams_by_name
from server.conversations.model import Conversation, Delivery, Directory, TeamInfo
from server.errors import AppError, InvalidInput, Unprocessable
from server.storage.mail import Account, ThreadCandidate
from sync.mime import parse_message
from tests.fixtures.machine import (
    DIRECTORY,
    NOW,
    SUPPORT_TI,
    facts,
    inbound,
    looks,
    make,
    outbound,
)

SINGLE = dataclasses.replace(DIRECTORY, multi_team_delivery="single")
SALES_TI: dict[str, Any] = {"team": "sales", "in_team_inbox": True}
IN_SUPPORT: dict[str, Any] = SUPPORT_TI
BOTH = frozenset({"sales", "support"})


def arrive_in(directory: Directory, delivery: Delivery) -> Callable[[Conversation], object]:
    return lambda conv: receive_message(conv, inbound(50), delivery, now=NOW, directory=directory)


def send_in(
    directory: Directory, actor: str, teams: frozenset[str]
) -> Callable[[Conversation], object]:
    return lambda conv: send_message(
        conv, actor, summary=outbound(), now=NOW, directory=directory, addressed_teams=teams
    )


Recorded = tuple[str, dict[str, object]]  # an event's type and data


@dataclass
class Row:
    """`start` goes through `act`; then each listed user `looks` as given, each listed fact
    holds, and the timeline gained exactly `events` (type and data)."""

    start: Conversation
    act: Callable[[Conversation], object]
    users: dict[str, str]
    conv: dict[str, object] = field(default_factory=dict)
    events: list[Recorded] = field(default_factory=list)


MOVED_TO_SALES: Recorded = ("moved", {"from": "support", "to": "sales", "by": "message"})
MOVED_TO_SUPPORT: Recorded = ("moved", {"from": "sales", "to": "support", "by": "message"})

ROWS = {
    # --- row 4: the same mail to the accounts of several teams ---------------------------
    "4-duplicate-each-copy-in-its-team-inbox-with-a-note": Row(
        make(messages=0),
        arrive_in(
            DIRECTORY,
            Delivery(team="support", addressed_teams=BOTH, copies=(("sales", "c2"),)),
        ),
        {"bob": "archived unread", "olga": "archived unread", "dave": "-"},
        {"team": "support", "in_team_inbox": True, "messages": 1},
        [("duplicated", {"message": "m50", "copies": [{"team": "sales", "conversation": "c2"}]})],
    ),
    "4-duplicate-copy-joining-its-thread-notes-too": Row(
        make({"bob": "watching"}, **IN_SUPPORT),
        arrive_in(
            DIRECTORY,
            Delivery(team="support", addressed_teams=BOTH, copies=(("sales", "c2"),)),
        ),
        {"bob": "inbox unread watching", "dave": "-"},
        {"team": "support", "messages": 2},
        [("duplicated", {"message": "m50", "copies": [{"team": "sales", "conversation": "c2"}]})],
    ),
    "4-single-new-thread-goes-to-the-alphabetically-first-team": Row(
        make(messages=0),
        arrive_in(SINGLE, Delivery(team="support", addressed_teams=BOTH)),
        {"dave": "archived unread", "bob": "-", "olga": "-"},
        {"team": "sales", "in_team_inbox": True},
    ),
    "4-single-one-team-addressed-is-that-team": Row(
        make(messages=0),
        arrive_in(SINGLE, Delivery(team="support")),
        {"bob": "archived unread", "dave": "-"},
        {"team": "support", "in_team_inbox": True},
    ),
    # --- row 5: "single" mode moves the conversation by message ---------------------------
    "5-single-inbound-to-another-teams-account-moves": Row(
        make({"bob": "watching", "carol": ""}, **IN_SUPPORT),
        arrive_in(SINGLE, Delivery(team="sales")),
        {
            "bob": "inbox unread watching",
            "carol": "archived unread",
            "dave": "archived unread",
        },
        {"team": "sales", "in_team_inbox": True, "messages": 2},
        [MOVED_TO_SALES],
    ),
    "5-single-inbound-addressed-to-its-own-team-too-stays": Row(
        make({"bob": ""}, **IN_SUPPORT),
        arrive_in(SINGLE, Delivery(team="sales", addressed_teams=BOTH)),
        {"bob": "archived unread", "dave": "-"},
        {"team": "support", "in_team_inbox": True},
    ),
    "5-single-inbound-several-other-teams-first-alphabetically": Row(
        make({"erin": ""}, team="ops"),
        arrive_in(SINGLE, Delivery(team="support", addressed_teams=BOTH)),
        {"dave": "archived unread", "bob": "-", "erin": "archived unread"},
        {"team": "sales", "in_team_inbox": True},
        [("moved", {"from": "ops", "to": "sales", "by": "message"})],
    ),
    "5-single-assigned-moves-and-follows-the-new-teams-option": Row(
        make({"dave": "watching"}, team="sales", assignees=["dave"]),
        arrive_in(SINGLE, Delivery(team="support")),
        {"dave": "inbox unread watching", "bob": "archived unread"},
        {"team": "support", "in_team_inbox": False, "assignees": ["dave"]},
        [MOVED_TO_SUPPORT],
    ),
    "5-single-closed-moves-and-reopens-into-the-new-team-inbox": Row(
        make({"bob": ""}, team="support", status="closed"),
        arrive_in(SINGLE, Delivery(team="sales")),
        {"bob": "archived unread", "dave": "archived unread"},
        {"team": "sales", "in_team_inbox": True, "status": "open"},
        [MOVED_TO_SALES, ("reopened", {})],
    ),
    "5-single-no-team-yet-joins-without-a-move": Row(
        make({"alice": "watching"}),
        arrive_in(SINGLE, Delivery(team="sales")),
        {"alice": "inbox unread watching", "dave": "archived unread"},
        {"team": "sales", "in_team_inbox": True},
    ),
    "5-duplicate-inbound-to-another-team-does-not-move": Row(
        make({"bob": ""}, **IN_SUPPORT),
        arrive_in(DIRECTORY, Delivery(team="sales")),
        {"bob": "archived unread", "dave": "-"},
        {"team": "support", "in_team_inbox": True},
    ),
    "5-single-outbound-cc-another-teams-account-moves": Row(
        make({"dave": ""}, **SALES_TI),
        send_in(SINGLE, "dave", frozenset({"support"})),
        {"dave": "archived", "bob": "archived unread", "olga": "archived unread"},
        {"team": "support", "in_team_inbox": True, "assignees": []},
        [MOVED_TO_SUPPORT],
    ),
    "5-single-outbound-assigning-the-replier-moves-out-of-any-team-inbox": Row(
        make({"bob": ""}, **IN_SUPPORT),
        send_in(SINGLE, "bob", frozenset({"sales"})),
        {"bob": "inbox watching", "dave": "archived"},
        {"team": "sales", "in_team_inbox": False, "assignees": ["bob"]},
        [("assigned", {"users": ["bob"], "by_reply": True}), MOVED_TO_SALES],
    ),
    "5-single-outbound-also-to-its-own-team-stays": Row(
        make({"dave": ""}, **SALES_TI),
        send_in(SINGLE, "dave", BOTH),
        {"dave": "archived", "bob": "-"},
        {"team": "sales", "in_team_inbox": True},
    ),
    "5-duplicate-outbound-does-not-move": Row(
        make({"dave": ""}, **SALES_TI),
        send_in(DIRECTORY, "dave", frozenset({"support"})),
        {"dave": "archived", "bob": "-"},
        {"team": "sales", "in_team_inbox": True},
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_multi_team_row(row: Row) -> None:
    conv = row.start
    before = len(conv.events)
    row.act(conv)
    for user, where in row.users.items():
        assert looks(conv, user) == where, user
    current = facts(conv)
    for key, expected in row.conv.items():
        assert current[key] == expected, key
    events = [(event.type, event.data) for event in conv.events[before:]]
    assert events == row.events
    assert all(event.actor is None for event in conv.events[before:] if event.type != "assigned")


def test_a_move_by_message_notifies_the_new_teams_active_members() -> None:
    conv = make({"bob": ""}, **IN_SUPPORT)
    receipt = receive_message(conv, inbound(50), Delivery(team="sales"), now=NOW, directory=SINGLE)
    assert receipt.notify == frozenset({"dave"})


REFUSALS = {
    "unknown-addressed-team": (
        arrive_in(SINGLE, Delivery(team="support", addressed_teams=frozenset({"nope"}))),
        InvalidInput,
        "addressed_teams",
    ),
    "addressed-team-without-team-inbox": (
        arrive_in(SINGLE, Delivery(team="support", addressed_teams=frozenset({"ops"}))),
        Unprocessable,
        "addressed_teams",
    ),
    "copy-of-an-unknown-team": (
        arrive_in(DIRECTORY, Delivery(team="support", copies=(("nope", "c2"),))),
        InvalidInput,
        "copies",
    ),
    "outbound-to-a-team-without-team-inbox": (
        send_in(SINGLE, "bob", frozenset({"ops"})),
        Unprocessable,
        "addressed_teams",
    ),
}


@pytest.mark.parametrize(("act", "error", "field_name"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_changes_nothing(
    act: Callable[[Conversation], object], error: type[AppError], field_name: str
) -> None:
    start = make({"bob": "watching"}, **IN_SUPPORT)
    before = copy.deepcopy(start)
    with pytest.raises(error) as refused:
        act(start)
    assert refused.value.field == field_name
    assert start == before


# --- routing helpers -----------------------------------------------------------------


def test_teams_are_ordered_by_name_ignoring_case() -> None:
    directory = Directory(
        org_id="org",
        members={},
        teams={
            "t1": TeamInfo("t1", "support", frozenset(), frozenset()),
            "t2": TeamInfo("t2", "Billing", frozenset(), frozenset()),
            "t3": TeamInfo("t3", "Accounts", frozenset(), frozenset()),
        },
    )
    assert teams_by_name({"t1", "t2", "t3"}, directory) == ["t3", "t2", "t1"]
    assert first_team({"t1", "t2"}, directory) == "t2"
    assert first_team(set(), directory) is None


def test_copy_keys_belong_to_their_mail_only() -> None:
    assert copy_key("<a@x>", "t1") == "<a@x> team:t1"
    assert is_key_of("<a@x>", "<a@x>") and is_key_of("<a@x> team:t1", "<a@x>")
    assert not is_key_of("<a@x.y>", "<a@x>") and not is_key_of("<a@x> team:t1", "<b@x>")


def candidate(conv: str, team: str | None, via: str | None) -> ThreadCandidate:
    return ThreadCandidate(conv, team, via)


PICKS = {
    "no-team-takes-the-oldest": (
        [candidate("c1", "sales", "sales"), candidate("c2", None, None)],
        None,
        True,
        "c1",
    ),
    "own-copy-first": (
        [candidate("c1", "sales", "sales"), candidate("c2", "sales", "support")],
        "support",
        True,
        "c2",
    ),
    "moved-into-the-team-by-hand": (
        [candidate("c1", "sales", "sales"), candidate("c2", "support", "sales")],
        "support",
        True,
        "c2",
    ),
    "a-conversation-without-team": (
        [candidate("c1", "sales", "sales"), candidate("c2", None, None)],
        "support",
        True,
        "c2",
    ),
    "duplicate-never-joins-another-teams-copy": (
        [candidate("c1", "sales", "sales")],
        "support",
        True,
        None,
    ),
    "single-joins-whatever-holds-the-thread": (
        [candidate("c1", "sales", "sales")],
        "support",
        False,
        "c1",
    ),
    "nothing-stored": ([], "support", True, None),
}


@pytest.mark.parametrize(
    ("candidates", "team", "own_copy", "expected"), PICKS.values(), ids=PICKS.keys()
)
def test_pick_conversation(
    candidates: list[ThreadCandidate], team: str | None, own_copy: bool, expected: str | None
) -> None:
    assert pick_conversation(candidates, team, own_copy=own_copy) == expected


def account(address: str, team: str | None, delivery: str = "team_inbox") -> Account:
    return Account(f"a-{address}", "org", address, "owen", delivery, team, ())


ACCOUNTS = [
    account("support@acme.test", "support"),
    account("help@acme.test", "support"),
    account("sales@acme.test", "sales"),
    account("ops@acme.test", "ops"),  # Ops has no team inbox
    account("alice@acme.test", None, "inbox"),
]


def test_addressed_teams_read_to_and_cc_for_the_other_teams_accounts() -> None:
    raw = (
        b"From: c@example.com\r\nTo: Support <SUPPORT@acme.test>, alice@acme.test\r\n"
        b"Cc: ops@acme.test, sales@acme.test, help@acme.test\r\nSubject: hi\r\n"
        b"Message-ID: <m@example.com>\r\n\r\nhello\r\n"
    )
    msg = parse_message(raw)
    through_help = addressed_teams(ACCOUNTS[1], msg, ACCOUNTS, DIRECTORY)
    assert {team: a.address for team, a in through_help.items()} == {
        "sales": "sales@acme.test",
        "support": "help@acme.test",  # the receiving account speaks for its own team
    }
    assert list(through_help) == ["sales", "support"]
    assert addressed_teams(ACCOUNTS[4], msg, ACCOUNTS, DIRECTORY) == {}  # a personal account
