"""The index answers every mailbox exactly as the pure predicates do over the documents,
after random sequences of real actions, on both backends."""

from __future__ import annotations

import contextlib
import random
import time
from typing import Any

from server.actions.directory import load_directory
from server.conversations import (
    machine_drafts,
    machine_mail,
    machine_personal,
    machine_snooze,
    machine_tasks,
    machine_trash,
    machine_triage,
)
from server.conversations.mailboxes import in_mailbox, unread_for
from server.conversations.model import Conversation, Directory, MessageSummary, UserState
from server.errors import AppError
from server.storage.mailboxes import MailboxQuery
from tests.fixtures.server import LiveServer, make_person

HOUR = 3_600_000


def _random_action(rng: random.Random, users: list[str], team: str, now: int) -> Any:
    actor = rng.choice(users)
    other = rng.choice(users)
    choices = [
        lambda c, d: machine_triage.assign(c, actor, users=[other], now=now, directory=d),
        lambda c, d: machine_triage.unassign(c, actor, users=[other], now=now, directory=d),
        lambda c, d: machine_triage.close(c, actor, now=now, directory=d),
        lambda c, d: machine_triage.reopen(c, actor, now=now, directory=d),
        lambda c, d: machine_triage.archive(c, actor, team=None, now=now, directory=d),
        lambda c, d: machine_triage.move_to_inbox(c, actor, now=now, directory=d),
        lambda c, d: machine_triage.move_to_team(c, actor, team=team, now=now, directory=d),
        lambda c, d: machine_personal.star(c, actor, now=now, directory=d),
        lambda c, d: machine_personal.mark_unread(c, actor, now=now, directory=d),
        lambda c, d: machine_trash.trash(c, actor, team=None, now=now, directory=d),
        lambda c, d: machine_trash.restore(c, actor, now=now, directory=d),
        lambda c, d: machine_snooze.snooze(
            c,
            actor,
            until=now + HOUR,
            scope=rng.choice(["me", "everyone"]),
            leave_in_inbox=rng.random() < 0.3,
            discard_if_reply=False,
            now=now,
            directory=d,
        ),
        lambda c, d: machine_snooze.unsnooze(c, actor, now=now, directory=d),
        lambda c, d: machine_mail.send_message(
            c,
            actor,
            now=now,
            directory=d,
            summary=MessageSummary(f"o{rng.random()}", "out", "support@acme.test", "Re", "", now),
        ),
        lambda c, d: machine_drafts.add_draft(
            c, actor, draft_id=f"d{rng.random()}", now=now, directory=d
        ),
        lambda c, d: (
            c.drafts
            and machine_drafts.discard_draft(c, actor, draft_id=c.drafts[0], now=now, directory=d)
        ),
        lambda c, d: machine_trash.mark_spam(c, actor, now=now, directory=d),
        lambda c, d: machine_trash.not_spam(c, actor, now=now, directory=d),
        lambda c, d: machine_tasks.add_task(
            c,
            actor,
            task_id=f"t{rng.random()}",
            title="Call",
            assignees=[other],
            now=now,
            directory=d,
        ),
        lambda c, d: (
            c.tasks
            and machine_tasks.update_task(
                c, actor, task=c.tasks[0].id, done=not c.tasks[0].done, now=now, directory=d
            )
        ),
    ]
    return rng.choice(choices)


async def _sql(live: LiveServer, user: str, org: str, mailbox: str, **extra: Any) -> set[str]:
    rows, _ = await live.services.storage.mailbox_page(
        MailboxQuery(
            user_id=user, org_id=org, mailbox=mailbox, now=extra.pop("now"), limit=200, **extra
        )
    )
    return {row["id"] for row in rows}


async def test_index_mailboxes_equal_the_pure_predicates(live_server: LiveServer) -> None:
    services = live_server.services
    people = [await make_person(services, f"u{i}@acme.test") for i in range(4)]
    org = people[0].org.id
    users = [p.user.id for p in people]
    team = await services.storage.create_team(org, "Support", users[:2], users[2:3], True)
    directory: Directory = await load_directory(services.storage, org)
    rng = random.Random(20261126)
    now = int(time.time() * 1000)
    conv_ids = []
    for i in range(12):
        conv = Conversation(
            id=f"k{i}", org_id=org, kind="thread", subject=f"s{i}", last_activity_at=now - i,
            team=team.id if i % 2 else None, in_team_inbox=bool(i % 2),
            users={u: UserState(inbox=rng.random() < 0.5, bumped_at=now - i) for u in users},
        )  # fmt: skip
        await services.conversations.create(conv)
        conv_ids.append(conv.id)
        for _ in range(6):
            action = _random_action(rng, users, team.id, now)

            def change(c: Conversation, action: Any = action) -> None:
                action(c, directory)

            with contextlib.suppress(AppError):  # a refused action changes nothing
                await services.conversations.change(conv.id, change)
    convs = [await services.conversations.read(cid) for cid in conv_ids]
    simple = ["inbox", "all", "assigned_to_me", "assigned_to_others", "closed", "snoozed",
              "trash", "starred", "team_inboxes", "sent", "drafts", "send_later"]  # fmt: skip
    for user in users:
        for mailbox in simple:
            expected = {c.id for c in convs if in_mailbox(c, user, mailbox, directory, now)}
            got = await _sql(live_server, user, org, mailbox, now=now)
            assert got == expected, (user, mailbox)
        expected = {
            c.id for c in convs if in_mailbox(c, user, "team_inbox", directory, now, team=team.id)
        }
        got = await _sql(live_server, user, org, "team_inbox", now=now, team=team.id)
        assert got == expected, (user, "team_inbox")
        for mailbox in ("team_all", "team_closed"):
            expected = {
                c.id for c in convs if in_mailbox(c, user, mailbox, directory, now, team=team.id)
            }
            got = await _sql(live_server, user, org, mailbox, now=now, team=team.id)
            assert got == expected, (user, mailbox)
        await _counts_match(live_server, convs, user, org, team.id, directory, now)


async def _counts_match(
    live: LiveServer,
    convs: list[Conversation],
    user: str,
    org: str,
    team: str,
    directory: Directory,
    now: int,
) -> None:
    """/api/counts: unread conversations per mailbox and team, as the predicates say."""

    def unread_in(mailbox: str, **where: str) -> int:
        return sum(
            1
            for c in convs
            if unread_for(c, user) and in_mailbox(c, user, mailbox, directory, now, **where)
        )

    counts = await live.services.storage.unread_counts(user, org, now)
    for mailbox in ("inbox", "assigned_to_me", "starred", "team_inboxes"):
        assert counts["mailboxes"][mailbox] == unread_in(mailbox), (user, mailbox)
    assert counts["teams"].get(team, 0) == unread_in("team_inbox", team=team), (user, "team")
    assert counts["badge"] == unread_in("inbox") + unread_in("team_inboxes")
