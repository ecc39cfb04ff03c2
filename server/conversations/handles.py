"""`@handle` tokens in a comment body, turned into mentions: a user's handle is the local
part of their email, a team's is its name without spaces, `@all` is everyone, a mention
group's is its name. Unknown handles are left as text (someone may write "@home")."""

from __future__ import annotations

import re
from typing import Any

from server.conversations.model import Directory

HANDLE = re.compile(r"(?<![\w@])@([\w][\w.-]*)")


def mentions_in(body: str, directory: Directory) -> list[dict[str, Any]]:
    teams = {team.name.replace(" ", "").lower(): tid for tid, team in directory.teams.items()}
    groups = {name.lower(): name for name in directory.groups}
    found: list[dict[str, Any]] = []
    for match in HANDLE.finditer(body):
        handle = match[1].rstrip(".-").lower()
        if handle == "all":
            mention: dict[str, Any] = {"all": True}
        elif handle in directory.handles:
            mention = {"user": directory.handles[handle]}
        elif handle in teams:
            mention = {"team": teams[handle]}
        elif handle in groups:
            mention = {"group": groups[handle]}
        else:
            continue
        if mention not in found:
            found.append(mention)
    return found
