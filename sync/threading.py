"""Which conversation an incoming mail joins: deterministic, explainable, pure, and the same
whatever order the mails of a thread arrive in.

A mail is linked to a stored one when one names the other (In-Reply-To, References, or the
original a bounce returns) or both cite the same message, even one that was never received
(a newsletter many people answer). The order a mail's links are tried in, first match wins:

1. In-Reply-To: the message this one answers.
2. References, newest first (the last id is the direct parent, as jwz and RFC 5322 say).
3. The original message of a delivery-status notification (a bounce).
4. Its own Message-ID, cited by mail stored before it (a reply that arrived first).
5. Subject, only when the mail has neither In-Reply-To nor References, its subject carries a
   reply or forward prefix ("Re:", "AW:", "Fwd:"...), and the caller asked for it. Some
   clients drop the headers, but two unrelated mails titled "Invoice" must not merge: a
   subject alone is weak evidence (Chatwoot #14993, FreeScout #4958, Zammad #5064), so a
   mail whose headers name messages Tandem has never seen starts a new thread instead of
   guessing by subject, and so does a mail without a "Re:" — it claims to be new.
6. Otherwise a new thread.

Two stored mails that share only their own Message-ID are not linked: legacy systems reuse
ids for unrelated mail. Every other conversation a mail links to is listed in `linked`, so
the caller can bring a thread that was split by missing parents back together.

`lookup(key, cited_only)` answers with the conversations holding a message that is `key` or
cites it (`cited_only`: only those citing it), in the caller's order of preference.

The 400-message cap is applied after the decision, by `apply_message_cap`, because the
count lives in the ingest transaction (DESIGN §8, seed C).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync.mime import ParsedMessage, has_reply_prefix

MESSAGE_CAP = 400
MAX_REFERENCES = 100  # newest ones; a mail with thousands of References is hostile or broken

Lookup = Callable[[str, bool], list[str]]
SubjectLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class ThreadDecision:
    conversation_id: str | None  # None: start a new conversation
    reason: str
    linked: tuple[str, ...] = ()  # other conversations the mail links to, oldest first


NEW_THREAD = ThreadDecision(None, "new thread")


def cited_ids(msg: ParsedMessage) -> list[str]:
    """The ids `msg` answers or cites, most specific first, without its own."""
    candidates = [msg.in_reply_to, *reversed(msg.references[-MAX_REFERENCES:]), msg.bounce_of]
    keys: list[str] = []
    for candidate in candidates:
        if candidate and candidate != msg.message_id and candidate not in keys:
            keys.append(candidate)
    return keys


def thread_keys(msg: ParsedMessage) -> list[str]:
    """Every id that can link `msg` to stored mail: what it cites, then its own."""
    own = [] if msg.message_id_is_synthetic else [msg.message_id]
    return [*cited_ids(msg), *own]


def link_rows(msg: ParsedMessage) -> list[tuple[str, str]]:
    """What to store so later mail finds `msg`: its own id ("self"), what it cites ("ref")."""
    own = [] if msg.message_id_is_synthetic else [(msg.message_id, "self")]
    return [*own, *((key, "ref") for key in cited_ids(msg))]


def resolve_thread(
    msg: ParsedMessage,
    lookup: Lookup,
    *,
    subject_fallback: SubjectLookup | None = None,
) -> ThreadDecision:
    chosen: str | None = None
    reason = ""
    linked: list[str] = []
    for key in thread_keys(msg):
        own = key == msg.message_id
        for conversation_id in lookup(key, own):
            if chosen is None:
                chosen, reason = conversation_id, f"{_header(msg, key)} {key}"
            elif conversation_id != chosen and conversation_id not in linked:
                linked.append(conversation_id)
    if chosen is not None:
        return ThreadDecision(chosen, reason, tuple(linked))
    if subject_fallback is not None and _may_match_subject(msg):
        by_subject = subject_fallback(msg.normalized_subject)
        if by_subject is not None:
            return ThreadDecision(by_subject, "subject match")
    return NEW_THREAD


def _header(msg: ParsedMessage, key: str) -> str:
    if key == msg.in_reply_to:
        return "in-reply-to"
    if key == msg.message_id:
        return "cited by"
    return "bounce of" if key == msg.bounce_of and key not in msg.references else "references"


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
