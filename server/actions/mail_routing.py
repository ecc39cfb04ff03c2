"""Where one received mail goes inside its organization when it is addressed to the accounts
of several teams (state machine row 4): which team inboxes it reached, the conversation a
team's copy threads into, and the de-duplication key of each copy. Pure: the caller reads
the stores and hands over what they hold.

De-duplication keys. A mail stored once for the organization (a personal or Inbox-flow
account, one team, or "single" mode) is keyed by its Message-ID (`sync.threading.dedupe_key`).
In "duplicate" mode each team's copy is keyed `<Message-ID> team:<team id>`, so the unique
index on (organization, key) still stores every copy once, whichever account imports it
and however often; any stored key of either form means the organization has the mail.
A different mail that reuses a stored mail's Message-ID (legacy systems do) is keyed
`<Message-ID> content:<fingerprint>`, and its team copies get the team scope after that.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.conversations.machine_mail import teams_by_name
from server.conversations.model import Directory
from server.storage.mail import Account, ThreadCandidate
from sync.mime import ParsedMessage

COPY_SCOPE = " team:"  # a Message-ID holds no whitespace, so no plain key contains it
CONTENT_SCOPE = " content:"  # a different mail reusing a stored mail's Message-ID


def copy_key(base: str, team: str) -> str:
    """The key of team `team`'s copy of the mail keyed `base` ("duplicate" mode)."""
    return f"{base}{COPY_SCOPE}{team}"


def is_key_of(key: str, base: str) -> bool:
    """Whether a stored key is the mail `base`'s: stored once, or one team's copy."""
    return key == base or key.startswith(base + COPY_SCOPE)


def delivers_to_team(account: Account) -> bool:
    return account.delivery == "team_inbox" and account.team_id is not None


def addressed_teams(
    account: Account, msg: ParsedMessage, accounts: Iterable[Account], directory: Directory
) -> dict[str, Account]:
    """Team -> the account a mail received through `account` reaches it by, in team-name
    order: `account`'s own team, and each other team with a team inbox whose team-inbox
    account is in To or Cc (the first such account by address). Empty when `account`
    delivers to no team inbox: a personal or Inbox-flow account keeps its own delivery."""
    if account.team_id is None or not delivers_to_team(account):
        return {}
    recipients = {address.strip().lower() for _, address in (*msg.to, *msg.cc)}
    found: dict[str, Account] = {account.team_id: account}
    for other in sorted(accounts, key=lambda a: a.address):
        team = directory.teams.get(other.team_id) if other.team_id is not None else None
        if team is None or not team.has_inbox or not delivers_to_team(other):
            continue
        if other.address in recipients and other.org_id == account.org_id:
            found.setdefault(team.id, other)
    return {team: found[team] for team in teams_by_name(found, directory)}


def pick_conversation(
    candidates: list[ThreadCandidate], team: str | None, *, own_copy: bool
) -> str | None:
    """Which conversation holding a message of the thread a new message joins.

    Without a team: the first (oldest copy). For team `team`: its own copy first (the one
    delivered through its account), then one that is in the team now (moved there by
    hand), then one without a team. With `own_copy` ("duplicate" mode) that is all: a
    thread living only in other teams' conversations starts this team's own copy.
    Otherwise any conversation of the thread will do (in "single" mode the message may
    then move it, row 5)."""
    if team is None:
        return candidates[0].conversation_id if candidates else None

    def rank(candidate: ThreadCandidate) -> int:
        if candidate.via_team == team:
            return 0
        if candidate.team == team:
            return 1
        return 2 if candidate.team is None else 3

    best = min(range(len(candidates)), key=lambda i: (rank(candidates[i]), i), default=None)
    if best is None or (own_copy and rank(candidates[best]) == 3):
        return None
    return candidates[best].conversation_id
