"""Mailbox pages and unread counts, straight from the index rows (spec §B predicates).

Every list is keyset-paginated on (sort time, id), newest first, so a page costs an index
range scan whatever the organization's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.storage.database import Database

VISIBLE = "NOT c.trashed_for_everyone AND NOT c.spam AND c.merged_into IS NULL"
NOT_HIDDEN_BY_SNOOZE = "(cu.hidden_until IS NULL OR cu.hidden_until <= ?)"

# in the team inbox of its team, for a member of that team (the EXISTS is left open so a
# caller can add a condition on the membership row `m`)
IN_ITS_TEAM_INBOX = (
    f"c.in_team_inbox AND {VISIBLE} AND {NOT_HIDDEN_BY_SNOOZE} AND NOT cu.trashed"
    " AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = c.team_id"
    " AND m.user_id = cu.user_id"
)

# in its team's All, for a member of that team (active or observer)
OF_ITS_TEAM = (
    f"NOT cu.trashed AND {VISIBLE} AND EXISTS (SELECT 1 FROM team_members m"
    " WHERE m.team_id = c.team_id AND m.user_id = cu.user_id)"
)

# mailbox -> (extra condition on c/cu, its parameters' names, sort column)
PREDICATES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "inbox": (
        # `= TRUE`, not a bare column: SQLite's planner then seeks (user_id, inbox) in the
        # index and reads it in bumped_at order; a bare boolean made it sort every row
        f"cu.inbox = TRUE AND NOT cu.trashed AND {VISIBLE} AND {NOT_HIDDEN_BY_SNOOZE}",
        ("now",),
        "cu.bumped_at",
    ),
    "all": (f"NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "assigned_to_me": (f"cu.assigned AND NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "assigned_to_others": (
        f"c.assignee_ids <> '' AND c.assignee_ids <> cu.user_id AND NOT cu.trashed AND {VISIBLE}",
        (),
        "cu.activity_at",
    ),
    "closed": (f"c.status = 'closed' AND NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "snoozed": (
        f"cu.snoozed_until > ? AND NOT cu.trashed AND {VISIBLE}",
        ("now",),
        "cu.snoozed_until",
    ),
    "trash": (
        "(cu.trashed OR c.trashed_for_everyone) AND c.merged_into IS NULL",
        (),
        "cu.activity_at",
    ),
    "spam": ("c.spam AND c.merged_into IS NULL", (), "cu.activity_at"),
    "drafts": (f"c.drafts_count > 0 AND NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "send_later": (
        f"c.scheduled_count > 0 AND NOT cu.trashed AND {VISIBLE}",
        (),
        "cu.activity_at",
    ),
    "sent": (f"c.sent_at IS NOT NULL AND NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "starred": (f"cu.starred AND NOT cu.trashed AND {VISIBLE}", (), "cu.activity_at"),
    "label": (
        f"NOT cu.trashed AND {VISIBLE} AND EXISTS (SELECT 1 FROM conversation_labels l"
        " WHERE l.conversation_id = c.id AND l.label_id = ?)",
        ("label",),
        "cu.activity_at",
    ),
    "team_inbox": (f"c.team_id = ? AND {IN_ITS_TEAM_INBOX})", ("team", "now"), "cu.activity_at"),
    "team_inboxes": (f"{IN_ITS_TEAM_INBOX} AND m.kind = 'active')", ("now",), "cu.activity_at"),
    "team_all": (f"c.team_id = ? AND {OF_ITS_TEAM}", ("team",), "cu.activity_at"),
    "team_closed": (
        f"c.team_id = ? AND c.status = 'closed' AND {OF_ITS_TEAM}",
        ("team",),
        "cu.activity_at",
    ),
}
MAILBOXES = frozenset(PREDICATES)
COUNTED = ("inbox", "assigned_to_me", "starred", "team_inboxes")  # unread counts per mailbox

ROW_COLUMNS = (
    "c.id, c.subject, c.preview, c.last_activity_at, cu.unread, cu.chat_unread, c.assignee_ids,"
    " c.team_id, c.status, cu.bumped_at, cu.snoozed_until"
)


@dataclass(frozen=True)
class MailboxQuery:
    user_id: str
    org_id: str
    mailbox: str
    now: int
    limit: int = 50
    cursor: tuple[int, str] | None = None
    team: str | None = None
    label: str | None = None
    unread: bool = False
    not_snoozed: bool = False
    assigned_to: str | None = None


class MailboxStore:
    db: Database

    async def mailbox_page(
        self, query: MailboxQuery
    ) -> tuple[list[dict[str, Any]], tuple[int, str] | None]:
        condition, names, sort = PREDICATES[query.mailbox]
        values = {"now": query.now, "team": query.team, "label": query.label}
        sql = [
            f"SELECT {ROW_COLUMNS}, {sort} FROM conversation_users cu"
            " JOIN conversations c ON c.id = cu.conversation_id"
            " WHERE cu.user_id = ? AND c.org_id = ? AND " + condition
        ]
        args: list[Any] = [query.user_id, query.org_id, *(values[n] for n in names)]
        if query.unread:
            sql.append("AND (cu.unread OR cu.chat_unread)")
        if query.not_snoozed:
            sql.append("AND (cu.snoozed_until IS NULL OR cu.snoozed_until <= ?)")
            args.append(query.now)
        if query.assigned_to:
            sql.append("AND (',' || c.assignee_ids || ',') LIKE ?")
            args.append(f"%,{query.assigned_to},%")
        if query.cursor is not None:
            sql.append(f"AND ({sort} < ? OR ({sort} = ? AND cu.conversation_id < ?))")
            args += [query.cursor[0], query.cursor[0], query.cursor[1]]
        sql.append(f"ORDER BY {sort} DESC, cu.conversation_id DESC LIMIT ?")
        args.append(query.limit + 1)
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(" ".join(sql), *args)
            label_rows = await _labels_of(tx, [str(r[0]) for r in rows[: query.limit]])
        page = [_row(r, label_rows.get(str(r[0]), [])) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        last = rows[query.limit - 1] if more else None
        return page, (int(last[-1] or 0), str(last[0])) if last is not None else None

    async def unread_counts(self, user_id: str, org_id: str, now: int) -> dict[str, Any]:
        """Unread conversations per mailbox, team inbox and label. One pass over the user's
        unread rows (a partial index) counts every mailbox and team at once; labels take a
        second query."""
        values = {"now": now}
        sums, args = [], []
        for mailbox in COUNTED:
            condition, names, _ = PREDICATES[mailbox]
            sums.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
            args += [values[n] for n in names]
        sums.append(f"SUM(CASE WHEN {IN_ITS_TEAM_INBOX}) THEN 1 ELSE 0 END)")
        args.append(now)
        async with self.db.transaction(readonly=True) as tx:
            groups = await tx.fetchall(
                f"SELECT c.team_id, {', '.join(sums)} FROM conversation_users cu"
                " JOIN conversations c ON c.id = cu.conversation_id"
                " WHERE cu.user_id = ? AND c.org_id = ? AND (cu.unread OR cu.chat_unread)"
                " GROUP BY c.team_id",
                *args,
                user_id,
                org_id,
            )
            labels = await tx.fetchall(
                "SELECT l.label_id, COUNT(*) FROM conversation_users cu JOIN conversations c"
                " ON c.id = cu.conversation_id JOIN conversation_labels l"
                " ON l.conversation_id = c.id WHERE cu.user_id = ? AND c.org_id = ?"
                f" AND NOT cu.trashed AND {VISIBLE} AND (cu.unread OR cu.chat_unread)"
                " GROUP BY l.label_id",
                user_id,
                org_id,
            )
        counts = {
            mailbox: sum(int(group[1 + i] or 0) for group in groups)
            for i, mailbox in enumerate(COUNTED)
        }
        teams = {str(g[0]): int(g[-1] or 0) for g in groups if g[0] is not None and g[-1]}
        return {
            "mailboxes": counts,
            "teams": teams,
            "labels": {str(label): int(n) for label, n in labels},
            "badge": counts["inbox"] + counts["team_inboxes"],
        }


async def _labels_of(tx: Any, ids: list[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    rows = await tx.fetchall(
        "SELECT conversation_id, label_id FROM conversation_labels WHERE conversation_id IN"
        f" ({', '.join('?' * len(ids))}) ORDER BY label_id",
        *ids,
    )
    found: dict[str, list[str]] = {}
    for conv_id, label in rows:
        found.setdefault(str(conv_id), []).append(str(label))
    return found


def _row(r: tuple[Any, ...], labels: list[str]) -> dict[str, Any]:
    return {
        "id": str(r[0]),
        "subject": r[1],
        "preview": r[2],
        "last_activity_at": int(r[3]) // 1000,
        "unread": bool(r[4]),
        "chat_unread": bool(r[5]),
        "assignees": [a for a in str(r[6]).split(",") if a],
        "team": r[7],
        "status": r[8],
        "snoozed_until": int(r[10]) // 1000 if r[10] is not None else None,
        "labels": labels,
    }
