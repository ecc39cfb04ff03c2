"""Organization labels and the subject (state machine rows 50, 54)."""

from __future__ import annotations

from server.conversations.machine_base import check_actor, grant, record
from server.conversations.model import MAX_LABELS, Conversation, Directory
from server.errors import Forbidden, InvalidInput, Unprocessable


def add_labels(
    conv: Conversation, actor: str, *, labels: list[str], now: int, directory: Directory
) -> None:
    """Row 50: at most MAX_LABELS per conversation; a label's auto-shared users get access,
    archived (not in their Inbox: the GAP's proposal)."""
    check_actor(conv, actor, directory)
    wanted = _known(labels, actor, directory)
    added = [label for label in wanted if label not in conv.labels]
    if len(conv.labels) + len(added) > MAX_LABELS:
        raise Unprocessable(f"at most {MAX_LABELS} labels per conversation", field="labels")
    if not added:
        return
    conv.labels.extend(added)
    for label in added:
        for user in sorted(directory.labels[label]):
            if user in directory.members:
                grant(conv, user, "label")
    record(conv, "labelled", actor, now, labels=added)


def remove_labels(
    conv: Conversation, actor: str, *, labels: list[str], now: int, directory: Directory
) -> None:
    """Access that a label granted stays (the product never takes access back silently)."""
    check_actor(conv, actor, directory)
    wanted = set(_known(labels, actor, directory))
    removed = [label for label in conv.labels if label in wanted]
    if not removed:
        return
    conv.labels = [label for label in conv.labels if label not in wanted]
    record(conv, "unlabelled", actor, now, labels=removed)


def rename(conv: Conversation, actor: str, *, subject: str, now: int, directory: Directory) -> None:
    """Row 54: a custom subject, which later mail no longer overwrites (and merge weighs)."""
    check_actor(conv, actor, directory)
    new = subject.strip()
    if not new:
        raise InvalidInput("the subject cannot be empty", field="subject")
    if new == conv.subject and conv.subject_custom:
        return
    record(conv, "renamed", actor, now, **{"from": conv.subject, "to": new})
    conv.subject = new
    conv.subject_custom = True


def _known(labels: list[str], actor: str, directory: Directory) -> list[str]:
    wanted = list(dict.fromkeys(labels))
    if not wanted:
        raise InvalidInput("name at least one label", field="labels")
    unknown = [label for label in wanted if label not in directory.labels]
    if unknown:
        raise InvalidInput(f"no such labels here: {', '.join(unknown)}", field="labels")
    hidden = [label for label in wanted if not directory.label_visible(label, actor)]
    if hidden:  # "Admins and auto-shared users" labels (L10023–10026)
        raise Forbidden(f"only admins and its auto-shared users use {hidden[0]}", field="labels")
    return wanted
