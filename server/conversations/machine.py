"""The conversation state machine: one pure function per action, over plain dataclasses.

Each action takes the conversation, the acting user, its parameters (named as in
`server.conversations.params.SCHEMAS`), `now` (Unix ms) and the organization `Directory`;
it validates everything first and raises an `AppError` before changing anything, then
changes the conversation in place and appends the timeline `Event`s the product shows.
`COMMANDS` maps each HTTP command name to its action:

    COMMANDS[name](conv, actor, **params, now=now, directory=directory)

(`comment` and `add_task` also take the new item's id, `comment_id` or `task_id`;
`snooze` takes `until` in Unix ms).
`merge` and `move_message` span two conversations and are not in `COMMANDS`.
Mail arriving and leaving goes through `receive_message` and `send_message`; the scheduler
ends snoozes with `wake_snooze`. The rules behind each reading are in docs/behaviour.md.
"""

from __future__ import annotations

from collections.abc import Callable

from server.conversations.machine_chat import delete_comment, edit_comment, react
from server.conversations.machine_labels import add_labels, remove_labels, rename
from server.conversations.machine_mail import receive_message, send_message
from server.conversations.machine_merge import join_threads, merge, move_message
from server.conversations.machine_personal import (
    mark_read,
    mark_unread,
    star,
    unstar,
    unwatch,
    watch,
)
from server.conversations.machine_sharing import add_people, comment, resolve_mentions
from server.conversations.machine_snooze import snooze, unsnooze, wake_snooze
from server.conversations.machine_tasks import add_task, delete_task, update_task
from server.conversations.machine_trash import (
    delete_forever,
    mark_spam,
    not_spam,
    restore,
    trash,
)
from server.conversations.machine_triage import (
    archive,
    assign,
    close,
    move_to_inbox,
    move_to_team,
    reopen,
    set_assignees,
    unassign,
)

Action = Callable[..., None]

COMMANDS: dict[str, Action] = {
    action.__name__: action
    for action in (
        assign,
        set_assignees,
        unassign,
        close,
        reopen,
        archive,
        move_to_inbox,
        trash,
        restore,
        delete_forever,
        mark_spam,
        not_spam,
        snooze,
        unsnooze,
        mark_read,
        mark_unread,
        star,
        unstar,
        watch,
        unwatch,
        add_people,
        move_to_team,
        comment,
        react,
        edit_comment,
        delete_comment,
        rename,
        add_labels,
        remove_labels,
        add_task,
        update_task,
        delete_task,
    )
}
MULTI: frozenset[str] = frozenset({"merge_into", "move_message"})
"""Commands over more than one conversation: `merge` and `move_message`, run by the
caller under `ConversationWriter.change_many`."""


__all__ = [
    "COMMANDS",
    "MULTI",
    "add_labels",
    "add_people",
    "add_task",
    "archive",
    "assign",
    "close",
    "comment",
    "delete_comment",
    "delete_forever",
    "delete_task",
    "edit_comment",
    "join_threads",
    "mark_read",
    "mark_spam",
    "mark_unread",
    "merge",
    "move_message",
    "move_to_inbox",
    "move_to_team",
    "not_spam",
    "react",
    "receive_message",
    "remove_labels",
    "rename",
    "reopen",
    "resolve_mentions",
    "restore",
    "send_message",
    "set_assignees",
    "snooze",
    "star",
    "trash",
    "unassign",
    "unsnooze",
    "unstar",
    "unwatch",
    "update_task",
    "wake_snooze",
    "watch",
]
