"""The Missive API's conversation-modifying parameters (reference §2.0: `POST /v1/posts`,
`PATCH /v1/conversations`) as one change built from the state machine's own actions, in a
fixed order, everything checked before the first of them runs. Three actions exist only
for the API: linking a team without its team inbox, the color, and the Inbox for everyone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.conversations.machine_base import (
    bring_back,
    check_actor,
    check_team,
    check_users,
    grant,
    record,
    refuse_room,
    summon,
)
from server.conversations.machine_labels import add_labels, remove_labels, rename
from server.conversations.machine_posts import add_post
from server.conversations.machine_sharing import add_people
from server.conversations.machine_triage import assign, close, move_to_team, reopen, unassign
from server.conversations.model import Conversation, Directory, Post
from server.errors import InvalidInput

COLOR_WORDS = frozenset({"good", "warning", "danger"})
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Changes:
    """One request's parameters, named as in the API."""

    team: str | None = None
    force_team: bool = False
    add_users: tuple[str, ...] = ()
    add_assignees: tuple[str, ...] = ()
    remove_assignees: tuple[str, ...] = ()
    subject: str | None = None
    color: str | None = None
    add_shared_labels: tuple[str, ...] = ()
    remove_shared_labels: tuple[str, ...] = ()
    add_to_inbox: bool = False
    add_to_team_inbox: bool = False
    close: bool = False
    reopen: bool | None = None  # None: a post reopens a closed conversation, a PATCH does not


def is_color(value: str) -> bool:
    return value in COLOR_WORDS or HEX_COLOR.match(value) is not None


def check_changes(changes: Changes, directory: Directory) -> None:
    """Every id is the organization's and nothing contradicts itself."""
    for name in ("add_users", "add_assignees", "remove_assignees"):
        check_users(getattr(changes, name), directory, name)
    for name in ("add_shared_labels", "remove_shared_labels"):
        unknown = [label for label in getattr(changes, name) if label not in directory.labels]
        if unknown:
            raise InvalidInput(f"no shared label {', '.join(unknown)} here", field=name)
    if changes.team is not None:
        check_team(changes.team, directory)
    if changes.add_to_team_inbox and changes.team is None:
        raise InvalidInput("add_to_team_inbox needs team", field="add_to_team_inbox")
    if set(changes.add_assignees) & set(changes.remove_assignees):
        raise InvalidInput("a user is both added and removed", field="remove_assignees")
    if set(changes.add_shared_labels) & set(changes.remove_shared_labels):
        raise InvalidInput("a label is both added and removed", field="remove_shared_labels")
    if changes.close and changes.reopen:
        raise InvalidInput("close and reopen contradict each other", field="reopen")
    if changes.subject is not None and not changes.subject.strip():
        raise InvalidInput("the subject cannot be empty", field="subject")
    if changes.color is not None and not is_color(changes.color):
        raise InvalidInput("a color is #RGB, #RRGGBB, good, warning or danger", field="color")


def apply_changes(
    conv: Conversation,
    actor: str,
    changes: Changes,
    *,
    post: Post | None = None,
    created: bool = False,
    now: int,
    directory: Directory,
) -> None:
    """Sharing and triage first — the team (its team inbox with `add_to_team_inbox`; a
    conversation in a team keeps it unless `force_team`), people, assignees, subject,
    color, labels — so newcomers see the post unread; then reopening, the post, where it
    waits (a new conversation in its poster's Inbox unless it went to a team inbox,
    everyone's Inbox), and closing last."""
    check_actor(conv, actor, directory)
    check_changes(changes, directory)
    if changes.team is not None and changes.add_to_team_inbox:
        team = changes.team if conv.team is None or changes.force_team else conv.team
        move_to_team(conv, actor, team=team, now=now, directory=directory)
    elif changes.team is not None:
        link_team(
            conv, actor, team=changes.team, force=changes.force_team, now=now, directory=directory
        )
    invited = [user for user in changes.add_users if user != actor]
    if invited:
        add_people(conv, actor, users=invited, now=now, directory=directory)
    if changes.remove_assignees:
        unassign(conv, actor, users=list(changes.remove_assignees), now=now, directory=directory)
    if changes.add_assignees:
        assign(conv, actor, users=list(changes.add_assignees), now=now, directory=directory)
    if changes.subject is not None:
        rename(conv, actor, subject=changes.subject, now=now, directory=directory)
    if changes.color is not None:
        set_color(conv, actor, color=changes.color, now=now, directory=directory)
    if changes.add_shared_labels:
        add_labels(
            conv, actor, labels=list(changes.add_shared_labels), now=now, directory=directory
        )
    if changes.remove_shared_labels:
        remove_labels(
            conv, actor, labels=list(changes.remove_shared_labels), now=now, directory=directory
        )
    reopening = changes.reopen if changes.reopen is not None else post is not None
    if reopening and not changes.close and conv.status == "closed":
        reopen(conv, actor, now=now, directory=directory)
    if post is not None:
        add_post(conv, actor, post=post, now=now, directory=directory)
    if created and not changes.add_to_team_inbox:
        summon(conv.users[actor], now)
    if changes.add_to_inbox:
        move_to_inbox_for_everyone(conv, actor, now=now, directory=directory)
    if changes.close:
        close(conv, actor, now=now, directory=directory)


def link_team(
    conv: Conversation,
    actor: str,
    *,
    team: str,
    force: bool = False,
    now: int,
    directory: Directory,
) -> None:
    """`team`: the conversation belongs to the team (its members get access and find it in
    the team's All), without entering its team inbox; a conversation already in a team
    keeps it unless `force`."""
    check_actor(conv, actor, directory)
    refuse_room(conv, "moved to a team")
    info = check_team(team, directory)
    if conv.team == team or (conv.team is not None and not force):
        return
    previous = conv.team
    conv.team = team
    conv.in_team_inbox = False
    for member in sorted(info.members):
        grant(conv, member, "team")
    record(conv, "moved", actor, now, **{"from": previous, "to": team})


def set_color(
    conv: Conversation, actor: str, *, color: str, now: int, directory: Directory
) -> None:
    check_actor(conv, actor, directory)
    if not is_color(color):
        raise InvalidInput("a color is #RGB, #RRGGBB, good, warning or danger", field="color")
    conv.color = color


def move_to_inbox_for_everyone(
    conv: Conversation, actor: str, *, now: int, directory: Directory
) -> None:
    """`add_to_inbox`: back at the top of the Inbox of everyone with access; a user's own
    Trash stays theirs (like other people's activity, it does not pull it out)."""
    check_actor(conv, actor, directory)
    for state in conv.users.values():
        bring_back(state, now)
