"""The one storage interface. `sqlite.py` and `postgres.py` implement it; nothing else in
the application talks to a database driver.

Times are integer Unix milliseconds. Ids are UUID strings made by the caller or the store.
Uniqueness violations raise `server.errors.Conflict` naming the field.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from crdt.store import UpdateLog

if TYPE_CHECKING:
    from server.conversations.index import UserRow
    from server.identity.senders import SenderPreferences
    from server.storage.aliases import AliasRow, AliasSettings
    from server.storage.attachments import AttachmentRecord
    from server.storage.conversations import ConversationTx, ConversationTxs
    from server.storage.jobs import Job
    from server.storage.mail import Account, StoredSmtp, ThreadCandidate
    from server.storage.mailboxes import MailboxQuery
    from server.storage.members import Member
    from server.storage.messages import (
        AttachmentMeta,
        MessageBody,
        MessageRecord,
        RejectedMail,
    )
    from server.storage.organization import LabelRecord, OrgSettings, TeamRecord
    from server.storage.outbox import OutboxItem
    from server.storage.responses import ResponseRecord
    from server.storage.signatures import SignatureRecord

Role = Literal["owner", "admin", "member"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member")


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str | None
    created_at: int


@dataclass(frozen=True)
class Membership:
    org_id: str
    user_id: str
    role: Role


@dataclass(frozen=True)
class DocumentRecord:
    name: str
    kind: str
    org_id: str | None
    owner_id: str | None
    created_at: int


@dataclass(frozen=True)
class Draft:
    id: str
    org_id: str
    author_id: str
    subject: str
    created_at: int
    conversation_id: str | None = None  # a reply draft: co-written by the conversation's people
    status: str = "editing"  # or "discarded"


class Storage(UpdateLog, Protocol):
    backend: str  # "sqlite" or "postgres"

    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""
        ...

    async def schema_version(self) -> int: ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...

    async def close(self) -> None: ...

    # organizations, users, memberships
    async def create_organization(self, name: str) -> Organization: ...

    async def get_organization(self, org_id: str) -> Organization | None: ...

    async def get_organization_by_name(self, name: str) -> Organization | None: ...

    async def list_organizations(self) -> list[Organization]: ...

    async def create_user(self, email: str, name: str, password_hash: str | None) -> User: ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def count_users(self) -> int: ...

    async def get_user(self, user_id: str) -> User | None: ...

    async def get_user_by_email(self, email: str) -> User | None:
        """Case-insensitive on email."""
        ...

    async def add_membership(self, org_id: str, user_id: str, role: Role) -> Membership: ...

    async def memberships_for_user(self, user_id: str) -> list[Membership]: ...

    async def org_people(self, org_id: str) -> list[Member]: ...

    async def add_member(
        self, org_id: str, email: str, name: str, password_hash: str | None, role: Role
    ) -> tuple[Member, bool]:
        """Add a user (created when the email is new) in one transaction; (member, created)."""
        ...

    async def update_member(self, org_id: str, user_id: str, changes: dict[str, object]) -> None:
        """`role` and/or `handle`; `Conflict` for the last owner or a taken handle."""
        ...

    async def remove_member(self, org_id: str, user_id: str) -> list[str]:
        """Membership, teams, groups, label and account shares; returns their team ids."""
        ...

    async def assigned_conversations(self, org_id: str, user_id: str) -> list[str]: ...

    # credentials: only hashes are stored
    async def create_api_token(self, user_id: str, token_hash: str, label: str) -> str:
        """Return the new token's id."""
        ...

    async def user_for_token_hash(self, token_hash: str) -> User | None: ...

    async def create_session(self, user_id: str, session_hash: str, expires_at: int) -> None: ...

    async def user_for_session_hash(self, session_hash: str, now: int) -> User | None: ...

    async def delete_session(self, session_hash: str) -> None: ...

    # documents
    async def create_document(
        self,
        name: str,
        kind: str,
        org_id: str | None,
        owner_id: str | None,
        initial_update: bytes | None,
    ) -> DocumentRecord:
        """Create the document row and, in the same transaction, its first log entry (seq 1)
        when `initial_update` is given, so seeded content exists exactly once."""
        ...

    async def get_document(self, name: str) -> DocumentRecord | None: ...

    async def document_names(self, kind: str) -> list[str]: ...

    async def create_draft(
        self,
        draft_id: str,
        org_id: str,
        author_id: str,
        subject: str,
        initial_update: bytes,
        conversation_id: str | None = None,
    ) -> Draft:
        """Create the draft row and its `draft:<id>` document (with seq 1) in one transaction."""
        ...

    async def set_draft_status(self, draft_id: str, status: str) -> None: ...

    async def get_draft(self, draft_id: str) -> Draft | None: ...

    async def delete_draft(self, draft_id: str) -> bool:
        """Delete the draft, its document, log and snapshot. False if it did not exist."""
        ...

    # conversations (rows are a projection of the conv: documents)
    def conversation_transaction(
        self, name: str
    ) -> contextlib.AbstractAsyncContextManager[ConversationTx]:
        """One action's transaction: the document row locked, log and index writable."""
        ...

    def conversations_transaction(
        self, names: list[str]
    ) -> contextlib.AbstractAsyncContextManager[ConversationTxs]:
        """Several conversations locked in the given order, in one transaction."""
        ...

    async def conversation_access(self, conv_id: str, user_id: str) -> bool: ...

    async def conversation_org(self, conv_id: str) -> tuple[str, str | None] | None:
        """(organization, merged_into), or None if there is no such conversation."""
        ...

    async def stored_index(self, conv_id: str) -> tuple[tuple[UserRow, ...], tuple[str, ...]]: ...

    async def conversation_for_post(self, post_id: str) -> str | None: ...

    async def conversations_for_references(
        self, org_id: str, references: Sequence[str]
    ) -> dict[str, list[str]]:
        """Reference -> conversations whose posts carried it, most recent activity first."""
        ...

    # the organization around conversations
    async def org_settings(self, org_id: str) -> OrgSettings: ...

    async def directory_version(self, org_id: str) -> int | None:
        """None when the organization does not exist."""
        ...

    async def update_organization(self, org_id: str, changes: dict[str, object]) -> None:
        """`name` and/or `multi_team_delivery`; `Conflict` (field `name`) for a taken name."""
        ...

    async def org_members(self, org_id: str) -> dict[str, str]:
        """user id -> role."""
        ...

    async def member_emails(self, org_id: str) -> dict[str, str]: ...

    async def set_mention_group(self, org_id: str, name: str, members: Sequence[str]) -> None: ...

    async def mention_groups(self, org_id: str) -> dict[str, tuple[str, ...]]: ...

    async def create_team(
        self,
        org_id: str,
        name: str,
        active: Sequence[str],
        observers: Sequence[str],
        has_inbox: bool,
    ) -> TeamRecord: ...

    async def teams(self, org_id: str) -> list[TeamRecord]: ...

    async def update_team(self, team_id: str, changes: dict[str, object]) -> None: ...

    async def preferences(self, user_ids: Sequence[str]) -> dict[str, dict[str, object]]: ...

    async def save_preferences(self, user_id: str, data: dict[str, object]) -> None: ...

    async def create_label(
        self,
        org_id: str,
        path: str,
        auto_share: Sequence[str],
        color: str | None = None,
        visibility: str = "organization",
    ) -> LabelRecord:
        """`visibility`: "organization" or "delegates" (owners, admins, auto-shared users)."""
        ...

    async def labels(self, org_id: str) -> list[LabelRecord]: ...

    async def update_labels(self, org_id: str, changes: dict[str, dict[str, object]]) -> None:
        """Per label id: `path`, `color`, `auto_share`; all in one transaction."""
        ...

    # mailboxes (index reads)
    async def mailbox_page(
        self, query: MailboxQuery
    ) -> tuple[list[dict[str, Any]], tuple[int, str] | None]: ...

    async def unread_counts(self, user_id: str, org_id: str, now: int) -> dict[str, Any]: ...

    # durable jobs
    async def schedule_job(
        self, key: str, kind: str, due_at: int, payload: dict[str, Any]
    ) -> str: ...

    async def cancel_job(self, key: str) -> bool: ...

    async def claim_due_jobs(self, now: int, limit: int) -> list[Job]: ...

    async def finish_job(self, job: Job) -> None: ...

    async def retry_job(self, job: Job, at: int, error: str) -> None: ...

    async def pending_jobs(self) -> list[Job]: ...

    # connected accounts and stored messages
    async def create_account(
        self,
        org_id: str,
        address: str,
        owner_id: str | None,
        delivery: str,
        team_id: str | None,
        shared_with: Sequence[tuple[str, bool]],
    ) -> Account: ...

    async def accounts_by_address(self, address: str) -> list[Account]: ...

    # canned responses
    async def create_response(self, record: ResponseRecord) -> ResponseRecord:
        """Refuses the 1,001st personal response of a user, or shared one of an org."""
        ...

    async def responses(self, org_id: str) -> list[ResponseRecord]: ...

    async def response(self, response_id: str) -> ResponseRecord | None: ...

    async def update_response(self, record: ResponseRecord) -> ResponseRecord: ...

    async def delete_response(self, response_id: str) -> None: ...

    # aliases and signatures
    async def aliases_of(self, org_id: str) -> list[AliasRow]:
        """Every alias, accounts' defaults included, in creation order."""
        ...

    async def alias(self, alias_id: str) -> AliasRow | None: ...

    async def create_alias(
        self, account_id: str, address: str, description: str, created_by: str
    ) -> AliasRow:
        """Refuses an account's 101st extra alias."""
        ...

    async def delete_alias(self, alias_id: str) -> None: ...

    async def set_alias_shares(
        self, alias_id: str, account_id: str, user_ids: Sequence[str]
    ) -> None: ...

    async def alias_settings(self, org_id: str, user_id: str) -> dict[str, AliasSettings]: ...

    async def save_alias_settings(
        self, alias: AliasRow, user_id: str, settings: AliasSettings
    ) -> None: ...

    async def sender_preferences(self, org_id: str, user_id: str) -> SenderPreferences: ...

    async def save_sender_preferences(
        self, org_id: str, user_id: str, preferences: SenderPreferences
    ) -> None: ...

    async def message_raw(self, message_id: str) -> bytes | None: ...

    async def create_signature(self, record: SignatureRecord) -> SignatureRecord:
        """Refuses the 101st personal signature of a user, the 501st of an organization."""
        ...

    async def signatures(self, org_id: str) -> list[SignatureRecord]: ...

    async def signature(self, signature_id: str) -> SignatureRecord | None: ...

    async def update_signature(self, record: SignatureRecord) -> SignatureRecord: ...

    async def delete_signature(self, signature_id: str) -> None: ...

    # attachments: a draft's or a response's files (`server/storage/attachments.py`)
    async def add_attachment(
        self, record: AttachmentRecord, data: bytes, *, limit: int
    ) -> AttachmentRecord:
        """Store `data` for the record's draft or response (id, size, sha256 and created_at
        filled in) unless the owner's files would pass `limit` bytes (`OverLimit`); a draft
        not being edited is `Conflict` naming `draft`."""
        ...

    async def copy_attachments(
        self, response_id: str, draft_id: str, created_by: str, *, limit: int
    ) -> list[AttachmentRecord]:
        """Copy a response's files into a draft, all or none (`OverLimit`, `Conflict`)."""
        ...

    async def attachment(self, attachment_id: str) -> AttachmentRecord | None: ...

    async def attachment_data(self, attachment_id: str) -> bytes | None: ...

    async def attachments_of(
        self, *, draft_id: str | None = None, response_id: str | None = None
    ) -> list[AttachmentRecord]:
        """In upload order."""
        ...

    async def response_attachments(self, org_id: str) -> dict[str, list[AttachmentRecord]]:
        """Response id -> its files, in upload order."""
        ...

    async def attachment_total(
        self, *, draft_id: str | None = None, response_id: str | None = None
    ) -> int: ...

    async def attachment_blobs(
        self, draft_id: str, ids: Sequence[str]
    ) -> list[tuple[AttachmentRecord, bytes]]:
        """Those of `ids` the draft holds, with their bytes, in upload order."""
        ...

    async def delete_attachment(
        self, attachment_id: str, *, draft_id: str | None = None, response_id: str | None = None
    ) -> bool:
        """False when the owner has no such file; `Conflict` for a draft not being edited."""
        ...

    async def forget_attachments(self, ids: Sequence[str]) -> None: ...

    # the outbox
    async def claim_draft(self, draft_id: str) -> bool:
        """editing -> sending; False when someone else is sending it."""
        ...

    async def enqueue(self, item: OutboxItem) -> None: ...

    async def outbox_item(self, item_id: str) -> OutboxItem | None: ...

    async def move_outbox(
        self,
        item_id: str,
        frm: tuple[str, ...],
        to: str,
        *,
        code: int | None = None,
        error: str | None = None,
    ) -> bool: ...

    async def set_account_smtp(self, account_id: str, smtp: StoredSmtp) -> None: ...

    async def account_smtp(self, account_id: str) -> StoredSmtp | None: ...

    async def accounts_of(self, org_id: str) -> list[Account]: ...

    async def conversations_for_message_ids(
        self, org_id: str, message_ids: Sequence[str]
    ) -> dict[str, str]: ...

    async def thread_candidates(
        self, org_id: str, message_ids: Sequence[str]
    ) -> dict[str, list[ThreadCandidate]]:
        """Message-ID -> every conversation (not merged away) holding a message that is or
        cites it, oldest message first."""
        ...

    async def stored_copies(
        self, org_id: str, rfc_message_id: str
    ) -> dict[str, tuple[str, str | None]]:
        """De-duplication key -> (conversation, content fingerprint), for every stored copy
        of one Message-ID."""
        ...

    async def message_page(
        self, conversation_id: str, after: tuple[int, int, str] | None, limit: int
    ) -> list[MessageRecord]: ...

    async def messages_before(
        self, conversation_id: str, before: int | None, limit: int
    ) -> list[MessageRecord]: ...

    async def message_records(self, message_ids: Sequence[str]) -> list[MessageRecord]: ...

    async def messages_with_rfc_id(self, org_id: str, rfc_message_id: str) -> list[str]: ...

    async def message_attachment(
        self, attachment_id: str
    ) -> tuple[AttachmentMeta, str, bytes] | None: ...

    async def unparsed_messages(
        self, below: int, limit: int
    ) -> list[tuple[str, str, bytes, int]]: ...

    async def fill_message_body(self, org_id: str, message_id: str, body: MessageBody) -> None: ...

    async def add_rejected(
        self, org_id: str, account_id: str, reason: str, source: str, raw: bytes, sha256: str
    ) -> str: ...

    async def rejected_mail(self, account_id: str) -> list[RejectedMail]: ...

    async def rejected_item(self, rejected_id: str) -> tuple[RejectedMail, bytes] | None: ...

    async def retried_rejected(self, rejected_id: str, reason: str | None) -> None: ...

    async def message_seen(self, org_id: str, dedupe_key: str) -> bool: ...

    async def message_count(self, conversation_id: str) -> int: ...
