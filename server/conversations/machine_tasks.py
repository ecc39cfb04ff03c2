"""Tasks inside a conversation (state machine row 44, L7418, L7442, L9239).

Creating or changing a task is activity: the actor watches (creating one follows their
"auto-watch on task" preference), watchers come back to their Inbox, everyone else sees it
unread in the chat. A task's assignees get access and the conversation at the top of their
Inbox, and find it in Assigned to me until the task is done.
"""

from __future__ import annotations

from server.conversations.machine_base import (
    check_actor,
    check_users,
    grant,
    record,
    spread_activity,
    summon,
    touch,
)
from server.conversations.model import Conversation, Directory, Task
from server.errors import Conflict, InvalidInput

MAX_TITLE = 1000


def add_task(
    conv: Conversation,
    actor: str,
    *,
    task_id: str,
    title: str,
    assignees: list[str],
    due_at: int | None = None,
    now: int,
    directory: Directory,
) -> None:
    state = check_actor(conv, actor, directory)
    title = _title(title)
    users = check_users(assignees, directory, "assignees")
    if any(task.id == task_id for task in conv.tasks):
        raise Conflict(f"task {task_id} already exists", field="task_id")
    conv.tasks.append(Task(task_id, title, actor, now, users, due_at))
    if directory.prefs(actor).auto_watch_task:
        state.watching = True
    _activity(conv, actor, users, now)
    record(conv, "task_added", actor, now, task=task_id, title=title, assignees=users)


def update_task(
    conv: Conversation,
    actor: str,
    *,
    task: str,
    title: str | None = None,
    assignees: list[str] | None = None,
    done: bool | None = None,
    now: int,
    directory: Directory,
) -> None:
    """Change a task's title, assignees or done state; unchanged values record nothing."""
    check_actor(conv, actor, directory)
    card = _task(conv, task)
    new_title = _title(title) if title is not None else card.title
    users = check_users(assignees, directory, "assignees") if assignees is not None else None
    added = [user for user in users or [] if user not in card.assignees]
    changes: dict[str, object] = {}
    if new_title != card.title:
        card.title = changes["title"] = new_title
    if users is not None and users != card.assignees:
        card.assignees = changes["assignees"] = users
    if done is not None and done != card.done:
        card.done = changes["done"] = done
        card.done_at = now if done else None
    if not changes:
        return
    _activity(conv, actor, added, now)
    record(conv, "task_updated", actor, now, task=task, **changes)


def delete_task(
    conv: Conversation, actor: str, *, task: str, now: int, directory: Directory
) -> None:
    check_actor(conv, actor, directory)
    card = _task(conv, task)
    conv.tasks.remove(card)
    record(conv, "task_deleted", actor, now, task=task, title=card.title)


def _activity(conv: Conversation, actor: str, assigned: list[str], now: int) -> None:
    spread_activity(conv, actor, now)
    for user in assigned:
        if user != actor:
            state = grant(conv, user, "task")
            state.chat_unread = True
            summon(state, now)
    touch(conv, now)


def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidInput("a task needs a title", field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"a task title holds at most {MAX_TITLE} characters", field="title")
    return title


def _task(conv: Conversation, task: str) -> Task:
    found = next((card for card in conv.tasks if card.id == task), None)
    if found is None:
        raise InvalidInput(f"no task {task} in this conversation", field="task")
    return found
