"""Mailbox membership predicates (spec §B), one case per clause."""

from __future__ import annotations

from typing import Any

import pytest

from server.conversations.mailboxes import MAILBOXES, in_mailbox, unread_for
from server.conversations.model import Conversation, ScheduledSend, Snooze
from server.errors import InvalidInput
from tests.fixtures.machine import DIRECTORY, HOUR, NOW, make, outbound


def everyone(until: int, leave_in_inbox: bool = False, **fields: Any) -> Conversation:
    conv = make({"alice": "inbox", "bob": "inbox", "olga": "", "carol": ""}, **fields)
    conv.snooze = Snooze(until, "everyone", leave_in_inbox=leave_in_inbox, by="alice")
    return conv


TI = {"team": "support", "in_team_inbox": True}
SUPPORT, OPS = {"team": "support"}, {"team": "ops"}


def later(conv: Conversation) -> Conversation:
    conv.scheduled.append(ScheduledSend("d1", "o1", NOW + HOUR, "alice"))
    return conv


def replied(conv: Conversation) -> Conversation:
    conv.messages.append(outbound())
    return conv


CASES: list[tuple[str, Conversation, str, str, dict[str, str], bool]] = [
    ("inbox", make({"alice": "inbox"}), "alice", "inbox", {}, True),
    ("inbox-archived", make({"alice": ""}), "alice", "inbox", {}, False),
    ("inbox-no-access", make({"alice": "inbox"}), "bob", "inbox", {}, False),
    ("inbox-trashed", make({"alice": "inbox trashed"}), "alice", "inbox", {}, False),
    ("inbox-spam", make({"alice": "inbox"}, spam=True), "alice", "inbox", {}, False),
    ("inbox-merged", make({"alice": "inbox"}, merged_into="c2"), "alice", "inbox", {}, False),
    ("inbox-snoozed-for-me", make({"alice": "inbox snoozed"}), "alice", "inbox", {}, False),
    ("inbox-snooze-past-is-no-snooze", make({"alice": "inbox due"}), "alice", "inbox", {}, True),
    ("inbox-snoozed-for-everyone", everyone(NOW + HOUR), "bob", "inbox", {}, False),
    ("inbox-leave-in-inbox", everyone(NOW + HOUR, True), "bob", "inbox", {}, True),
    ("team-inbox-member", make({"bob": ""}, **TI), "bob", "team_inbox", {"team": "support"}, True),
    (
        "team-inbox-observer",
        make({"olga": ""}, **TI),
        "olga",
        "team_inbox",
        {"team": "support"},
        True,
    ),
    (
        "team-inbox-other-team",
        make({"bob": ""}, **TI),
        "bob",
        "team_inbox",
        {"team": "sales"},
        False,
    ),
    (
        "team-inbox-not-member",
        make({"alice": ""}, **TI),
        "alice",
        "team_inbox",
        {"team": "support"},
        False,
    ),
    (
        "team-inbox-taken-out",
        make({"bob": ""}, team="support"),
        "bob",
        "team_inbox",
        {"team": "support"},
        False,
    ),
    (
        "team-inbox-snoozed-for-everyone",
        everyone(NOW + HOUR, **TI),
        "carol",
        "team_inbox",
        {"team": "support"},
        False,
    ),
    (
        "team-inbox-everyone-snooze-past",
        everyone(NOW, **TI),
        "carol",
        "team_inbox",
        {"team": "support"},
        True,
    ),
    (
        "team-inbox-my-snooze-hides-for-me",
        make({"bob": "snoozed"}, **TI),
        "bob",
        "team_inbox",
        {"team": "support"},
        False,
    ),
    (
        "team-inbox-my-snooze-not-for-others",
        make({"bob": "snoozed", "carol": ""}, **TI),
        "carol",
        "team_inbox",
        {"team": "support"},
        True,
    ),
    (
        "team-inbox-everyone-leave-in-inbox",
        everyone(NOW + HOUR, True, **TI),
        "carol",
        "team_inbox",
        {"team": "support"},
        True,
    ),
    ("team-inboxes-active", make({"bob": ""}, **TI), "bob", "team_inboxes", {}, True),
    ("team-inboxes-observer-never", make({"olga": ""}, **TI), "olga", "team_inboxes", {}, False),
    ("team-all-member", make({"bob": ""}, team="support"), "bob", "team_all", SUPPORT, True),
    ("team-all-observer", make({"olga": ""}, team="support"), "olga", "team_all", SUPPORT, True),
    ("team-all-no-team-inbox", make({"erin": ""}, team="ops"), "erin", "team_all", OPS, True),
    (
        "team-all-not-member",
        make({"alice": ""}, team="support"),
        "alice",
        "team_all",
        SUPPORT,
        False,
    ),
    ("team-all-other-team", make({"bob": ""}, team="sales"), "bob", "team_all", SUPPORT, False),
    (
        "team-all-trashed",
        make({"bob": "trashed"}, team="support"),
        "bob",
        "team_all",
        SUPPORT,
        False,
    ),
    (
        "team-closed",
        make({"bob": ""}, team="support", status="closed"),
        "bob",
        "team_closed",
        SUPPORT,
        True,
    ),
    ("team-closed-open", make({"bob": ""}, team="support"), "bob", "team_closed", SUPPORT, False),
    ("assigned-to-me", make({"bob": ""}, assignees=["bob"]), "bob", "assigned_to_me", {}, True),
    (
        "assigned-to-me-snoozed-stays",
        make({"bob": "snoozed"}, assignees=["bob"]),
        "bob",
        "assigned_to_me",
        {},
        True,
    ),
    (
        "assigned-to-others",
        make({"alice": ""}, assignees=["bob"]),
        "alice",
        "assigned_to_others",
        {},
        True,
    ),
    (
        "assigned-to-others-only-me",
        make({"bob": ""}, assignees=["bob"]),
        "bob",
        "assigned_to_others",
        {},
        False,
    ),
    (
        "assigned-to-others-shared",
        make({"bob": ""}, assignees=["bob", "carol"]),
        "bob",
        "assigned_to_others",
        {},
        True,
    ),
    ("all-archived", make({"alice": ""}), "alice", "all", {}, True),
    ("all-snoozed-stays", make({"alice": "snoozed"}), "alice", "all", {}, True),
    (
        "all-trashed-for-everyone",
        make({"alice": ""}, trashed_for_everyone=True),
        "alice",
        "all",
        {},
        False,
    ),
    ("closed", make({"alice": ""}, status="closed"), "alice", "closed", {}, True),
    ("closed-open", make({"alice": ""}), "alice", "closed", {}, False),
    ("snoozed-for-me", make({"alice": "snoozed"}), "alice", "snoozed", {}, True),
    ("snoozed-past", make({"alice": "due"}), "alice", "snoozed", {}, False),
    ("snoozed-for-everyone", everyone(NOW + HOUR), "carol", "snoozed", {}, True),
    ("snoozed-someone-else", make({"alice": "snoozed", "bob": ""}), "bob", "snoozed", {}, False),
    ("trash-mine", make({"alice": "trashed"}), "alice", "trash", {}, True),
    ("trash-not-theirs", make({"alice": "trashed", "bob": ""}), "bob", "trash", {}, False),
    ("trash-for-everyone", make({"bob": ""}, trashed_for_everyone=True), "bob", "trash", {}, True),
    ("spam", make({"alice": ""}, spam=True), "alice", "spam", {}, True),
    ("spam-no-access", make({"alice": ""}, spam=True), "bob", "spam", {}, False),
    ("sent", replied(make({"alice": ""})), "alice", "sent", {}, True),
    ("sent-nothing-outbound", make({"alice": ""}), "alice", "sent", {}, False),
    ("drafts", make({"alice": ""}, drafts=["d1"]), "alice", "drafts", {}, True),
    ("drafts-none", make({"alice": ""}), "alice", "drafts", {}, False),
    ("send-later", later(make({"alice": ""})), "alice", "send_later", {}, True),
    ("send-later-none", make({"alice": ""}, drafts=["d1"]), "alice", "send_later", {}, False),
    ("sent-trashed", replied(make({"alice": "trashed"})), "alice", "sent", {}, False),
    ("starred", make({"alice": "starred"}), "alice", "starred", {}, True),
    ("starred-by-someone-else", make({"alice": "starred", "bob": ""}), "bob", "starred", {}, False),
    ("label", make({"alice": ""}, labels=["vip"]), "alice", "label", {"label": "vip"}, True),
    (
        "label-other",
        make({"alice": ""}, labels=["vip"]),
        "alice",
        "label",
        {"label": "billing"},
        False,
    ),
    (
        "label-snoozed-stays",
        make({"alice": "snoozed"}, labels=["vip"]),
        "alice",
        "label",
        {"label": "vip"},
        True,
    ),
]


@pytest.mark.parametrize(
    ("conv", "user", "mailbox", "params", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_in_mailbox(
    conv: Conversation, user: str, mailbox: str, params: dict[str, str], expected: bool
) -> None:
    assert in_mailbox(conv, user, mailbox, DIRECTORY, NOW, **params) is expected


def test_every_mailbox_has_a_case() -> None:
    assert {case[3] for case in CASES} == MAILBOXES


@pytest.mark.parametrize(
    ("mailbox", "params", "field_name"),
    [
        ("nowhere", {}, "mailbox"),
        ("team_inbox", {}, "team"),
        ("team_all", {}, "team"),
        ("team_closed", {}, "team"),
        ("label", {}, "label"),
    ],
)
def test_a_mailbox_needs_its_parameter(
    mailbox: str, params: dict[str, str], field_name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        in_mailbox(make({"alice": ""}), "alice", mailbox, DIRECTORY, NOW, **params)
    assert refused.value.field == field_name


def test_unread_for_counts_messages_and_comments() -> None:
    conv = make({"alice": "unread", "bob": "chat", "carol": ""})
    assert [unread_for(conv, user) for user in ("alice", "bob", "carol", "dave")] == [
        True,
        True,
        False,
        False,
    ]
