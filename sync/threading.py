"""Which conversation an incoming mail joins: deterministic, explainable, pure.

The order, first match wins:

1. In-Reply-To: the message this one answers.
2. References, newest first (the last id is the direct parent, as jwz and RFC 5322 say).
3. Subject, only when the mail has neither In-Reply-To nor References, its subject carries a
   reply or forward prefix ("Re:", "AW:", "Fwd:"...), and the caller asked for it. Some
   clients drop the headers, but two unrelated mails titled "Invoice" must not merge: a
   subject alone is weak evidence (Chatwoot #14993, FreeScout #4958, Zammad #5064), so a
   mail whose headers name messages Tandem has never seen starts a new thread instead of
   guessing by subject, and so does a mail without a "Re:" — it claims to be new.
4. Otherwise a new thread.

`lookup` runs against what is stored. The caller typically fetches all of `thread_keys(msg)`
in one query, then passes a function that picks from that result; `resolve_thread` asks
for one id at a time so that the decision can name the id that linked it.

The 400-message cap is applied after the decision, by `apply_message_cap`, because the
count lives in the ingest transaction (DESIGN §8, seed C).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync.mime import ParsedMessage, has_reply_prefix

MESSAGE_CAP = 400
MAX_REFERENCES = 100  # newest ones; a mail with thousands of References is hostile or broken

Lookup = Callable[[list[str]], str | None]
SubjectLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class ThreadDecision:
    conversation_id: str | None  # None: start a new conversation
    reason: str


NEW_THREAD = ThreadDecision(None, "new thread")


def thread_keys(msg: ParsedMessage) -> list[str]:
    """Ids that can link `msg` to a stored conversation, most specific first."""
    candidates = [msg.in_reply_to, *reversed(msg.references[-MAX_REFERENCES:])]
    keys: list[str] = []
    for candidate in candidates:
        if candidate and candidate != msg.message_id and candidate not in keys:
            keys.append(candidate)
    return keys


def resolve_thread(
    msg: ParsedMessage,
    lookup: Lookup,
    *,
    subject_fallback: SubjectLookup | None = None,
) -> ThreadDecision:
    for key in thread_keys(msg):
        conversation_id = lookup([key])
        if conversation_id is not None:
            header = "in-reply-to" if key == msg.in_reply_to else "references"
            return ThreadDecision(conversation_id, f"{header} {key}")
    if subject_fallback is not None and _may_match_subject(msg):
        conversation_id = subject_fallback(msg.normalized_subject)
        if conversation_id is not None:
            return ThreadDecision(conversation_id, "subject match")
    return NEW_THREAD


def apply_message_cap(decision: ThreadDecision, message_count: int) -> ThreadDecision:
    """A conversation holding MESSAGE_CAP counted messages takes no more: start a new one."""
    if decision.conversation_id is None or message_count < MESSAGE_CAP:
        return decision
    return ThreadDecision(
        None,
        f"new thread: conversation {decision.conversation_id} is full "
        f"({MESSAGE_CAP} messages; matched by {decision.reason})",
    )


def dedupe_key(msg: ParsedMessage) -> str:
    """Same key for one mail received by several accounts of an organization."""
    return msg.raw_sha256 if msg.message_id_is_synthetic else msg.message_id


def _may_match_subject(msg: ParsedMessage) -> bool:
    has_thread_headers = msg.in_reply_to is not None or bool(msg.references)
    return not has_thread_headers and bool(msg.normalized_subject) and has_reply_prefix(msg.subject)
