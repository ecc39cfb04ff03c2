"""`tandem org set`, `tandem team create`, `tandem label create`, `tandem account create`,
`tandem import`, `tandem reindex`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from server.actions import smtp_accounts
from server.cli_commands import CommandError, storage_for
from server.conversations.document import new_conversation_doc, read_conversation
from server.conversations.index import project
from server.errors import AppError
from server.settings import Settings
from server.storage.base import Storage


async def _org_id(storage: Storage, name: str) -> str:
    org = await storage.get_organization_by_name(name)
    if org is None:
        raise CommandError(f"no organization named {name!r}")
    return org.id


async def _user_ids(storage: Storage, emails: str | None, org_id: str) -> list[str]:
    members = await storage.org_members(org_id)
    ids = []
    for email in filter(None, (e.strip() for e in (emails or "").split(","))):
        user = await storage.get_user_by_email(email)
        if user is None or user.id not in members:
            raise CommandError(f"{email} is not a member of this organization")
        ids.append(user.id)
    return ids


async def org_set(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Change an organization's settings (what `PATCH /api/admin/organization` changes)."""
    changes: dict[str, object] = {}
    if args.multi_team_delivery is not None:
        changes["multi_team_delivery"] = args.multi_team_delivery
    if args.name is not None:
        if not args.name.strip():
            raise CommandError("--name must not be empty")
        changes["name"] = args.name.strip()
    if not changes:
        raise CommandError("nothing to set: give --multi-team-delivery or --name")
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        await storage.update_organization(org_id, changes)
        org = await storage.get_organization(org_id)
        current = await storage.org_settings(org_id)
    assert org is not None
    return {
        "id": org.id,
        "name": org.name,
        "multi_team_delivery": current.multi_team_delivery,
        "message": f"{org.name}: mail to several teams -> {current.multi_team_delivery}",
    }


async def team_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        active = await _user_ids(storage, args.active, org_id)
        observers = await _user_ids(storage, args.observers, org_id)
        team = await storage.create_team(org_id, args.name, active, observers, not args.no_inbox)
    return {
        "id": team.id,
        "name": team.name,
        "has_inbox": team.has_inbox,
        "active": list(team.active),
        "observers": list(team.observers),
        "message": f"created team {team.name} ({team.id})",
    }


async def label_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        auto_share = await _user_ids(storage, args.share_with, org_id)
        label = await storage.create_label(org_id, args.path, auto_share)
    return {"id": label.id, "path": label.path, "message": f"created label {label.path}"}


async def reindex(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Rebuild every conversation's index rows from its document."""
    rebuilt = 0
    async with storage_for(settings) as storage:
        for name in await storage.document_names("conv"):
            async with storage.conversation_transaction(name) as tx:
                doc = new_conversation_doc()
                snapshot = await tx.snapshot()
                if snapshot is not None:
                    doc.apply_update(snapshot)
                for _, update in await tx.tail(0):
                    doc.apply_update(update)
                conv = read_conversation(doc)
                if conv.deleted:
                    await tx.erase(conv.id)
                else:
                    await tx.save_index(project(conv))
            rebuilt += 1
    return {"rebuilt": rebuilt, "message": f"rebuilt the index of {rebuilt} conversations"}


def smtp_summary(args: argparse.Namespace) -> str:
    return f"{args.smtp_host}:{args.smtp_port} ({args.smtp_security})"


async def account_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        owner = (await _user_ids(storage, args.owner, org_id))[0]
        team_id, users = None, []
        teams = {team.name: team for team in await storage.teams(org_id)}
        for target in args.share_with or []:
            kind, _, name = target.partition(":")
            if kind == "team" and name in teams:
                team_id = team_id or teams[name].id
                users += [u for u in (*teams[name].active, *teams[name].observers)]
            elif kind == "user":
                users += await _user_ids(storage, name, org_id)
            else:
                raise CommandError(f"--share-with {target!r}: use team:NAME or user:EMAIL")
        if args.delivery == "team_inbox" and team_id is None:
            raise CommandError("--delivery team_inbox needs --share-with team:NAME")
        shared = [(user, False) for user in dict.fromkeys(users) if user != owner]
        smtp = None
        if args.smtp_host:
            smtp = smtp_accounts.SmtpInput(
                args.smtp_host, args.smtp_port, args.smtp_security,
                args.smtp_username, args.smtp_password,
            )  # fmt: skip
            try:
                smtp_accounts.check(smtp)
            except AppError as exc:
                raise CommandError(f"--{(exc.field or 'smtp').replace('.', '-')}: {exc}") from None
        account = await storage.create_account(
            org_id, args.address, owner, args.delivery, team_id, shared
        )
        if smtp is not None:
            await smtp_accounts.configure(storage, settings, account, smtp)
    return {
        "id": account.id,
        "address": account.address,
        "delivery": account.delivery,
        "team": account.team_id,
        "shared_with": [user for user, _ in account.shared_with],
        "smtp": f"{args.smtp_host}:{args.smtp_port} ({args.smtp_security})"
        if args.smtp_host
        else None,
        "message": f"created account {account.address} ({account.id})",
    }


async def import_mail(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Import .eml files, mbox files and folders of them as mail received by an account.
    Re-running an import stores only what the first run did not (a resumed import)."""
    from server.actions.ingest import ImportResult, ingest
    from server.cli_progress import ProgressLine
    from server.services import open_services
    from sync.mbox import MalformedMailbox, is_mbox, split_mbox

    files = _mail_files(args.files)
    async with storage_for(settings):
        pass  # migrate the embedded database before services start
    total = ImportResult()
    progress = ProgressLine(sum(_message_count(path) for path in files))
    async with open_services(settings) as services:
        accounts = await services.storage.accounts_by_address(args.address)
        if not accounts:
            raise CommandError(
                f"no account {args.address} (create it with `tandem account create`)"
            )
        try:
            for path in files:
                data = _read(path)
                try:
                    raws = split_mbox(data) if is_mbox(data) else [data]
                except MalformedMailbox as exc:
                    raise CommandError(f"{path}: {exc}") from exc
                result = await ingest(services, accounts[0], raws, progress=progress)
                progress.finished(result)
                total.add(result, path.name)
        finally:
            progress.close()
    facts = total.to_json()
    facts["message"] = (
        f"imported {total.imported}, duplicates {total.duplicates}, rejected {total.rejected}"
        f" into {len(total.conversations)} conversations"
        + "".join(f"\n  {error}" for error in total.errors)
    )
    return facts


def _mail_files(names: list[str]) -> list[Path]:
    """The files named, with folders (a Maildir, a directory of .eml) walked in name order."""
    found: list[Path] = []
    for path in map(Path, names):
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        elif path.exists():
            found.append(path)
        else:
            raise CommandError(f"cannot read {path}: no such file or folder")
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc


def _message_count(path: Path, chunk: int = 1 << 20) -> int:
    """How many messages a file holds, counted before the import (for its progress) by
    reading it in chunks, never whole."""
    try:
        with path.open("rb") as file:
            head = file.read(chunk)
            if not head.startswith(b"From "):
                return 1
            count, tail = 1, b""
            while head:
                data = tail + head  # a separator cut by the chunk is found here, once
                count += data.count(b"\nFrom ")
                tail = data[-5:]
                head = file.read(chunk)
            return count
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
