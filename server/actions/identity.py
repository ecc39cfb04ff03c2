"""Who a user sends as: the From and signature a reply or a new email starts with, the
account a chosen From address goes out through, and a signature switched in a draft.

Reads only; the draft and sending code write what these return."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from server.conversations.model import Conversation, latest
from server.errors import Forbidden, InvalidInput
from server.identity.senders import (
    Alias,
    account_users,
    pick_new_from,
    pick_reply_from,
    sendable,
)
from server.identity.signatures import chosen_body, render, to_text
from server.responses.render import Person, TemplateError
from server.storage.aliases import AliasSettings
from server.storage.base import Storage
from server.storage.mail import Account
from server.storage.signatures import SignatureRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    alias_id: str
    account_id: str
    address: str
    name: str  # the user's display name on the alias; "" shows the address alone
    signature_id: str | None
    signature_html: str
    signature_text: str


async def org_aliases(storage: Storage, org_id: str) -> tuple[dict[str, Account], list[Alias]]:
    """The organization's accounts, and its aliases in creation order with who may send
    from each: only members of the organization (an owner who left sends from nothing)."""
    members = frozenset(await storage.org_members(org_id))
    accounts = {account.id: account for account in await storage.accounts_of(org_id)}
    teams = {t.id: frozenset({*t.active, *t.observers}) for t in await storage.teams(org_id)}
    users = {
        account.id: members
        & account_users(
            account.owner_id,
            [user for user, _ in account.shared_with],
            teams.get(account.team_id or "", frozenset()),
        )
        for account in accounts.values()
    }
    aliases = [
        Alias(
            row.id,
            row.account_id,
            row.address,
            row.is_default,
            row.created_at,
            row.description,
            account_users=users.get(row.account_id, frozenset()),
            shared_with=members & frozenset(row.shared_with),
        )
        for row in await storage.aliases_of(org_id)
    ]
    return accounts, aliases


async def reply_identity(
    storage: Storage, org_id: str, user_id: str, conv: Conversation
) -> Identity | None:
    """AL-8: the alias matching where the mail was sent, with its signature for a first
    email or a reply (SG-3); None when `user_id` may send from no alias."""
    _, aliases = await org_aliases(storage, org_id)
    settings = await storage.alias_settings(org_id, user_id)
    sent_to, delivered_to, via = await _sent_to(storage, conv)
    alias = pick_reply_from(
        aliases, user_id, sent_to=sent_to, delivered_to=delivered_to, via_account=via,
        preferences=await storage.sender_preferences(org_id, user_id),
        never_auto=_never_auto(settings),
    )  # fmt: skip
    if alias is None:
        return None
    first = not conv.has_sent
    return await _identity(storage, org_id, user_id, alias, settings.get(alias.id), first)


async def new_email_identity(storage: Storage, org_id: str, user_id: str) -> Identity | None:
    """AL-9: the default sender, else the first alias not flagged never-auto-select."""
    _, aliases = await org_aliases(storage, org_id)
    settings = await storage.alias_settings(org_id, user_id)
    alias = pick_new_from(
        aliases, user_id,
        preferences=await storage.sender_preferences(org_id, user_id),
        never_auto=_never_auto(settings),
    )  # fmt: skip
    if alias is None:
        return None
    return await _identity(storage, org_id, user_id, alias, settings.get(alias.id), True)


async def sender_alias(
    storage: Storage, org_id: str, user_id: str, address: str
) -> tuple[Account, Alias]:
    """The account that mail from `address` goes out through when `user_id` sends it: of
    the aliases with that address they may send from, the first created."""
    wanted = address.strip().lower()
    accounts, aliases = await org_aliases(storage, org_id)
    matching = [alias for alias in aliases if alias.address == wanted]
    if not matching:
        raise InvalidInput(f"no alias {wanted!r} to send from", field="from")
    alias = next((alias for alias in matching if sendable(alias, user_id)), None)
    if alias is None:
        raise Forbidden(f"you may not send from {wanted}", field="from")
    return accounts[alias.account_id], alias


async def chosen_identity(
    storage: Storage, org_id: str, user_id: str, address: str, first: bool = True
) -> Identity:
    """The identity of a From picked by hand: raises as `sender_alias` does."""
    _, alias = await sender_alias(storage, org_id, user_id, address)
    settings = await storage.alias_settings(org_id, user_id)
    return await _identity(storage, org_id, user_id, alias, settings.get(alias.id), first)


async def display_name(storage: Storage, org_id: str, user_id: str, alias_id: str) -> str:
    """The name `user_id` set on an alias (AL-3); "" when they set none."""
    return (await storage.alias_settings(org_id, user_id)).get(alias_id, AliasSettings()).name


async def signature_for(
    storage: Storage, org_id: str, user_id: str, signature_id: str | None, first: bool
) -> tuple[str, str]:
    """(html, text) of a signature `user_id` picks for a draft (SG-5); ("", "") for none.
    `InvalidInput` naming `signature_id` for one they cannot see or that fails to render."""
    if signature_id is None:
        return "", ""
    record = await storage.signature(signature_id)
    if record is None or record.org_id != org_id or not signature_visible(record, user_id):
        raise InvalidInput("no such signature", field="signature_id")
    try:
        return await rendered_for(storage, record, user_id, first)
    except TemplateError as exc:
        raise InvalidInput(f"the signature does not render: {exc}", field="signature_id") from None


def signature_visible(record: SignatureRecord, user_id: str) -> bool:
    """Organization signatures are every member's to use; a personal one its owner's."""
    return record.scope == "organization" or record.owner_id == user_id


async def rendered_for(
    storage: Storage, record: SignatureRecord, user_id: str, first: bool
) -> tuple[str, str]:
    """The signature as `user_id` sends it: (html, text). `TemplateError` if its Liquid
    fails to render."""
    user = await storage.get_user(user_id)
    person = Person(user.email, user.name) if user is not None else Person()
    template = chosen_body(record.insert_in, record.body, record.alt_body, first=first)
    html = render(template, person)
    return html, to_text(html)


async def _identity(
    storage: Storage,
    org_id: str,
    user_id: str,
    alias: Alias,
    settings: AliasSettings | None,
    first: bool,
) -> Identity:
    chosen = settings or AliasSettings()
    html, text, signature_id = "", "", chosen.signature_id
    record = await storage.signature(signature_id) if signature_id else None
    if record is not None and record.org_id == org_id and signature_visible(record, user_id):
        try:
            html, text = await rendered_for(storage, record, user_id, first)
        except TemplateError as exc:  # a draft still starts, without the signature
            log.warning("signature %s does not render for %s: %s", record.id, user_id, exc)
    else:
        signature_id = None
    return Identity(
        alias.id, alias.account_id, alias.address, chosen.name, signature_id, html, text
    )


def _never_auto(settings: dict[str, AliasSettings]) -> frozenset[str]:
    return frozenset(alias for alias, chosen in settings.items() if chosen.never_auto_select)


async def _sent_to(storage: Storage, conv: Conversation) -> tuple[list[str], list[str], str | None]:
    """The addresses the latest inbound message was sent to (To and Cc, then
    Delivered-To) and the account it came through; with no inbound message, the address
    and account the latest outgoing one was sent from."""
    inbound = [message for message in conv.messages if message.direction == "in"]
    if not inbound:
        outbound = [message for message in conv.messages if message.direction == "out"]
        last = latest(outbound) if outbound else None
        return ([last.from_address], [], last.account_id) if last is not None else ([], [], None)
    last = latest(inbound)
    raw = await storage.message_raw(last.id)
    if raw is None:
        return [], [], last.account_id
    return addressed_to(raw, "To", "Cc"), addressed_to(raw, "Delivered-To"), last.account_id


def addressed_to(raw: bytes, *headers: str) -> list[str]:
    """Every address in the named headers of a message, lowercase, in order."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
    values = [str(value) for name in headers for value in parsed.get_all(name, [])]
    return [address.strip().lower() for _, address in getaddresses(values) if "@" in address]
