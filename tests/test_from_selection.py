"""The From a reply or a new email starts with (AL-6, AL-8, AL-9): the spec's Philippe and
Rafael table, then the readings the spec left open — never-auto-select, "always reply
from", tie-breaks, the fallbacks, nothing sendable — and who may send from an alias."""

from __future__ import annotations

import pytest

from server.actions.identity import addressed_to
from server.identity.senders import (
    Alias,
    SenderPreferences,
    account_users,
    pick_new_from,
    pick_reply_from,
    sendable,
)

CB = "conferencebadge.com"
PHILIPPE, RAFAEL, TEAMMATE = "philippe", "rafael", "teammate"


def _alias(
    alias_id: str,
    account: str,
    address: str,
    at: int,
    users: frozenset[str],
    shared: frozenset[str] = frozenset(),
) -> Alias:
    return Alias(alias_id, account, address, alias_id == account, at, "", users, shared)


P_USERS = account_users(PHILIPPE, [], frozenset())
R_USERS = account_users(RAFAEL, [], frozenset())
TEAM_USERS = account_users(None, [], frozenset({RAFAEL, TEAMMATE}))
ALIASES = [  # creation order: accounts first, then the aliases added to them
    _alias("P", "P", f"philippe@{CB}", 1, P_USERS),
    _alias("R", "R", f"rafael@{CB}", 2, R_USERS),
    _alias("G", "G", "rafael@gmail.com", 3, R_USERS),
    _alias("T", "T", f"help@{CB}", 4, TEAM_USERS),
    _alias("P-sales", "P", f"sales@{CB}", 10, P_USERS),
    _alias("P-support", "P", f"support@{CB}", 11, P_USERS),
    _alias("R-support", "R", f"support@{CB}", 12, R_USERS),
    _alias("R-again", "R", f"rafael@{CB}", 13, R_USERS),  # the doc lists rafael@ twice
    _alias("P-press", "P", f"press@{CB}", 14, P_USERS, frozenset({TEAMMATE})),  # AL-7
    _alias("T-support", "T", f"support@{CB}", 15, TEAM_USERS),
]
NONE = SenderPreferences()


def _reply(
    user: str,
    sent_to: list[str],
    via: str | None = "P",
    preferences: SenderPreferences = NONE,
    never: frozenset[str] = frozenset(),
    aliases: list[Alias] = ALIASES,
    delivered_to: tuple[str, ...] = (),
) -> str | None:
    picked = pick_reply_from(
        aliases, user, sent_to=sent_to, via_account=via, preferences=preferences,
        never_auto=never, delivered_to=delivered_to,
    )  # fmt: skip
    return picked.id if picked is not None else None


@pytest.mark.parametrize(
    ("sent_to", "user", "never", "expected"),
    [
        (f"support@{CB}", PHILIPPE, frozenset(), "P-support"),  # exact match
        (f"support@{CB}", RAFAEL, frozenset(), "R-support"),  # his own support@
        (f"sales@{CB}", PHILIPPE, frozenset(), "P-sales"),
        (f"sales@{CB}", RAFAEL, frozenset(), "R"),  # no sales@: same domain, first created
        (f"sales@{CB}", PHILIPPE, frozenset({"P-sales"}), "P"),  # never-auto: same domain
    ],
    ids=["support-philippe", "support-rafael", "sales-philippe", "sales-rafael", "never-auto"],
)
def test_the_spec_table(sent_to: str, user: str, never: frozenset[str], expected: str) -> None:
    assert _reply(user, [sent_to], never=never) == expected


@pytest.mark.parametrize(
    ("case", "user", "sent_to", "via", "preferences", "never", "expected"),
    [
        ("always reply from the default", PHILIPPE, [f"sales@{CB}"], "P",
         SenderPreferences("P-support", True), frozenset(), "P-support"),
        ("the default is never-auto: still the default", PHILIPPE, [f"sales@{CB}"], "P",
         SenderPreferences("P-support", True), frozenset({"P-support"}), "P-support"),
        ("always, but the default is not yours: matching", PHILIPPE, [f"sales@{CB}"], "P",
         SenderPreferences("R", True), frozenset(), "P-sales"),
        ("a default without always: the match wins", PHILIPPE, [f"sales@{CB}"], "P",
         SenderPreferences("P-support", False), frozenset(), "P-sales"),
        ("same address on two accounts: the one it came through", RAFAEL,
         [f"support@{CB}"], "T", NONE, frozenset(), "T-support"),
        ("same address, via his own account", RAFAEL, [f"support@{CB}"], "R", NONE,
         frozenset(), "R-support"),
        ("same address twice on one account: the first created", RAFAEL, [f"rafael@{CB}"],
         "R", NONE, frozenset(), "R"),
        ("the first twin is never-auto: the second", RAFAEL, [f"rafael@{CB}"], "R", NONE,
         frozenset({"R"}), "R-again"),
        ("same domain, preferring the account it came through", RAFAEL, [f"ceo@{CB}"], "T",
         NONE, frozenset(), "T"),
        ("any address in To or Cc", RAFAEL, ["someone@else.test", "rafael@gmail.com"], "G",
         NONE, frozenset(), "G"),
        ("an address in capitals", PHILIPPE, [f"Sales@{CB.upper()}"], "P", NONE, frozenset(),
         "P-sales"),
        ("nothing matches: the default sender", RAFAEL, ["x@elsewhere.test"], "R",
         SenderPreferences("G"), frozenset(), "G"),
        ("nothing matches, no default: the account it came through", RAFAEL,
         ["x@elsewhere.test"], "T", NONE, frozenset(), "T"),
        ("that account is never-auto: nothing", RAFAEL, ["x@elsewhere.test"], "T", NONE,
         frozenset({"T"}), None),
        ("nothing matches, not his account: nothing", RAFAEL, ["x@elsewhere.test"], "P", NONE,
         frozenset(), None),
        ("an alias shared without its account", TEAMMATE, [f"press@{CB}"], "P", NONE,
         frozenset(), "P-press"),
        ("a stranger may send from nothing", "stranger", [f"support@{CB}"], "P",
         SenderPreferences("P", True), frozenset(), None),
    ],
)  # fmt: skip
def test_readings_the_spec_left_open(
    case: str,
    user: str,
    sent_to: list[str],
    via: str,
    preferences: SenderPreferences,
    never: frozenset[str],
    expected: str | None,
) -> None:
    assert _reply(user, sent_to, via, preferences, never) == expected, case


def test_to_and_cc_win_over_delivered_to() -> None:
    delivered = (f"philippe@{CB}",)  # the mailbox sales@ delivers into
    assert _reply(PHILIPPE, [f"sales@{CB}"], delivered_to=delivered) == "P-sales"
    assert _reply(PHILIPPE, ["list@lists.test"], delivered_to=delivered) == "P"
    gmail = ("rafael@gmail.com",)
    assert _reply(RAFAEL, ["list@lists.test"], via="G", delivered_to=gmail) == "G"
    assert _reply(RAFAEL, ["list@lists.test"], delivered_to=(f"x@{CB}",)) == "R"  # domain


def test_ties_follow_the_order_given_not_the_ids() -> None:
    reordered = [ALIASES[6], *ALIASES[:6], *ALIASES[7:]]  # R-support created before R
    assert _reply(RAFAEL, [f"sales@{CB}"], aliases=reordered) == "R-support"


@pytest.mark.parametrize(
    ("user", "preferences", "never", "expected"),
    [
        (PHILIPPE, NONE, frozenset(), "P"),  # the first alias you may send from
        (PHILIPPE, SenderPreferences("P-sales"), frozenset(), "P-sales"),  # the default sender
        (PHILIPPE, SenderPreferences("P-sales"), frozenset({"P-sales"}), "P-sales"),
        (PHILIPPE, NONE, frozenset({"P"}), "P-sales"),  # never-auto skipped
        (RAFAEL, SenderPreferences("P"), frozenset(), "R"),  # a default he lost
        (TEAMMATE, NONE, frozenset(), "T"),  # through the team's account
        ("stranger", NONE, frozenset(), None),
    ],
)
def test_a_new_email(
    user: str, preferences: SenderPreferences, never: frozenset[str], expected: str | None
) -> None:
    picked = pick_new_from(ALIASES, user, preferences=preferences, never_auto=never)
    assert (picked.id if picked is not None else None) == expected


def test_who_may_send_from_an_alias() -> None:
    shared = account_users("owner", ["delegate"], frozenset({"team-member"}))
    alias = Alias("A", "acc", "a@x.test", False, 1, "", shared, frozenset({"alias-only"}))
    for user in ("owner", "delegate", "team-member", "alias-only"):
        assert sendable(alias, user), user
    assert not sendable(alias, "someone-else")
    assert account_users(None, [], frozenset()) == frozenset()


def test_sent_to_reads_to_cc_and_delivered_to() -> None:
    raw = (
        b"Delivered-To: Sales@Conferencebadge.com\r\n"
        b"From: Carla <carla@example.com>\r\n"
        b'To: "Support" <support@conferencebadge.com>, other@example.com\r\n'
        b"Cc: =?utf-8?q?J=C3=BCrgen?= <jurgen@example.com>\r\n"
        b"Bcc: hidden@example.com\r\n"
        b"Subject: Hello\r\n\r\nBody\r\n"
    )
    assert addressed_to(raw, "To", "Cc") == [
        "support@conferencebadge.com",
        "other@example.com",
        "jurgen@example.com",
    ]
    assert addressed_to(raw, "Delivered-To") == ["sales@conferencebadge.com"]
    assert addressed_to(b"Subject: no recipients\r\n\r\n", "To", "Cc") == []
