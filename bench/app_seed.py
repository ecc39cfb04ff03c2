"""An organization for the application benchmark (`bench.app`): members with API tokens, a
team with a team inbox, labels, and mail imported through the same ingestion path as
`tandem import` (threaded, with message rows), before the server under test starts.

Members are in groups of ten; each group shares one connected account delivered to its
members' Inboxes, and the first two groups form the team, whose account feeds its team
inbox. A quarter of the threads carry a reply, so conversations hold one or two mails."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime

from server.actions.ingest import ingest
from server.credentials import new_api_token
from server.services import open_services
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.mail import Account

GROUP = 10
LABELS = ("billing", "shipping", "returns", "bug", "vip", "partner", "press", "legal")


@dataclass(frozen=True)
class Member:
    id: str
    token: str


@dataclass(frozen=True)
class Seeded:
    org_id: str
    team_id: str
    members: list[Member]
    labels: list[str]
    conversations: int
    messages: int
    seed_s: float


def _mail(n: int, to: str, at: float, reply_to: int | None = None) -> bytes:
    subject = f"Order {n}: where is it?" if reply_to is None else f"Re: Order {reply_to}"
    headers = [
        f"From: Customer {n % 997} <customer{n % 997}@example.com>",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <m{n}@bench.example>",
        f"Date: {format_datetime(datetime.fromtimestamp(at, UTC))}",
    ]
    if reply_to is not None:
        parent = f"<m{reply_to}@bench.example>"
        headers += [f"In-Reply-To: {parent}", f"References: {parent}"]
    body = f"Hello, this is about order {n}. It has not arrived yet; can you check?"
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


async def _directory(storage: Storage, members: int) -> tuple[Seeded, list[Account]]:
    org = await storage.create_organization("Bench")
    users = []
    for i in range(members):
        user = await storage.create_user(f"agent{i}@bench.test", f"Agent {i}", None)
        await storage.add_membership(org.id, user.id, "owner" if i == 0 else "member")
        token, token_hash = new_api_token()
        await storage.create_api_token(user.id, token_hash, "bench")
        users.append((user.id, token))
    ids = [uid for uid, _ in users]
    groups = [ids[start : start + GROUP] for start in range(0, members, GROUP)]
    team = await storage.create_team(org.id, "Support", ids[: 2 * GROUP], [], True)
    accounts = [
        await storage.create_account(
            org.id,
            f"desk{g}@bench.test",
            group[0],
            "inbox",
            None,
            [(uid, False) for uid in group[1:]],
        )
        for g, group in enumerate(groups)
    ]
    accounts.append(
        await storage.create_account(
            org.id, "support@bench.test", ids[0], "team_inbox", team.id, []
        )
    )
    labels = [(await storage.create_label(org.id, f"Bench/{name}", [])).id for name in LABELS]
    seeded = Seeded(
        org_id=org.id,
        team_id=team.id,
        members=[Member(uid, token) for uid, token in users],
        labels=labels,
        conversations=0,
        messages=0,
        seed_s=0.0,
    )
    return seeded, accounts


async def seed(settings: Settings, members: int, conversations: int) -> Seeded:
    """Migrate, create the organization, import `conversations` threads spread over the
    accounts (the team's a tenth of them). `settings` should name no Redis."""
    started = time.perf_counter()
    storage = await open_storage(settings)
    try:
        await storage.migrate()
        seeded, accounts = await _directory(storage, members)
    finally:
        await storage.close()
    now = time.time()
    batches: dict[str, list[bytes]] = {account.id: [] for account in accounts}
    for n in range(conversations):
        team = n % 10 == 9  # a tenth to the team inbox, the rest round the groups
        account = accounts[-1] if team else accounts[(n - n // 10) % (len(accounts) - 1)]
        at = now - (conversations - n) * 60.0
        batches[account.id].append(_mail(n, account.address, at))
        if n % 4 == 0:
            reply = _mail(conversations + n, account.address, at + 30.0, reply_to=n)
            batches[account.id].append(reply)
    imported = 0
    async with open_services(replace(settings, redis_url="")) as services:
        results = await asyncio.gather(
            *(ingest(services, account, batches[account.id]) for account in accounts)
        )
        for account, result in zip(accounts, results, strict=True):
            if result.rejected or result.duplicates:
                raise RuntimeError(f"seeding {account.address}: {result.errors[:3]}")
            imported += result.imported
    return replace(
        seeded,
        conversations=conversations,
        messages=imported,
        seed_s=time.perf_counter() - started,
    )
