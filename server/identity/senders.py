"""Aliases as the From menu sees them, and the From a reply or a new email starts with
(AL-6, AL-8, AL-9). Pure: the caller reads the aliases, the user's flags and the addresses
the mail was sent to; nothing here touches storage.

`aliases` are always given in creation order (an account's default alias, which is the
account itself, before the aliases added to it); that order breaks every tie."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Alias:
    id: str  # an account's default alias has the account's id
    account_id: str
    address: str  # lowercase
    is_default: bool
    created_at: int
    description: str = ""
    account_users: frozenset[str] = frozenset()  # may send through the account
    shared_with: frozenset[str] = frozenset()  # may send from this alias only (AL-7)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class SenderPreferences:
    default_alias_id: str | None = None
    always_reply_from_default: bool = False


def account_users(
    owner_id: str | None, shared_with: Sequence[str], team_members: frozenset[str]
) -> frozenset[str]:
    """Who may send through an account: its owner, the users it is shared with, the
    members of its team."""
    return frozenset({*(() if owner_id is None else (owner_id,)), *shared_with, *team_members})


def sendable(alias: Alias, user: str) -> bool:
    return user in alias.account_users or user in alias.shared_with


def domain_of(address: str) -> str:
    return address.strip().lower().rpartition("@")[2]


def pick_reply_from(
    aliases: Sequence[Alias],
    user: str,
    *,
    sent_to: Sequence[str],
    via_account: str | None,
    preferences: SenderPreferences,
    never_auto: frozenset[str] = frozenset(),
    delivered_to: Sequence[str] = (),
) -> Alias | None:
    """The From of `user`'s reply to mail sent to the addresses `sent_to` (To and Cc of
    the latest inbound message) and `delivered_to` (its Delivered-To), that came through
    `via_account`. An exact match on To or Cc wins over one on Delivered-To, which names
    the mailbox an alias delivers into (the account's own address) more often than the
    address the customer wrote to."""
    mine = [alias for alias in aliases if sendable(alias, user)]
    default = _default(mine, preferences)
    if preferences.always_reply_from_default and default is not None:
        return default
    candidates = [alias for alias in mine if alias.id not in never_auto]
    named, delivered = _addresses(sent_to), _addresses(delivered_to)
    domains = {domain_of(address) for address in named | delivered} - {""}
    for matches in (
        [alias for alias in candidates if alias.address in named],
        [alias for alias in candidates if alias.address in delivered],
        [alias for alias in candidates if alias.domain in domains],
    ):
        if matches:
            return next((a for a in matches if a.account_id == via_account), matches[0])
    if default is not None:
        return default
    return next((a for a in candidates if a.is_default and a.account_id == via_account), None)


def pick_new_from(
    aliases: Sequence[Alias],
    user: str,
    *,
    preferences: SenderPreferences,
    never_auto: frozenset[str] = frozenset(),
) -> Alias | None:
    """The From of a new email: the default sender, else the first alias `user` may send
    from that is not flagged never-auto-select."""
    mine = [alias for alias in aliases if sendable(alias, user)]
    default = _default(mine, preferences)
    if default is not None:
        return default
    return next((alias for alias in mine if alias.id not in never_auto), None)


def _addresses(values: Sequence[str]) -> set[str]:
    return {value.strip().lower() for value in values if value.strip()}


def _default(mine: Sequence[Alias], preferences: SenderPreferences) -> Alias | None:
    return next((alias for alias in mine if alias.id == preferences.default_alias_id), None)
