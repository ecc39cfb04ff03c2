"""The long-lived services one process holds, opened and closed together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
from starlette.requests import HTTPConnection

from crdt.manager import RoomManager
from server.actions import sending, snoozes
from server.actions.message_bodies import fill_unparsed
from server.actions.runner import ConversationWriter
from server.ratelimit import RateLimiter
from server.rooms import open_room_manager
from server.scheduler import Scheduler
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.migrations import latest_version
from server.user_stream import UserStream


@dataclass
class Services:
    settings: Settings
    storage: Storage
    rooms: RoomManager
    login_limiter: RateLimiter
    conversations: ConversationWriter
    scheduler: Scheduler


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    storage = await open_storage(settings)
    try:
        await _prepare_schema(settings, storage)
        async with (
            open_room_manager(settings, storage) as rooms,
            anyio.create_task_group() as tasks,
        ):
            scheduler = Scheduler(storage)
            writer = ConversationWriter(storage, rooms)
            snoozes.register(scheduler, writer)
            stream = UserStream(rooms.feeds)
            writer.listen(stream.changed)
            services = Services(
                settings=settings,
                storage=storage,
                rooms=rooms,
                login_limiter=RateLimiter(settings.login_attempts, settings.login_window_s),
                conversations=writer,
                scheduler=scheduler,
            )
            sending.register(scheduler, services)
            tasks.start_soon(scheduler.run)
            tasks.start_soon(stream.run)
            yield services
            tasks.cancel_scope.cancel()
    finally:
        await storage.close()


class SchemaNotCurrent(RuntimeError):
    """The database needs `tandem migrate` before this version can serve it."""


async def _prepare_schema(settings: Settings, storage: Storage) -> None:
    """The embedded default migrates itself; a shared PostgreSQL is migrated by the
    `release` process (`tandem migrate`), and web processes refuse an outdated schema."""
    if not settings.is_postgres:
        if await storage.migrate():
            await fill_unparsed(storage)
        return
    current, latest = await storage.schema_version(), latest_version(storage.backend)
    if current < latest:
        raise SchemaNotCurrent(
            f"database schema is at version {current}, this Tandem needs {latest}: "
            "run `tandem migrate` (the Procfile's release process) first"
        )
