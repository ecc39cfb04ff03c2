"""The bodies of the `tandem` commands: each opens storage, does one thing, returns facts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import re
import secrets
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson

from server.actions.message_bodies import fill_unparsed
from server.credentials import new_api_token
from server.passwords import hash_password
from server.settings import Settings
from server.storage import StorageUnavailable, open_storage
from server.storage.base import Organization, Storage, User
from server.storage.migrations import latest_version

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
FIRST_ORG, FIRST_EMAIL = "Tandem", "admin@localhost"


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


async def _open(settings: Settings) -> Storage:
    try:
        return await open_storage(settings)
    except StorageUnavailable as exc:
        raise CommandError(str(exc)) from exc


@contextlib.asynccontextmanager
async def storage_for(settings: Settings) -> AsyncIterator[Storage]:
    """Open storage for one command; the embedded SQLite database migrates itself."""
    storage = await _open(settings)
    try:
        if not settings.is_postgres:
            await storage.migrate()
        yield storage
    finally:
        await storage.close()


async def _org(storage: Storage, name: str) -> Organization:
    org = await storage.get_organization_by_name(name)
    if org is None:
        raise CommandError(f"no organization named {name!r} (create it with `tandem org create`)")
    return org


async def _user(storage: Storage, email: str) -> User:
    user = await storage.get_user_by_email(email)
    if user is None:
        raise CommandError(f"no user with email {email!r}")
    return user


def _password(given: str | None) -> tuple[str, bool]:
    return (given, False) if given else (secrets.token_urlsafe(12), True)


async def migrate(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    storage = await _open(settings)
    try:
        applied = await storage.migrate()
        version = await storage.schema_version()
        filled = await fill_unparsed(storage)
    finally:
        await storage.close()
    message = f"applied {applied}" if applied else "schema is up to date"
    message += f", parsed {filled} stored messages" if filled else ""
    return {
        "applied": applied,
        "schema_version": version,
        "parsed_messages": filled,
        "message": f"{message} (v{version})",
    }


async def worker(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        await storage.ping()
        print("tandem worker: no sync workers are configured yet; waiting", file=sys.stderr)
        await asyncio.Event().wait()
    return {}


async def org_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org = await storage.create_organization(args.name)
    return {"id": org.id, "name": org.name, "message": f"created organization {org.name}"}


async def org_list(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        orgs = await storage.list_organizations()
    names = "\n".join(f"{org.id}  {org.name}" for org in orgs) or "no organizations"
    return {"organizations": [{"id": o.id, "name": o.name} for o in orgs], "message": names}


async def user_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    email = args.email.strip().lower()
    if not EMAIL.match(email):
        raise CommandError(f"{args.email!r} is not an email address")
    password, generated = _password(args.password)
    password_hash = hash_password(password)
    async with storage_for(settings) as storage:
        org = await _org(storage, args.org)
        user = await storage.create_user(email, args.name or email.split("@")[0], password_hash)
        await storage.add_membership(org.id, user.id, args.role)
    result: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "org": org.name,
        "role": args.role,
    }
    message = f"created {user.email} ({args.role} of {org.name})"
    if generated:
        result["password"] = password
        message += f"\npassword: {password}"
    return {**result, "message": message}


async def user_set_password(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    password, generated = _password(args.password)
    password_hash = hash_password(password)
    async with storage_for(settings) as storage:
        user = await _user(storage, args.email)
        await storage.set_password_hash(user.id, password_hash)
    result: dict[str, Any] = {"email": user.email}
    if generated:
        result["password"] = password
    suffix = f": {password}" if generated else ""
    return {**result, "message": f"password set for {user.email}{suffix}"}


async def user_add_to_org(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        user = await _user(storage, args.email)
        org = await _org(storage, args.org)
        await storage.add_membership(org.id, user.id, args.role)
    return {"email": user.email, "org": org.name, "role": args.role, "message": "added"}


async def token_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    token, token_hash = new_api_token()
    async with storage_for(settings) as storage:
        user = await _user(storage, args.email)
        token_id = await storage.create_api_token(user.id, token_hash, args.label)
    return {"id": token_id, "email": user.email, "token": token, "message": token}


async def first_run(settings: Settings) -> dict[str, Any]:
    """Prepare the embedded database; on one with no users, create the first owner.

    A shared PostgreSQL is set up with `tandem migrate` and `tandem user create` instead:
    several web processes starting at once must not race to invent an administrator."""
    if settings.is_postgres:
        await _require_current_schema(settings)
        return {"created": False}
    async with storage_for(settings) as storage:
        if await storage.count_users():
            return {"created": False}
        password = secrets.token_urlsafe(12)
        org = await storage.get_organization_by_name(FIRST_ORG) or (
            await storage.create_organization(FIRST_ORG)
        )
        user = await storage.create_user(FIRST_EMAIL, "Admin", hash_password(password))
        await storage.add_membership(org.id, user.id, "owner")
    return {"created": True, "email": FIRST_EMAIL, "password": password, "org": FIRST_ORG}


async def _require_current_schema(settings: Settings) -> None:
    async with storage_for(settings) as storage:
        current, latest = await storage.schema_version(), latest_version(storage.backend)
    if current < latest:
        raise CommandError(
            f"the database schema is at version {current} and this Tandem needs {latest}: "
            "run `tandem migrate` first"
        )


def _websocket_implementation() -> str:
    """The sans-I/O websockets protocol when this uvicorn and websockets provide it."""
    from uvicorn.config import WS_PROTOCOLS

    if "websockets-sansio" in WS_PROTOCOLS and importlib.util.find_spec("websockets"):
        return "websockets-sansio"
    return "auto"


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    first = asyncio.run(first_run(settings))
    url = f"http://{host}:{port}/"
    facts = {"url": url, "database": "postgres" if settings.is_postgres else "sqlite", **first}
    if args.json:
        print(orjson.dumps(facts).decode(), flush=True)
    else:
        print(f"Tandem is running at {url}", flush=True)
        if first["created"]:
            print(f"Sign in as {FIRST_EMAIL} with password {first['password']}", flush=True)
            print("(shown once; change it with `tandem user set-password`)", flush=True)
        elif settings.is_postgres:
            print("Add people with `tandem user create EMAIL --org NAME`", flush=True)
        print(f"Sign in at {url} or with POST /api/session", flush=True)
    app = create_app(settings)
    gc.freeze()  # what is loaded by now lives for good: full collections skip it
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws=_websocket_implementation(),
        ws_max_size=settings.max_frame_bytes * 2,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        lifespan="on",
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    uvicorn.Server(config).run()
    return 0
