"""Reading the bodies of the Missive-compatible write endpoints: each object's fields with
their types checked, every error naming the field as the client wrote it
(`posts.add_users`, `conversations[1].close`), and the conversation-modifying parameters
(reference §2.0) shared by posts and `PATCH /v1/conversations`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from server.conversations.machine_modify import Changes, is_color
from server.errors import InvalidInput

MAX_IDS = 100
CHANGE_KEYS = frozenset(
    {
        "organization",
        "team",
        "force_team",
        "add_users",
        "add_assignees",
        "remove_assignees",
        "add_shared_labels",
        "remove_shared_labels",
        "add_to_inbox",
        "add_to_team_inbox",
        "close",
        "reopen",
    }
)
NEED_ORGANIZATION = ("add_users", "add_assignees", "remove_assignees", "add_shared_labels")


class Fields:
    """One object of a request body; `null` counts as absent."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidInput(f"'{where}' must be an object", field=where)
        self.data: dict[str, Any] = data
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def only(self, known: frozenset[str] | set[str]) -> None:
        for key in self.data:
            if key not in known:
                raise InvalidInput(f"unknown field '{self.name(key)}'", field=self.name(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, *, required: bool = False, limit: int = 1000) -> str | None:
        """A string, quietly cut at `limit` characters as Missive does."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise InvalidInput(f"'{self.name(key)}' is required", field=self.name(key))
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            what = "a non-empty string" if required else "a string"
            raise InvalidInput(f"'{self.name(key)}' must be {what}", field=self.name(key))
        return value[:limit]

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise InvalidInput(f"'{self.name(key)}' must be true or false", field=self.name(key))
        return value

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"'{self.name(key)}' must be an integer", field=self.name(key))
        return value

    def ids(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InvalidInput(f"'{self.name(key)}' must be a list of ids", field=self.name(key))
        if len(value) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} in '{self.name(key)}'", field=self.name(key))
        return tuple(dict.fromkeys(value))

    def color(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not is_color(value):
            raise InvalidInput(
                f"'{self.name(key)}' is a HEX color (#2266ED) or good, warning, danger",
                field=self.name(key),
            )
        return value

    def first(self, *keys: str) -> str:
        """The first of several names for one field (`subject`, `conversation_subject`)."""
        return next((key for key in keys if self.has(key)), keys[0])

    def unsupported(self, key: str, allowed: object = None) -> None:
        if self.data.get(key) not in (None, allowed):
            raise InvalidInput(
                f"'{self.name(key)}' is not supported by Tandem", field=self.name(key)
            )


def objects(body: dict[str, Any], key: str) -> list[Fields]:
    """`{"<key>": [ {...}, ... ]}`, the bulk writes' envelope."""
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise InvalidInput(f'the body must be {{"{key}": [ {{...}} ]}}', field=key)
    if len(items) > MAX_IDS:
        raise InvalidInput(f"at most {MAX_IDS} objects at once", field=key)
    return [Fields(item, f"{key}[{index}]") for index, item in enumerate(items)]


def path_ids(raw: str) -> list[str]:
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not ids or len(ids) > MAX_IDS:
        raise InvalidInput(f"name 1 to {MAX_IDS} comma-separated ids in the path", field="id")
    return ids


def changes_of(item: Fields, *, subject: tuple[str, ...], color: tuple[str, ...]) -> Changes:
    """The conversation-modifying parameters of one object, their types checked."""
    subject_key, color_key = item.first(*subject), item.first(*color)
    new_subject = item.text(subject_key, limit=500)
    if new_subject is not None and not new_subject.strip():
        raise InvalidInput(
            f"'{item.name(subject_key)}' cannot be empty", field=item.name(subject_key)
        )
    changes = Changes(
        team=item.text("team"),
        force_team=item.boolean("force_team") or False,
        add_users=item.ids("add_users"),
        add_assignees=item.ids("add_assignees"),
        remove_assignees=item.ids("remove_assignees"),
        subject=new_subject,
        color=item.color(color_key),
        add_shared_labels=item.ids("add_shared_labels"),
        remove_shared_labels=item.ids("remove_shared_labels"),
        add_to_inbox=item.boolean("add_to_inbox") or False,
        add_to_team_inbox=item.boolean("add_to_team_inbox") or False,
        close=item.boolean("close") or False,
        reopen=item.boolean("reopen"),
    )
    if not item.has("organization"):
        for key in NEED_ORGANIZATION:
            if getattr(changes, key):
                raise InvalidInput(
                    f"'{item.name('organization')}' is required with {key}",
                    field=item.name("organization"),
                )
    return changes


@contextlib.contextmanager
def named(where: str) -> Iterator[None]:
    """Name the state machine's refusals as the request's fields (`add_users` ->
    `posts.add_users`)."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field is None or exc.field.startswith(where):
            raise
        raise InvalidInput(exc.message, field=f"{where}.{exc.field}") from None
