"""Command parameters: each command's schema, and parsing that names the bad field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from server.errors import InvalidInput, UnknownCommand

Kind = Literal["ids", "id", "text", "bool", "scope", "mentions"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    required: bool = False
    default: Any = None


USERS = Param("users", "ids", required=True)
TEAM = Param("team", "id")

SCHEMAS: dict[str, tuple[Param, ...]] = {
    "assign": (USERS,),
    "set_assignees": (Param("users", "ids", required=True),),
    "unassign": (USERS,),
    "close": (),
    "reopen": (),
    "archive": (TEAM,),
    "move_to_inbox": (),
    "trash": (TEAM,),
    "restore": (),
    "delete_forever": (),
    "snooze": (
        Param("until", "text", required=True),
        Param("scope", "scope", default="me"),
        Param("leave_in_inbox", "bool", default=False),
        Param("discard_if_reply", "bool", default=False),
    ),
    "unsnooze": (),
    "mark_read": (),
    "mark_unread": (),
    "star": (),
    "unstar": (),
    "watch": (),
    "unwatch": (),
    "add_people": (
        Param("users", "ids", default=[]),
        Param("teams", "ids", default=[]),
        Param("show_in_inbox", "bool", default=True),
    ),
    "move_to_team": (Param("team", "id", required=True),),
    "comment": (Param("body", "text", required=True), Param("mentions", "mentions", default=[])),
    "react": (Param("comment", "id", required=True), Param("emoji", "text", required=True)),
    "edit_comment": (Param("comment", "id", required=True), Param("body", "text", required=True)),
    "delete_comment": (Param("comment", "id", required=True),),
    "rename": (Param("subject", "text", required=True),),
    "add_labels": (Param("labels", "ids", required=True),),
    "remove_labels": (Param("labels", "ids", required=True),),
    "merge_into": (Param("target", "id", required=True), Param("subject", "text")),
    "move_message": (Param("message", "id", required=True), Param("shared", "bool", default=False)),
    "add_task": (
        Param("title", "text", required=True),
        Param("assignees", "ids", default=[]),
        Param("due", "text"),
    ),
    "update_task": (
        Param("task", "id", required=True),
        Param("title", "text"),
        Param("assignees", "ids"),
        Param("done", "bool"),
    ),
    "delete_task": (Param("task", "id", required=True),),
    "mark_spam": (),
    "not_spam": (),
}


@dataclass(frozen=True)
class Command:
    name: str
    params: dict[str, Any]


def parse_command(body: dict[str, Any]) -> Command:
    name = body.get("command")
    if not isinstance(name, str):
        raise InvalidInput("'command' is required and must be a string", field="command")
    schema = SCHEMAS.get(name)
    if schema is None:
        raise UnknownCommand(f"unknown command {name!r}", field="command")
    known = {p.name for p in schema} | {"command"}
    for key in body:
        if key not in known:
            raise InvalidInput(f"{name} takes no parameter {key!r}", field=key)
    return Command(name, {p.name: _value(p, body) for p in schema})


def _value(param: Param, body: dict[str, Any]) -> Any:
    if param.name not in body or body[param.name] is None:
        if param.required:
            raise InvalidInput(f"'{param.name}' is required", field=param.name)
        return list(param.default) if isinstance(param.default, list) else param.default
    value = body[param.name]
    where = param.name
    if param.kind == "ids":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InvalidInput(f"'{where}' must be a list of ids", field=where)
        return list(dict.fromkeys(value))
    if param.kind in ("id", "text"):
        if not isinstance(value, str) or (param.kind == "id" and not value):
            raise InvalidInput(f"'{where}' must be a string", field=where)
        return value
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"'{where}' must be true or false", field=where)
        return value
    if param.kind == "scope":
        if value not in ("me", "everyone"):
            raise InvalidInput(f'\'{where}\' must be "me" or "everyone"', field=where)
        return value
    return _mentions(value)


def _mentions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidInput("'mentions' must be a list", field="mentions")
    for index, item in enumerate(value):
        ok = (
            isinstance(item, dict)
            and len(item) == 1
            and (
                (
                    set(item) <= {"user", "team", "group"}
                    and isinstance(next(iter(item.values())), str)
                )
                or item == {"all": True}
            )
        )
        if not ok:
            raise InvalidInput(
                'each mention is {"user": id}, {"team": id}, {"group": name} or {"all": true}',
                field=f"mentions[{index}]",
            )
    return list(value)
