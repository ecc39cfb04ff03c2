"""`@handle` tokens in a comment body, turned into mentions: a user's handle is the one an
administrator set, else the local part of their email; a team's is its name without
spaces, `@all` is everyone, a mention group's is its name. Unknown handles are left as text
(someone may write "@home")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from server.conversations.model import Directory

HANDLE = re.compile(r"(?<![\w@])@([\w][\w.-]*)")
MAX_HANDLE = 64


def email_handle(email: str) -> str:
    return email.split("@", 1)[0].lower()


def member_handles(members: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """@handle -> user id, from (user id, email, set handle): set handles first; then, for
    members without one, the email's local part unless a set handle holds it (between two
    equal local parts, the greater user id)."""
    people = sorted(members, reverse=True)
    handles = {handle: uid for uid, _, handle in people if handle}
    for uid, email, handle in people:
        if not handle:
            handles.setdefault(email_handle(email), uid)
    return handles


def handle_problem(handle: str, user: str, directory: Directory) -> tuple[str, bool] | None:
    """Why `user` may not take `handle` (already lowercase), and whether it is a clash
    (409) rather than a malformed handle (400); None when it is fine."""
    if len(handle) > MAX_HANDLE or not re.fullmatch(r"\w[\w.-]*", handle):
        return f"a handle is up to {MAX_HANDLE} letters, digits, _, . and -", False
    if handle != handle.rstrip(".-"):
        return "a handle cannot end with . or -", False
    if handle == "all":
        return "@all mentions everyone", True
    if directory.handles.get(handle, user) != user:
        return f"@{handle} is another member's handle", True
    if handle in {team.name.replace(" ", "").lower() for team in directory.teams.values()}:
        return f"@{handle} is a team's handle", True
    if handle in {name.lower() for name in directory.groups}:
        return f"@{handle} is a mention group", True
    return None


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
