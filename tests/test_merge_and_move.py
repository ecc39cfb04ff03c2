"""State machine rows 38, 48, 49 and 52: merging, moving an email out, deleting forever
and spam, on the pure machine (the HTTP path is in tests/test_reshape_api.py). Members,
teams and helpers are those of tests/test_state_machine.py."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from server.conversations.machine import COMMANDS, merge, move_message
from server.conversations.mailboxes import in_mailbox
from server.conversations.model import (
    MAX_MESSAGES,
    Comment,
    Conversation,
    Directory,
    MessageSummary,
)
from server.errors import AppError, Conflict, Forbidden, InvalidInput, Merged, Unprocessable
from tests.fixtures.machine import DIRECTORY, HOUR, NOW, SUPPORT_TI, looks, make


def mail(
    number: int, at: int, subject: str = "Order", account: str | None = None
) -> MessageSummary:
    return MessageSummary(f"m{number}", "in", "client@example.com", subject, "hi", at, account)


def pair(**target_fields: Any) -> tuple[Conversation, Conversation]:
    """`s1` (alice, bob; one mail an hour ago, a comment) and `t1` (alice, carol; a mail
    two hours ago and one just now, a comment)."""
    source = make({"alice": "inbox", "bob": "inbox unread"}, messages=0)
    source.id, source.subject = "s1", "Order"
    source.messages = [mail(1, NOW - HOUR, "Re: Order")]
    source.comments = [Comment("k-s", "bob", "from the source", NOW - HOUR + 1)]
    source.labels, source.assignees = ["vip"], ["bob"]
    target = make({"alice": "", "carol": "watching"}, messages=0, **target_fields)
    target.id, target.subject = "t1", "Order"
    target.messages = [mail(0, NOW - 2 * HOUR), mail(2, NOW, "Re: Re: Order")]
    target.comments = [Comment("k-t", "carol", "from the target", NOW - 2 * HOUR + 1)]
    target.labels = ["billing"]
    return source, target


def run_merge(source: Conversation, target: Conversation, actor: str = "alice", **kw: Any) -> None:
    merge(source, target, actor, now=NOW, directory=DIRECTORY, **kw)


def test_merge_interleaves_history_and_unions_everything() -> None:
    source, target = pair()
    run_merge(source, target)
    assert [m.id for m in target.messages] == ["m0", "m1", "m2"]
    assert [c.id for c in target.comments] == ["k-t", "k-s"]
    assert target.labels == ["billing", "vip"]
    assert target.assignees == ["bob"]
    assert set(target.users) == {"alice", "bob", "carol"}
    assert looks(target, "bob") == "inbox unread watching"  # assignees always watch
    assert looks(target, "alice") == "inbox"  # in the Inbox in either: in the Inbox
    assert looks(target, "carol") == "archived watching"
    assert [e.type for e in target.events] == ["merged"]
    assert target.events[0].data == {"source": "s1", "subject": "Order"}
    assert source.merged_into == "t1"
    assert (source.users, source.messages, source.comments, source.labels) == ({}, [], [], [])
    assert [e.type for e in source.events] == ["merged_into"]


def test_merge_keeps_the_targets_team_and_reopens_a_closed_target_for_open_work() -> None:
    source, target = pair(status="closed")
    source.team, source.in_team_inbox, source.assignees = "sales", True, []
    run_merge(source, target)
    assert (target.status, target.team, target.in_team_inbox) == ("open", "sales", True)
    assert [e.type for e in target.events] == ["reopened", "merged"]
    source, target = pair(**SUPPORT_TI)
    run_merge(source, target)  # the source brings an assignee: out of the team inbox
    assert (target.team, target.in_team_inbox) == ("support", False)


# (source custom, source shared, target custom, target shared) -> whose subject, custom?
SUBJECT_RULES = {
    "shared+private both custom: the shared one": ((True, False, True, True), "T", True),
    "shared+private both custom, source shared": ((True, True, True, False), "S", True),
    "shared+private only the private custom": ((True, False, False, True), "S", True),
    "shared+private neither custom: latest email": ((False, True, False, False), "mail", False),
    "two private both custom: the target": ((True, False, True, False), "T", True),
    "two private only the source custom": ((True, False, False, False), "S", True),
    "two private neither: latest email": ((False, False, False, False), "mail", False),
    "two shared both custom: the target": ((True, True, True, True), "T", True),
    "two shared only the target custom": ((False, True, True, True), "T", True),
    "two shared neither: latest email": ((False, True, False, True), "mail", False),
}


@pytest.mark.parametrize(
    ("flags", "winner", "custom"),
    [pytest.param(*case, id=name) for name, case in SUBJECT_RULES.items()],
)
def test_the_three_by_three_subject_rules(
    flags: tuple[bool, bool, bool, bool], winner: str, custom: bool
) -> None:
    s_custom, s_shared, t_custom, t_shared = flags
    source = make({"alice": ""}, messages=0)
    source.id, source.subject, source.subject_custom = "s1", "Source subject", s_custom
    source.messages = [mail(1, NOW - HOUR, "Older mail")]
    target = make({"alice": ""}, messages=0)
    target.id, target.subject, target.subject_custom = "t1", "Target subject", t_custom
    target.messages = [mail(2, NOW, "Latest mail")]
    for conv, shared in ((source, s_shared), (target, t_shared)):
        if shared:
            conv.users["bob"] = dataclasses.replace(conv.users["alice"])
    run_merge(source, target)
    expected = {"S": "Source subject", "T": "Target subject", "mail": "Latest mail"}[winner]
    assert (target.subject, target.subject_custom) == (expected, custom)


def test_a_picked_subject_wins() -> None:
    source, target = pair()
    run_merge(source, target, subject="  Order #1234 and its refund ")
    assert (target.subject, target.subject_custom) == ("Order #1234 and its refund", True)


def test_one_conversation_over_the_cap_may_merge_with_a_small_one() -> None:
    source, target = pair()
    target.messages = [mail(n, NOW - HOUR * 3 + n) for n in range(MAX_MESSAGES)]
    run_merge(source, target)
    assert target.message_count == MAX_MESSAGES + 1


def _refusal(
    fix: Any = None, actor: str = "alice", directory: Directory = DIRECTORY, **kw: Any
) -> tuple[Conversation, Conversation, Any]:
    source, target = pair()
    if fix is not None:
        fix(source, target)
    return source, target, lambda: merge(source, target, actor, now=NOW, directory=directory, **kw)


def _full(source: Conversation, target: Conversation) -> None:
    for conv in (source, target):
        conv.messages = [mail(n, NOW - HOUR + n) for n in range(MAX_MESSAGES)]


MERGE_REFUSALS: dict[str, tuple[Any, type[AppError], str | None]] = {
    "into-itself": (lambda s, t: setattr(t, "id", "s1"), InvalidInput, "target"),
    "room-source": (lambda s, t: setattr(s, "kind", "team_room"), Unprocessable, "target"),
    "room-target": (lambda s, t: setattr(t, "kind", "org_room"), Unprocessable, "target"),
    "both-over-400": (_full, Unprocessable, "target"),
    "other-organization": (lambda s, t: setattr(t, "org_id", "other"), Unprocessable, "target"),
    "no-access-to-the-target": (lambda s, t: t.users.pop("alice"), Forbidden, None),
    "source-already-merged": (lambda s, t: setattr(s, "merged_into", "x"), Merged, None),
    "empty-subject": ("subject", InvalidInput, "subject"),
}


@pytest.mark.parametrize(
    ("fix", "error", "field_name"),
    [pytest.param(*case, id=name) for name, case in MERGE_REFUSALS.items()],
)
def test_merge_refusals_change_neither_conversation(
    fix: Any, error: type[AppError], field_name: str | None
) -> None:
    if fix == "subject":
        source, target, act = _refusal(subject="   ")
    else:
        source, target, act = _refusal(fix)
    before = copy.deepcopy((source, target))
    with pytest.raises(error) as refused:
        act()
    assert refused.value.field == field_name
    assert (source, target) == before


# --- move an email out (row 49) ----------------------------------------------------------


def two_mails(**fields: Any) -> Conversation:
    conv = make({"alice": "inbox", "bob": "watching starred", "carol": "inbox"}, 0, **fields)
    conv.messages = [mail(0, NOW - HOUR), mail(1, NOW - 1, "Another question")]
    conv.assignees = ["bob"]
    return conv


def test_move_an_email_to_a_new_private_conversation() -> None:
    conv = two_mails()
    new = move_message(
        conv, "carol", message="m1", shared=False, new_id="n1", now=NOW, directory=DIRECTORY
    )
    assert [m.id for m in conv.messages] == ["m0"]
    assert (new.id, new.subject, [m.id for m in new.messages]) == ("n1", "Another question", ["m1"])
    assert list(new.users) == ["carol"] and looks(new, "carol") == "inbox watching"
    assert new.assignees == [] and new.private
    assert [e.type for e in conv.events] == ["message_moved"]
    assert conv.events[0].data == {"message": "m1", "to": "n1", "shared": False}
    assert [e.type for e in new.events] == ["moved_from"]


def test_move_an_email_to_a_new_shared_conversation() -> None:
    conv = two_mails(**SUPPORT_TI)
    conv.assignees = []
    new = move_message(
        conv, "carol", message="m1", shared=True, new_id="n1", now=NOW, directory=DIRECTORY
    )
    assert set(new.users) == {"alice", "bob", "carol"}
    assert looks(new, "alice") == "inbox"
    assert looks(new, "bob") == "archived watching"  # stars stay with the original
    assert (new.team, new.in_team_inbox) == ("support", True)
    assert in_mailbox(new, "bob", "team_inbox", DIRECTORY, NOW, team="support")


@pytest.mark.parametrize(
    ("message", "only_one", "error", "field_name"),
    [
        pytest.param("nope", False, InvalidInput, "message", id="unknown-message"),
        pytest.param("m0", True, Unprocessable, "message", id="the-only-email"),
    ],
)
def test_move_message_refusals_change_nothing(
    message: str, only_one: bool, error: type[AppError], field_name: str
) -> None:
    conv = two_mails()
    if only_one:
        conv.messages = conv.messages[:1]
    before = copy.deepcopy(conv)
    with pytest.raises(error) as refused:
        move_message(
            conv, "alice", message=message, shared=False, new_id="n1", now=NOW, directory=DIRECTORY
        )
    assert refused.value.field == field_name
    assert conv == before


# --- delete forever (row 38) and spam (row 52) ---------------------------------------------

OWNED = dataclasses.replace(DIRECTORY, account_owners={"acc-alice": "alice", "acc-bob": "bob"})


def trashed_mail(*accounts: str | None) -> Conversation:
    conv = make({"alice": "inbox trashed", "bob": "inbox"}, messages=0)
    conv.messages = [mail(n, NOW - n, account=a) for n, a in enumerate(accounts)]
    conv.assignees = ["alice"]
    return conv


def test_the_accounts_owner_deletes_forever_for_everyone() -> None:
    conv = trashed_mail("acc-alice", "acc-alice")
    COMMANDS["delete_forever"](conv, "alice", now=NOW, directory=OWNED)
    assert conv.deleted and conv.users == {} and conv.messages == [] and conv.assignees == []
    assert [e.type for e in conv.events] == ["deleted"]


@pytest.mark.parametrize(
    "accounts",
    [
        pytest.param(("acc-bob",), id="someone-elses-account"),
        pytest.param(("acc-alice", "acc-bob"), id="partly-someone-elses"),
        pytest.param((), id="no-emails"),
    ],
)
def test_anyone_else_deleting_forever_only_loses_their_own_access(
    accounts: tuple[str, ...],
) -> None:
    conv = trashed_mail(*accounts)
    COMMANDS["delete_forever"](conv, "alice", now=NOW, directory=OWNED)
    assert not conv.deleted and list(conv.users) == ["bob"] and conv.assignees == []
    assert len(conv.messages) == len(accounts)


def test_delete_forever_needs_the_conversation_in_your_trash() -> None:
    conv = trashed_mail("acc-bob")
    before = copy.deepcopy(conv)
    with pytest.raises(Conflict):
        COMMANDS["delete_forever"](conv, "bob", now=NOW, directory=OWNED)
    assert conv == before


def test_a_deleted_conversation_refuses_every_command() -> None:
    conv = trashed_mail("acc-alice")
    COMMANDS["delete_forever"](conv, "alice", now=NOW, directory=OWNED)
    with pytest.raises(AppError) as refused:
        COMMANDS["star"](conv, "alice", now=NOW, directory=OWNED)
    assert refused.value.status == 404


def test_spam_leaves_every_inbox_and_not_spam_brings_it_back() -> None:
    conv = make({"alice": "inbox unread", "bob": ""}, **SUPPORT_TI)
    COMMANDS["mark_spam"](conv, "alice", now=NOW, directory=DIRECTORY)
    assert conv.spam and not conv.in_team_inbox
    assert not in_mailbox(conv, "alice", "inbox", DIRECTORY, NOW)
    assert in_mailbox(conv, "alice", "spam", DIRECTORY, NOW)
    assert not in_mailbox(conv, "bob", "team_inbox", DIRECTORY, NOW, team="support")
    COMMANDS["mark_spam"](conv, "bob", now=NOW, directory=DIRECTORY)  # a repeat: no event
    COMMANDS["not_spam"](conv, "bob", now=NOW, directory=DIRECTORY)
    assert in_mailbox(conv, "alice", "inbox", DIRECTORY, NOW)
    assert in_mailbox(conv, "bob", "team_inbox", DIRECTORY, NOW, team="support")
    assert [e.type for e in conv.events] == ["spam", "not_spam"]


def test_rooms_are_never_spam() -> None:
    conv = make({"alice": "inbox"}, messages=0, kind="team_room")
    with pytest.raises(Unprocessable):
        COMMANDS["mark_spam"](conv, "alice", now=NOW, directory=DIRECTORY)
    assert not conv.spam
