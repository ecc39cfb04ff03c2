"""The conversation as the state machine sees it: plain data, no I/O.

One `Conversation` is what a `conv:<id>` document holds (the document mapping is in
`server.conversations.document`). Per-user state is visible to everyone with access, as
the product shows it on the access avatars. Times are integer Unix milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["thread", "chat", "team_room", "org_room", "one_to_one"]
Status = Literal["open", "closed"]
SnoozeScope = Literal["me", "everyone"]
MultiTeamDelivery = Literal["duplicate", "single"]
ROOM_KINDS: frozenset[str] = frozenset({"team_room", "org_room", "one_to_one"})
MAX_MESSAGES = 400  # external messages per conversation; the 401st starts a new one
MAX_LABELS = 100  # organization labels per conversation
UNDO_SEND_DELAYS = (0, 5, 10, 30)  # seconds a sent message can be recalled, as offered


@dataclass
class Snooze:
    until: int
    scope: SnoozeScope
    leave_in_inbox: bool = False
    discard_if_reply: bool = False
    by: str = ""  # the user who snoozed


@dataclass
class UserState:
    """One user's relation to one conversation. Having an entry means having access."""

    inbox: bool = False  # in their personal Inbox (else: archived, still in All)
    unread: bool = False  # external messages unread
    chat_unread: bool = False  # comments unread
    watching: bool = False
    starred: bool = False
    trashed: bool = False  # in their Trash (their own)
    snooze: Snooze | None = None  # scope "me" snoozes live here
    bumped_at: int = 0  # Inbox order: last time it came (back) to their Inbox
    via: str = "share"  # how access was granted: account, mention, add_people, assignment, ...


@dataclass
class Comment:
    id: str
    author: str
    body: str
    created_at: int
    mentions: list[str] = field(default_factory=list)  # user ids reached
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji -> user ids
    edited_at: int | None = None
    deleted: bool = False


@dataclass
class MessageSummary:
    id: str
    direction: Literal["in", "out"]
    from_address: str
    subject: str
    preview: str
    at: int
    account_id: str | None = None
    rfc_message_id: str | None = None  # the mail's Message-ID: copies of one mail share it
    from_name: str = ""  # the sender's display name, as the mail gave it
    attachments: int = 0  # files attached (inline images not counted)


def latest(messages: list[MessageSummary]) -> MessageSummary:
    """The most recent message; of two with the same time, the later one in the log."""
    return max(enumerate(messages), key=lambda pair: (pair[1].at, pair[0]))[1]


@dataclass
class ScheduledSend:
    """A reply draft set to Send Later (row 34): it leaves Drafts for Send Later until
    `at`; with `discard_if_reply`, a reply arriving first discards it (row 10)."""

    draft_id: str
    outbox_id: str
    at: int
    by: str
    discard_if_reply: bool = False


@dataclass
class Task:
    """A task card inside a conversation (row 44): its assignees find the conversation in
    Assigned to me until it is done."""

    id: str
    title: str
    created_by: str
    created_at: int
    assignees: list[str] = field(default_factory=list)
    due_at: int | None = None
    done: bool = False
    done_at: int | None = None


@dataclass
class Event:
    """A timeline entry: assigned, unassigned, closed, reopened, renamed, labelled,
    unlabelled, snoozed, unsnoozed, moved, shared, trashed, restored, merged, and
    duplicated (the note naming the other copies of a mail sent to several teams)."""

    type: str
    actor: str | None  # None for the system (sync, rules, scheduler)
    at: int
    data: dict[str, object] = field(default_factory=dict)
    by_rule: bool = False


@dataclass
class Post:
    """An integration's card in the timeline (`POST /v1/posts`): Markdown or text and
    attachment cards, shown under `username` instead of its author, the user whose token
    posted it. `references` are the keys later posts thread onto it by. A deleted post
    keeps its id, author, time and references; its content is gone."""

    id: str
    author: str
    created_at: int
    text: str = ""
    markdown: str = ""
    username: str | None = None
    username_icon: str | None = None
    conversation_icon: str | None = None
    notification: dict[str, str] | None = None  # {"title", "body"}
    attachments: list[dict[str, object]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Conversation:
    id: str
    org_id: str
    kind: Kind = "thread"
    subject: str = ""
    subject_custom: bool = False
    status: Status = "open"
    team: str | None = None
    in_team_inbox: bool = False
    color: str | None = None
    assignees: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    users: dict[str, UserState] = field(default_factory=dict)
    snooze: Snooze | None = None  # scope "everyone"
    trashed_for_everyone: bool = False
    spam: bool = False
    messages: list[MessageSummary] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    scheduled: list[ScheduledSend] = field(default_factory=list)
    last_activity_at: int = 0
    merged_into: str | None = None
    deleted: bool = False  # deleted forever by the account owner: a tombstone for holders
    posts: list[Post] = field(default_factory=list)

    @property
    def is_room(self) -> bool:
        return self.kind in ROOM_KINDS

    @property
    def private(self) -> bool:
        return len(self.users) <= 1 and self.team is None

    @property
    def has_sent(self) -> bool:
        """Whether anything was sent from it: the Sent mailbox, and "not a first email"
        for signatures (SG-3)."""
        return any(message.direction == "out" for message in self.messages)

    @property
    def message_count(self) -> int:
        return len(self.messages)

    def has_open_task_for(self, user: str) -> bool:
        return any(user in task.assignees and not task.done for task in self.tasks)


@dataclass(frozen=True)
class TeamInfo:
    id: str
    name: str
    active: frozenset[str]
    observers: frozenset[str]
    has_inbox: bool = True
    reply_assigns_replier: bool = True
    inbound_reply_on_assigned: Literal["assignee_inbox", "team_inbox"] = "assignee_inbox"
    mention_adds_observers: bool = False

    @property
    def members(self) -> frozenset[str]:
        return self.active | self.observers


@dataclass(frozen=True)
class Preferences:
    time_zone: str = "UTC"
    remove_closed_from_inbox: bool = False
    auto_watch_draft: bool = True
    auto_watch_task: bool = True
    auto_watch_new_conversation: bool = True
    undo_send_s: int = 0  # how long a sent message can be recalled: 0, 5, 10 or 30 seconds


@dataclass(frozen=True)
class Directory:
    """What the machine needs to know about the organization around a conversation."""

    org_id: str
    members: dict[str, str]  # user id -> role (owner, admin, member)
    teams: dict[str, TeamInfo] = field(default_factory=dict)
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # mention group -> users
    preferences: dict[str, Preferences] = field(default_factory=dict)
    labels: dict[str, frozenset[str]] = field(default_factory=dict)  # label id -> auto-shared
    handles: dict[str, str] = field(default_factory=dict)  # @handle (lowercase) -> user id
    account_owners: dict[str, str] = field(default_factory=dict)  # account id -> owner id
    restricted_labels: frozenset[str] = frozenset()  # visible to admins and auto-shared users
    multi_team_delivery: MultiTeamDelivery = "duplicate"  # mail to several teams (rows 4, 5)

    def label_visible(self, label: str, user: str) -> bool:
        """Whether `user` sees, applies and removes organization label `label`."""
        if label not in self.restricted_labels:
            return True
        return self.members.get(user) in ("owner", "admin") or user in self.labels.get(
            label, frozenset()
        )

    def prefs(self, user: str) -> Preferences:
        return self.preferences.get(user, Preferences())


@dataclass(frozen=True)
class Delivery:
    """Who an arriving external message is for, as the account's sharing settings say.

    A personal account names its `owner`; a shared account in the Inbox flow names the users
    it goes to (`inbox_users`) and those it is auto-archived for (`archived_users`); a shared
    account in the Team Inbox flow names the `team`. `direct_to` holds the users whose own
    address is in To/Cc or who sent the message being replied to (a "direct reply").

    Mail to the accounts of several teams (rows 4, 5): `addressed_teams` are the teams with
    a team inbox whose accounts the message reached (`team` among them), which the
    organization's "single" mode chooses from; in "duplicate" mode each team gets its own
    copy, and `copies` names the others as (team, conversation) for the cross-link note.
    """

    owner: str | None = None
    inbox_users: frozenset[str] = frozenset()
    archived_users: frozenset[str] = frozenset()
    team: str | None = None
    direct_to: frozenset[str] = frozenset()
    addressed_teams: frozenset[str] = frozenset()
    copies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Receipt:
    """What `receive_message` did: whether the caller must start a new conversation for the
    message (this one is full), and whom the product notifies."""

    needs_new_conversation: bool = False
    notify: frozenset[str] = frozenset()
    discarded_sends: tuple[str, ...] = ()  # outbox ids of Send Later drafts a reply discarded
