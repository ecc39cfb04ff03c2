"""Rows of the state machine table that the product builds from other actions: Send &
Snooze (row 33) and a label's "Move to" (row 51). Each runs the actions in order, as the
client (or a send variant) does, and checks what every user sees. Helpers and members are
those of tests/test_state_machine.py."""

from __future__ import annotations

from server.conversations.machine import COMMANDS, receive_message, send_message
from server.conversations.model import Conversation, Delivery
from tests.fixtures.machine import (
    DIRECTORY,
    HOUR,
    NOW,
    SUPPORT_TI,
    facts,
    inbound,
    looks,
    make,
    outbound,
)


def _send_and_snooze(discard_if_reply: bool) -> Conversation:
    conv = make({"alice": "inbox unread watching", "bob": "inbox"})
    send_message(conv, "alice", summary=outbound(), now=NOW, directory=DIRECTORY)
    COMMANDS["snooze"](
        conv, "alice", until=NOW + HOUR, discard_if_reply=discard_if_reply,
        now=NOW, directory=DIRECTORY,
    )  # fmt: skip
    assert looks(conv, "alice") == "snoozed watching"
    assert looks(conv, "bob") == "inbox"  # a snooze for me leaves the others alone
    return conv


def test_row_33_send_and_snooze_a_reply_cancels_a_discard_if_reply_snooze() -> None:
    conv = _send_and_snooze(discard_if_reply=True)
    receive_message(conv, inbound(7, NOW + 1), Delivery(), now=NOW + 1, directory=DIRECTORY)
    assert conv.users["alice"].snooze is None
    assert looks(conv, "alice") == "inbox unread watching"  # the reply brings the sender back


def test_row_33_send_and_snooze_without_discard_keeps_the_snooze_through_a_reply() -> None:
    conv = _send_and_snooze(discard_if_reply=False)
    receive_message(conv, inbound(7, NOW + 1), Delivery(), now=NOW + 1, directory=DIRECTORY)
    assert looks(conv, "alice") == "snoozed unread watching"


def test_row_51_label_move_to_from_the_inbox_labels_and_archives_for_the_actor() -> None:
    conv = make({"alice": "inbox", "bob": "inbox"})
    COMMANDS["add_labels"](conv, "alice", labels=["billing"], now=NOW, directory=DIRECTORY)
    COMMANDS["archive"](conv, "alice", now=NOW, directory=DIRECTORY)
    assert facts(conv)["labels"] == ["billing"]
    assert (looks(conv, "alice"), looks(conv, "bob")) == ("archived", "inbox")


def test_row_51_label_move_to_from_a_team_inbox_takes_it_out_of_the_team_inbox() -> None:
    conv = make({"bob": "", "carol": ""}, **SUPPORT_TI)
    COMMANDS["add_labels"](conv, "bob", labels=["billing"], now=NOW, directory=DIRECTORY)
    COMMANDS["archive"](conv, "bob", team="support", now=NOW, directory=DIRECTORY)
    assert facts(conv)["labels"] == ["billing"]
    assert facts(conv)["in_team_inbox"] is False and facts(conv)["status"] == "open"
