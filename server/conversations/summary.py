"""The conversation as the commands API answers it (`{"conversation": {...}}`)."""

from __future__ import annotations

from typing import Any

from server.conversations.model import Conversation, Directory


def summary(conv: Conversation, directory: Directory) -> dict[str, Any]:
    team = directory.teams.get(conv.team) if conv.team else None
    members = team.members if team else frozenset()
    users = {}
    for uid, state in sorted(conv.users.items()):
        snooze = state.snooze or conv.snooze
        users[uid] = {
            "inbox": state.inbox and not state.trashed,
            "team_inbox": conv.in_team_inbox and uid in members,
            "archived": not state.inbox and not state.trashed,
            "snoozed_until": snooze.until // 1000 if snooze else None,
            "snooze_scope": snooze.scope if snooze else None,
            "unread": state.unread or state.chat_unread,
            "watching": state.watching,
            "starred": state.starred,
            "trashed": state.trashed or conv.trashed_for_everyone,
        }
    return {
        "id": conv.id,
        "subject": conv.subject,
        "status": conv.status,
        "team": conv.team,
        "assignees": list(conv.assignees),
        "labels": list(conv.labels),
        "color": conv.color,
        "kind": conv.kind,
        "messages_count": conv.message_count,
        "users": users,
        "tasks": [
            {
                "id": task.id,
                "title": task.title,
                "assignees": list(task.assignees),
                "done": task.done,
                "due_at": task.due_at // 1000 if task.due_at is not None else None,
            }
            for task in conv.tasks
        ],
    }
