"""External messages arriving and leaving (state machine rows 1–9, 11, 23, 28).

Arrivals never undo a user's own Trash: only mentions, assignment, invitations and reopening
a closed conversation for its assignees take a conversation out of someone's Trash.

Mail to the accounts of several teams (rows 4, 5) follows the organization's
`multi_team_delivery`: in "duplicate" mode ingestion makes one copy per team and each copy
notes the others; in "single" mode the conversation lives in one team inbox, the
alphabetically-first team's, and moves "by message" when later mail is addressed only to
other teams' accounts."""

from __future__ import annotations

from collections.abc import Iterable

from server.conversations.machine_base import (
    add_assignees,
    bring_back,
    check_actor,
    check_team,
    check_users,
    grant,
    record,
    refuse_room,
    touch,
    watchers,
)
from server.conversations.machine_drafts import discard_scheduled_on_reply
from server.conversations.machine_snooze import discard_snoozes_on_reply
from server.conversations.machine_triage import reopen_for_assignees
from server.conversations.model import (
    MAX_MESSAGES,
    Conversation,
    Delivery,
    Directory,
    MessageSummary,
    Receipt,
)
from server.errors import InvalidInput, Merged, Unprocessable


def receive_message(
    conv: Conversation,
    summary: MessageSummary,
    delivery: Delivery,
    *,
    now: int,
    directory: Directory,
) -> Receipt:
    """Append an inbound message. A conversation without messages is a new thread (rows
    1–3); otherwise it is a reply (rows 6–8, 11). A full conversation (MAX_MESSAGES) is
    left untouched and the receipt asks for a new conversation (row 9)."""
    _check_delivery(conv, summary, delivery, directory)
    if conv.messages and conv.message_count >= MAX_MESSAGES:
        return Receipt(needs_new_conversation=True)
    new_thread = not conv.messages
    team = _team_for(conv, delivery, directory)
    conv.messages.append(summary)
    touch(conv, now)
    if not conv.subject_custom and (new_thread or not conv.subject):
        conv.subject = summary.subject
    discarded: tuple[str, ...] = ()
    if new_thread:
        notify = _deliver_new_thread(conv, delivery, team, now, directory)
    else:
        notify = _deliver_reply(conv, delivery, team, now, directory)
        discarded = discard_scheduled_on_reply(conv, now)
    if delivery.copies:
        copies = [{"team": copy_team, "conversation": c} for copy_team, c in delivery.copies]
        record(conv, "duplicated", None, now, message=summary.id, copies=copies)
    return Receipt(notify=frozenset(notify), discarded_sends=discarded)


def teams_by_name(teams: Iterable[str], directory: Directory) -> list[str]:
    """Row 4's order: alphabetical by team name, ignoring case (the name as written, then
    the id, break ties)."""

    def by_name(team: str) -> tuple[str, str, str]:
        name = directory.teams[team].name if team in directory.teams else ""
        return (name.casefold(), name, team)

    return sorted(set(teams), key=by_name)


def first_team(teams: Iterable[str], directory: Directory) -> str | None:
    """Row 4, "single" mode: the team inbox a mail to several teams goes to."""
    return next(iter(teams_by_name(teams, directory)), None)


def send_message(
    conv: Conversation,
    actor: str,
    *,
    summary: MessageSummary,
    now: int,
    directory: Directory,
    addressed_teams: frozenset[str] = frozenset(),
) -> None:
    """Rows 23, 28: a reply sent while the conversation waits in its team inbox assigns the
    sender (it leaves the team inbox) unless the team is set to leave it there.

    Row 5: `addressed_teams` are the teams whose team-inbox accounts are among the
    recipients (To/Cc). In "single" mode, a reply addressed to none of the conversation's
    own team's accounts but to another team's moves it to that team (the alphabetically
    first), where it waits in the team inbox unless someone is assigned."""
    state = check_actor(conv, actor, directory)
    refuse_room(conv, "sent from")
    if summary.direction != "out":
        raise InvalidInput("an outbound message is sent", field="direction")
    _check_addressed_teams(addressed_teams, directory)
    team = directory.teams.get(conv.team) if conv.team is not None else None
    assigns_replier = team is not None and conv.in_team_inbox and team.reply_assigns_replier
    if assigns_replier and add_assignees(conv, [actor], now):
        record(conv, "assigned", actor, now, users=[actor], by_reply=True)
    conv.messages.append(summary)
    target = first_team(addressed_teams, directory)
    single = directory.multi_team_delivery == "single"
    if single and target is not None and conv.team not in (None, *addressed_teams):
        _move_by_message(conv, target, now, directory)
        if conv.status == "open" and not conv.assignees:
            _into_team_inbox(conv, target, directory)
    state.unread = False
    touch(conv, now)


def record_sent(
    conv: Conversation,
    summary: MessageSummary,
    delivery: Delivery,
    *,
    now: int,
    directory: Directory,
) -> None:
    """Mail the account sent outside Tandem — an imported Sent folder, or (next) IMAP's —
    joins its thread as history: nobody's Inbox, unread or assignment changes. A thread it
    starts is shared as the account says, but archived (it shows in All and Sent), and is
    linked to the account's team without waiting in its team inbox."""
    if conv.merged_into is not None:
        raise Merged(f"conversation {conv.id} was merged", target=conv.merged_into)
    if summary.direction != "out":
        raise InvalidInput("a sent message is outbound", field="direction")
    if not conv.messages:
        for user in _delivery_users(delivery):
            if user in directory.members:
                grant(conv, user, "account")
        if delivery.team is not None and delivery.team in directory.teams:
            conv.team = delivery.team
            for user in directory.teams[delivery.team].members:
                grant(conv, user, "account")
    conv.messages.append(summary)
    if not conv.subject_custom and len(conv.messages) == 1:
        conv.subject = summary.subject
    touch(conv, summary.at)


def _delivery_users(delivery: Delivery) -> list[str]:
    owner = [delivery.owner] if delivery.owner is not None else []
    return sorted({*owner, *delivery.inbox_users, *delivery.archived_users})


def _check_delivery(
    conv: Conversation, summary: MessageSummary, delivery: Delivery, directory: Directory
) -> None:
    if conv.merged_into is not None:
        raise Merged(f"conversation {conv.id} was merged", target=conv.merged_into)
    if summary.direction != "in":
        raise InvalidInput("an inbound message is received", field="direction")
    named = [delivery.owner] if delivery.owner is not None else []
    check_users([*named, *delivery.inbox_users, *delivery.archived_users], directory, "delivery")
    if delivery.team is not None and not check_team(delivery.team, directory).has_inbox:
        raise Unprocessable("that team has no team inbox", field="team")
    _check_addressed_teams(delivery.addressed_teams, directory)
    for team, _ in delivery.copies:
        check_team(team, directory, "copies")


def _check_addressed_teams(teams: frozenset[str], directory: Directory) -> None:
    for team in sorted(teams):
        if not check_team(team, directory, "addressed_teams").has_inbox:
            raise Unprocessable(f"team {team} has no team inbox", field="addressed_teams")


def _team_for(conv: Conversation, delivery: Delivery, directory: Directory) -> str | None:
    """The team inbox an arriving message is for: the receiving account's team; in "single"
    mode the conversation's own team when its accounts were addressed too, else the
    alphabetically-first addressed team (rows 4, 5)."""
    if directory.multi_team_delivery != "single":
        return delivery.team
    teams = delivery.addressed_teams | ({delivery.team} if delivery.team is not None else set())
    if conv.team is not None and conv.team in teams:
        return conv.team
    return first_team(teams, directory)


def _deliver_new_thread(
    conv: Conversation, delivery: Delivery, team: str | None, now: int, directory: Directory
) -> set[str]:
    """Rows 1–4: private to a personal account's owner; shared by the account's settings
    (Inbox or auto-archived); or into a team inbox, where members see it (access, unread)
    and only active members are notified."""
    notify = _deliver_to_users(conv, delivery, now)
    if team is not None:
        notify |= _into_team_inbox(conv, team, directory)
    return notify


def _deliver_reply(
    conv: Conversation, delivery: Delivery, target: str | None, now: int, directory: Directory
) -> set[str]:
    """Rows 5–8: unread for everyone; watchers and direct recipients back to their Inbox;
    assignees too, unless their team sends replies on assigned conversations back to the
    team inbox. Closed: reopened, and only the assignees are notified. In "single" mode a
    reply for another team's inbox first moves the conversation there (row 5)."""
    discard_snoozes_on_reply(conv, now)
    single = directory.multi_team_delivery == "single"
    if single and target is not None and conv.team not in (None, target):
        _move_by_message(conv, target, now, directory)
    was_closed = conv.status == "closed"
    if was_closed:
        reopen_for_assignees(conv, None, now)
    for state in conv.users.values():
        state.unread = True
    if conv.team is None and target is not None:
        conv.team = target
    team = directory.teams.get(conv.team) if conv.team is not None else None
    to_team_inbox = (
        team is not None
        and team.has_inbox
        and (not conv.assignees or team.inbound_reply_on_assigned == "team_inbox")
    )
    returning = watchers(conv) | (delivery.direct_to & set(conv.users))
    if to_team_inbox and team is not None:
        returning -= set(conv.assignees)
    for uid in sorted(returning):
        bring_back(conv.users[uid], now)
    notify = _deliver_to_users(conv, delivery, now) | returning
    if to_team_inbox and team is not None:
        notify |= _into_team_inbox(conv, team.id, directory)
    return set(conv.assignees) if was_closed else notify


def _deliver_to_users(conv: Conversation, delivery: Delivery, now: int) -> set[str]:
    to_inbox = {*delivery.inbox_users, *([delivery.owner] if delivery.owner else [])}
    for user in sorted(to_inbox):
        state = grant(conv, user, "account")
        state.unread = True
        bring_back(state, now)
    for user in sorted(delivery.archived_users - to_inbox):
        grant(conv, user, "account").unread = True
    return to_inbox


def _move_by_message(conv: Conversation, team: str, now: int, directory: Directory) -> None:
    """Row 5: mail takes the conversation to `team`, whose members get access; whether it
    then waits in that team inbox is decided as for any message. Assignees stay."""
    previous = conv.team
    conv.team = team
    conv.in_team_inbox = False
    for member in sorted(directory.teams[team].members):
        grant(conv, member, "team")
    record(conv, "moved", None, now, **{"from": previous, "to": team, "by": "message"})


def _into_team_inbox(conv: Conversation, team: str, directory: Directory) -> set[str]:
    info = directory.teams[team]
    conv.team = team
    conv.in_team_inbox = True
    for member in sorted(info.members):
        grant(conv, member, "team").unread = True
    return set(info.active)
