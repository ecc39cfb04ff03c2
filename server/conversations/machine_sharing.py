"""Sharing: Add people and comments with @mentions (state machine rows 12–15, 17, 18).

Mentions arrive as the HTTP API parses them: `{"user": id}`, `{"team": id}`,
`{"group": name}` or `{"all": true}`. `@all` means every member of the organization, who
all get access (the GAP at L7327, decided in docs/behaviour.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from server.conversations.machine_base import (
    check_actor,
    check_team,
    check_users,
    grant,
    record,
    spread_activity,
    summon,
    team_targets,
    touch,
)
from server.conversations.model import Comment, Conversation, Directory
from server.errors import Conflict, InvalidInput

Mention = Mapping[str, object]


def add_people(
    conv: Conversation,
    actor: str,
    *,
    users: list[str],
    teams: list[str] | None = None,
    show_in_inbox: bool = True,
    now: int,
    directory: Directory,
) -> None:
    """Rows 17, 18: users and teams (by their mention option) get access; with
    `show_in_inbox` it goes to the top of their Inbox, without it newcomers find it archived
    (people who had access keep their Inbox as it was)."""
    check_actor(conv, actor, directory)
    targets = check_users(users, directory, "users")
    for team in teams or []:
        targets += sorted(team_targets(check_team(team, directory, "teams")))
    targets = [user for user in dict.fromkeys(targets) if user != actor]
    if not targets:
        raise InvalidInput("name at least one other user or team", field="users")
    newcomers = [user for user in targets if user not in conv.users]
    for user in targets:
        state = grant(conv, user, "add_people")
        if show_in_inbox:
            summon(state, now)
    if newcomers:
        record(conv, "shared", actor, now, users=newcomers, show_in_inbox=show_in_inbox)


def resolve_mentions(mentions: Sequence[Mention], directory: Directory) -> list[str]:
    """The users the mentions reach, in order, without repeats; refuses unknown targets."""
    reached: list[str] = []
    for index, mention in enumerate(mentions):
        field = f"mentions[{index}]"
        if "user" in mention:
            reached += check_users([str(mention["user"])], directory, field)
        elif "team" in mention:
            reached += sorted(team_targets(check_team(str(mention["team"]), directory, field)))
        elif "group" in mention:
            group = directory.groups.get(str(mention["group"]))
            if group is None:
                raise InvalidInput(f"no mention group {mention['group']!r}", field=field)
            reached += sorted(group)
        elif mention.get("all") is True:
            reached += sorted(directory.members)
        else:
            raise InvalidInput("unknown kind of mention", field=field)
    return list(dict.fromkeys(reached))


def comment(
    conv: Conversation,
    actor: str,
    *,
    comment_id: str,
    body: str,
    mentions: Sequence[Mention] = (),
    now: int,
    directory: Directory,
) -> None:
    """Rows 12–15: the author watches; everyone mentioned gets access and the top of their
    Inbox; watchers (assignees among them) come back to their Inbox; every other
    participant only sees the chat unread."""
    state = check_actor(conv, actor, directory)
    if not body.strip():
        raise InvalidInput("a comment needs a body", field="body")
    if any(existing.id == comment_id for existing in conv.comments):
        raise Conflict(f"comment {comment_id} already exists", field="comment_id")
    reached = [user for user in resolve_mentions(mentions, directory) if user != actor]
    spread_activity(conv, actor, now)
    for user in reached:
        mentioned = grant(conv, user, "mention")
        mentioned.chat_unread = True
        summon(mentioned, now)
    state.watching = True
    state.chat_unread = False
    conv.comments.append(Comment(comment_id, actor, body, now, mentions=reached))
    touch(conv, now)
