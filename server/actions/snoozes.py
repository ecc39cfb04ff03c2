"""Snooze wake-ups as durable jobs: scheduled after a snooze commits, cancelled with an
unsnooze, and run by the scheduler through the same writer as every action. A job whose
snooze has since changed finds nothing due and changes nothing."""

from __future__ import annotations

import time

from server.actions.runner import ConversationWriter
from server.conversations.machine_snooze import wake_snooze
from server.conversations.model import Conversation
from server.errors import Merged, NotFound
from server.scheduler import Scheduler
from server.storage.base import Storage
from server.storage.jobs import Job

KIND = "snooze_wake"


def job_key(conv_id: str, user: str | None) -> str:
    return f"snooze:{conv_id}:{user or '*'}"


async def schedule_after(storage: Storage, conv: Conversation, actor: str, command: str) -> None:
    """Call after a snooze or unsnooze command has committed."""
    if command == "unsnooze":
        await storage.cancel_job(job_key(conv.id, actor))
        await storage.cancel_job(job_key(conv.id, None))
        return
    state = conv.users.get(actor)
    mine = state.snooze if state is not None else None
    for user, snooze in ((actor, mine), (None, conv.snooze)):
        if snooze is not None and snooze.by == actor:
            payload = {"conversation": conv.id, "user": user, "until": snooze.until}
            await storage.schedule_job(job_key(conv.id, user), KIND, snooze.until, payload)


def register(scheduler: Scheduler, writer: ConversationWriter) -> None:
    async def wake(job: Job) -> None:
        conv_id = str(job.payload["conversation"])
        user = job.payload.get("user")
        until = int(str(job.payload["until"]))
        now = max(int(time.time() * 1000), until)

        def change(conv: Conversation) -> None:
            wake_snooze(conv, user=str(user) if user else None, until=until, now=now)

        try:
            await writer.change(conv_id, change)
        except (NotFound, Merged):  # deleted forever or merged away: its snoozes went too
            return

    scheduler.register(KIND, wake)
