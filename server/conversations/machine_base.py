"""What every action of the state machine shares: checking the actor and the parameters
before anything changes, granting access, bringing a conversation to an Inbox, the
watcher set, assignment (assignees always watch) and timeline events."""

from __future__ import annotations

from collections.abc import Iterable

from server.conversations.model import Conversation, Directory, Event, TeamInfo, UserState
from server.errors import Forbidden, InvalidInput, Merged, NotFound, Unprocessable

ADMIN_ROLES = frozenset({"owner", "admin"})


def check_actor(conv: Conversation, actor: str, directory: Directory) -> UserState:
    """The actor's state; refuses anyone outside the organization or without access."""
    if conv.merged_into is not None:
        raise Merged(f"conversation {conv.id} was merged", target=conv.merged_into)
    if conv.deleted:
        raise NotFound(f"no conversation {conv.id}")
    if actor not in directory.members or conv.org_id != directory.org_id:
        raise Forbidden("not a member of this conversation's organization")
    state = conv.users.get(actor)
    if state is None:
        raise Forbidden("no access to this conversation")
    return state


def check_users(users: Iterable[str], directory: Directory, field: str) -> list[str]:
    """`users` without repeats, all of them members of the organization."""
    wanted = list(dict.fromkeys(users))
    unknown = [user for user in wanted if user not in directory.members]
    if unknown:
        raise InvalidInput(f"not in this organization: {', '.join(unknown)}", field=field)
    return wanted


def check_team(team: str, directory: Directory, field: str = "team") -> TeamInfo:
    info = directory.teams.get(team)
    if info is None:
        raise InvalidInput(f"no team {team!r} in this organization", field=field)
    return info


def check_team_member(actor: str, team: TeamInfo, directory: Directory) -> None:
    """Acting in a team inbox takes membership (active or observer) or an admin role."""
    if actor not in team.members and directory.members.get(actor) not in ADMIN_ROLES:
        raise Forbidden(f"not a member of team {team.name}", field="team")


def refuse_room(conv: Conversation, what: str) -> None:
    if conv.is_room:
        raise Unprocessable(f"rooms can only be archived, never {what}")


def is_admin(user: str, directory: Directory) -> bool:
    return directory.members.get(user) in ADMIN_ROLES


def grant(conv: Conversation, user: str, via: str) -> UserState:
    """The user's state, giving access (archived: in All, not in the Inbox) if they lacked it."""
    state = conv.users.get(user)
    if state is None:
        state = conv.users[user] = UserState(via=via)
    return state


def summon(state: UserState, now: int) -> None:
    """Put it at the top of the Inbox, out of their Trash: mention, assignment, invitation."""
    state.inbox = True
    state.trashed = False
    state.bumped_at = now


def bring_back(state: UserState, now: int) -> None:
    """New activity for a watcher: back at the top of the Inbox unless they trashed it."""
    if not state.trashed:
        state.inbox = True
        state.bumped_at = now


def watchers(conv: Conversation) -> set[str]:
    return {uid for uid, state in conv.users.items() if state.watching} | set(conv.assignees)


def spread_activity(conv: Conversation, actor: str, now: int) -> None:
    """New chat activity by `actor` (a comment, a task): everyone else sees it unread, and
    watchers (assignees among them) come back to their Inbox."""
    following = watchers(conv) - {actor}
    for uid, other in conv.users.items():
        if uid != actor:
            other.chat_unread = True
            if uid in following:
                bring_back(other, now)


def team_targets(team: TeamInfo) -> frozenset[str]:
    """Who a team stands for in a mention or Add people: its mention option (L9458–9461)."""
    return team.members if team.mention_adds_observers else team.active


def add_assignees(conv: Conversation, users: Iterable[str], now: int) -> list[str]:
    """Assign `users` (already checked): access, top of the Inbox, watching, out of the
    team inbox for everyone (rows 19, 20). Returns the newly assigned."""
    added = [user for user in users if user not in conv.assignees]
    for user in added:
        conv.assignees.append(user)
        state = grant(conv, user, "assignment")
        summon(state, now)
        state.watching = True
    if added:
        conv.in_team_inbox = False
    return added


def remove_assignees(conv: Conversation, users: Iterable[str]) -> list[str]:
    """Unassign `users`; they keep watching until they unwatch (row 20, inferred)."""
    gone = set(users)
    removed = [user for user in conv.assignees if user in gone]
    conv.assignees = [user for user in conv.assignees if user not in gone]
    return removed


def record(conv: Conversation, type_: str, actor: str | None, now: int, **data: object) -> None:
    conv.events.append(Event(type_, actor, now, dict(data)))


def touch(conv: Conversation, now: int) -> None:
    conv.last_activity_at = max(conv.last_activity_at, now)


def empty(conv: Conversation) -> None:
    """Leave nothing anyone can see: what stays of a merged-away or deleted conversation."""
    conv.users.clear()
    conv.assignees.clear()
    conv.labels.clear()
    conv.drafts.clear()
    conv.messages.clear()
    conv.comments.clear()
    conv.tasks.clear()
    conv.posts.clear()
    conv.scheduled.clear()
    conv.snooze = None
    conv.in_team_inbox = False
