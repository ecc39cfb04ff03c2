"""The objects of the Missive-compatible API (`reference/missive-rest-api.md` §2.0, §2.4–2.6)
as both its read and its write endpoints answer them; times in Unix seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.conversations.model import Conversation, Post
from server.services import Services
from server.storage.organization import LabelRecord, TeamRecord

TEAM_OPTIONS: dict[str, tuple[str, dict[str, object]]] = {
    # Missive field -> (our option, {Missive value: our value})
    "team_mention_behavior": (
        "mention_adds_observers",
        {"all_members": True, "only_active_members": False},
    ),
    "user_reply_behavior": (
        "reply_assigns_replier",
        {"assign_user": True, "leave_in_team_inbox": False},
    ),
    "received_reply_behavior": (
        "inbound_reply_on_assigned",
        {"show_in_assignee_inbox": "assignee_inbox", "show_in_team_inbox": "team_inbox"},
    ),
}


@dataclass(frozen=True)
class OrgView:
    """What conversation objects of one organization need, read once per request."""

    name: str
    teams: dict[str, str]  # id -> name
    labels: dict[str, str]  # id -> path
    people: dict[str, tuple[str, str]]  # user id -> (name, email)


async def org_view(services: Services, org_id: str) -> OrgView:
    org = await services.storage.get_organization(org_id)
    people = {}
    for uid, email in (await services.storage.member_emails(org_id)).items():
        member = await services.storage.get_user(uid)
        people[uid] = (member.name if member else "", email)
    return OrgView(
        name=org.name if org else "",
        teams={team.id: team.name for team in await services.storage.teams(org_id)},
        labels={label.id: label.path for label in await services.storage.labels(org_id)},
        people=people,
    )


def conversation_object(view: OrgView, conv: Conversation) -> dict[str, Any]:
    def state(uid: str) -> dict[str, Any]:
        name, email = view.people.get(uid, ("", ""))
        s = conv.users.get(uid)
        return {
            "id": uid, "name": name, "email": email,
            "unassigned": uid not in conv.assignees, "closed": conv.status == "closed",
            "archived": bool(s and not s.inbox), "trashed": bool(s and s.trashed),
            "junked": conv.spam, "assigned": uid in conv.assignees,
            "flagged": bool(s and s.starred), "snoozed": bool(s and (s.snooze or conv.snooze)),
        }  # fmt: skip

    assignees = [state(uid) for uid in conv.assignees]
    paths = [view.labels.get(lid, "") for lid in conv.labels]
    shared = [
        {"id": lid, "name": p.rsplit("/", 1)[-1]} for lid, p in zip(conv.labels, paths, strict=True)
    ]
    team = conv.team if conv.team in view.teams else None
    return {
        "id": conv.id,
        "created_at": (conv.messages[0].at if conv.messages else conv.last_activity_at) // 1000,
        "last_activity_at": conv.last_activity_at // 1000,
        "subject": conv.subject if conv.subject_custom else None,
        "latest_message_subject": conv.messages[-1].subject if conv.messages else None,
        "organization": {"id": conv.org_id, "name": view.name},
        "team": {"id": team, "name": view.teams[team], "organization": conv.org_id}
        if team
        else None,
        "color": conv.color,
        "assignees": assignees,
        "assignee_names": ", ".join(a["name"] for a in assignees),
        "assignee_emails": ", ".join(a["email"] for a in assignees),
        "users": [state(uid) for uid in sorted(conv.users)],
        "attachments_count": sum(m.attachments for m in conv.messages),
        "messages_count": conv.message_count,
        "drafts_count": len(conv.drafts),
        "send_later_messages_count": 0,
        "tasks_count": len(conv.tasks),
        "completed_tasks_count": sum(1 for task in conv.tasks if task.done),
        "authors": [{"name": name, "address": address} for address, name in _authors(conv).items()],
        "shared_labels": shared,
        "shared_label_names": ", ".join(s["name"] for s in shared),
        "web_url": f"/#inbox/conversations/{conv.id}",
        "app_url": f"/#inbox/conversations/{conv.id}",
    }


def _authors(conv: Conversation) -> dict[str, str]:
    """Each sender's address, in order of first message, with the name it last gave."""
    names: dict[str, str] = {}
    for message in sorted(conv.messages, key=lambda m: m.at):
        if message.from_address not in names or message.from_name:
            names[message.from_address] = message.from_name or names.get(message.from_address, "")
    return names


def label_object(label: LabelRecord, by_path: dict[str, str]) -> dict[str, Any]:
    """`by_path`: the organization's label ids by path, to name the parent."""
    parent, _, name = label.path.rpartition("/")
    return {
        "id": label.id,
        "name": name,
        "name_with_parent_names": label.path,
        "color": label.color,
        "parent": by_path.get(parent) if parent else None,
        "organization": label.org_id,
        "share_with_users": list(label.auto_share),
        "visibility": label.visibility,
    }


def team_object(team: TeamRecord) -> dict[str, Any]:
    options = {
        field: next(k for k, v in values.items() if v == getattr(team, option))
        for field, (option, values) in TEAM_OPTIONS.items()
    }
    return {
        "id": team.id,
        "name": team.name,
        "organization": team.org_id,
        "active_members": list(team.active),
        "observers": list(team.observers),
        "emoji": team.emoji,
        "color": team.color,
        "team_inbox_enabled": team.has_inbox,
        "chat_room_enabled": True,
        **options,
    }


def post_object(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "created_at": post.created_at // 1000,
        "username": post.username,
        "username_icon": post.username_icon,
        "text": post.text,
        "markdown": post.markdown,
        "notification": post.notification,
        "attachments": post.attachments,
        "author": {"id": post.author},
    }
