"""Finding a canned response as people type (CR-7 to CR-10): every token must prefix a
word of the title, subject or body, in any order ("ho bet pers" finds "How to be a better
person?"); the first token may instead name a scope — `personal`, the organization's name
or one of the user's teams; results rank by how often the tokens occur. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Searchable:
    id: str
    title: str
    subject: str
    body: str
    scope: str  # personal, team or organization
    team_id: str | None = None


def words(item: Searchable) -> list[str]:
    return WORD.findall(f"{item.title} {item.subject} {item.body}".lower())


def search(
    items: Sequence[Searchable],
    query: str,
    *,
    org_name: str = "",
    teams: dict[str, str] | None = None,  # team name (any case) -> team id, the user's teams
) -> list[Searchable]:
    tokens = WORD.findall(query.lower())
    scoped = list(items)
    if tokens:
        first, by_name = tokens[0], {name.lower(): tid for name, tid in (teams or {}).items()}
        if first == "personal":
            scoped, tokens = [i for i in scoped if i.scope == "personal"], tokens[1:]
        elif org_name and first == org_name.lower():
            scoped, tokens = [i for i in scoped if i.scope == "organization"], tokens[1:]
        elif first in by_name:
            team = by_name[first]
            scoped = [i for i in scoped if i.scope == "team" and i.team_id == team]
            tokens = tokens[1:]
    ranked: list[tuple[int, str, Searchable]] = []
    for item in scoped:
        counts = [sum(1 for w in words(item) if w.startswith(t)) for t in tokens]
        if all(counts):
            ranked.append((-sum(counts), item.title.lower(), item))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in ranked]
