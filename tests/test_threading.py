"""Thread resolution against a table of stored Message-IDs, and de-duplication keys."""

from __future__ import annotations

import hashlib

import pytest

from sync.mime import ParsedMessage, parse_message
from sync.threading import (
    MAX_REFERENCES,
    MESSAGE_CAP,
    ThreadDecision,
    apply_message_cap,
    cited_ids,
    dedupe_key,
    link_rows,
    resolve_thread,
    thread_keys,
)

STORED = {"<root@x>": "conv-root", "<reply1@x>": "conv-root", "<other@x>": "conv-other"}
CITING = {"<new@x>": ["conv-child"]}  # mail stored before <new@x> that cites it
SUBJECTS = {"quarterly numbers": "conv-subject"}


def message(
    headers: str = "", subject: str = "Re: Quarterly numbers", message_id: str = "<new@x>"
) -> ParsedMessage:
    id_line = f"Message-ID: {message_id}\n" if message_id else ""
    text = f"From: a@x\nSubject: {subject}\n{id_line}{headers}\n\nbody\n"
    return parse_message(text.replace("\n", "\r\n").encode())


class Recorder:
    """A lookup that answers from STORED and remembers what it was asked."""

    def __init__(self, citing: dict[str, list[str]] | None = None) -> None:
        self.asked: list[tuple[str, bool]] = []
        self.citing = citing or {}

    def __call__(self, key: str, cited_only: bool) -> list[str]:
        self.asked.append((key, cited_only))
        if cited_only:
            return self.citing.get(key, [])
        return [STORED[key]] if key in STORED else []


@pytest.mark.parametrize(
    ("headers", "keys"),
    [
        ("", []),
        ("In-Reply-To: <p@x>", ["<p@x>"]),
        ("References: <a@x> <b@x> <c@x>", ["<c@x>", "<b@x>", "<a@x>"]),
        ("In-Reply-To: <b@x>\nReferences: <a@x> <b@x>", ["<b@x>", "<a@x>"]),
        ("In-Reply-To: <new@x>\nReferences: <a@x> <new@x>", ["<a@x>"]),
    ],
)
def test_cited_ids(headers: str, keys: list[str]) -> None:
    assert cited_ids(message(headers)) == keys
    assert thread_keys(message(headers)) == [*keys, "<new@x>"]  # and then its own
    assert link_rows(message(headers)) == [("<new@x>", "self"), *((k, "ref") for k in keys)]


def test_a_message_without_its_own_id_is_found_only_by_what_it_cites() -> None:
    parsed = message("In-Reply-To: <p@x>", message_id="")
    assert thread_keys(parsed) == ["<p@x>"]
    assert link_rows(parsed) == [("<p@x>", "ref")]


def test_cited_ids_keep_only_the_newest_references() -> None:
    refs = " ".join(f"<r{i}@x>" for i in range(MAX_REFERENCES + 50))
    keys = cited_ids(message(f"References: {refs}"))
    assert len(keys) == MAX_REFERENCES
    assert keys[0] == f"<r{MAX_REFERENCES + 49}@x>"


@pytest.mark.parametrize(
    ("headers", "subject", "expected"),
    [
        (
            "In-Reply-To: <reply1@x>\nReferences: <other@x> <reply1@x>",
            "Re: Quarterly numbers",
            ThreadDecision("conv-root", "in-reply-to <reply1@x>", ("conv-other",)),
        ),
        (
            "In-Reply-To: <unknown@x>\nReferences: <root@x> <lost@x>",
            "Re: Quarterly numbers",
            ThreadDecision("conv-root", "references <root@x>"),
        ),
        (
            "References: <root@x> <other@x>",
            "Re: Quarterly numbers",
            ThreadDecision("conv-other", "references <other@x>", ("conv-root",)),
        ),
        (
            "In-Reply-To: <unknown@x>",
            "Re: Quarterly numbers",
            ThreadDecision(None, "new thread"),
        ),
        ("", "Re: Quarterly numbers", ThreadDecision("conv-subject", "subject match")),
        ("", "AW: [team] quarterly   NUMBERS", ThreadDecision("conv-subject", "subject match")),
        # No reply prefix: the mail says it is new, even with a familiar subject.
        ("", "Quarterly numbers", ThreadDecision(None, "new thread")),
        ("", "Re: something else", ThreadDecision(None, "new thread")),
        ("", "Re:", ThreadDecision(None, "new thread")),
    ],
)
def test_resolve_thread(headers: str, subject: str, expected: ThreadDecision) -> None:
    decision = resolve_thread(message(headers, subject), Recorder(), subject_fallback=SUBJECTS.get)
    assert decision == expected


def test_lookup_is_asked_one_id_at_a_time_in_priority_order() -> None:
    lookup = Recorder()
    resolve_thread(message("In-Reply-To: <u1@x>\nReferences: <root@x> <u2@x> <u1@x>"), lookup)
    assert lookup.asked == [
        ("<u1@x>", False), ("<u2@x>", False), ("<root@x>", False), ("<new@x>", True)
    ]  # fmt: skip


def test_a_parent_joins_the_reply_that_arrived_before_it() -> None:
    decision = resolve_thread(message(), Recorder(CITING))
    assert decision == ThreadDecision("conv-child", "cited by <new@x>")


def test_every_other_conversation_the_mail_links_is_listed() -> None:
    headers = "In-Reply-To: <reply1@x>\nReferences: <other@x> <reply1@x>"
    decision = resolve_thread(message(headers), Recorder(CITING))
    assert decision == ThreadDecision(
        "conv-root", "in-reply-to <reply1@x>", ("conv-other", "conv-child")
    )


def test_subject_fallback_only_when_asked_for() -> None:
    assert resolve_thread(message(), Recorder()) == ThreadDecision(None, "new thread")


def test_subject_fallback_gets_the_normalized_subject() -> None:
    asked: list[str] = []

    def by_subject(subject: str) -> str | None:
        asked.append(subject)
        return None

    resolve_thread(
        message(subject="Fwd: RE: Budget  2025"), Recorder(), subject_fallback=by_subject
    )
    assert asked == ["budget 2025"]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, ThreadDecision("conv-root", "in-reply-to <root@x>")),
        (MESSAGE_CAP - 1, ThreadDecision("conv-root", "in-reply-to <root@x>")),
        (
            MESSAGE_CAP,
            ThreadDecision(
                None,
                "new thread: conversation conv-root is full (400 messages; matched by "
                "in-reply-to <root@x>)",
            ),
        ),
    ],
)
def test_message_cap(count: int, expected: ThreadDecision) -> None:
    decision = resolve_thread(message("In-Reply-To: <root@x>"), Recorder())
    assert apply_message_cap(decision, count) == expected
    assert apply_message_cap(ThreadDecision(None, "new thread"), count).conversation_id is None


def test_dedupe_key_is_the_message_id_whatever_account_received_it() -> None:
    via_ana = "Delivered-To: ana@acme.test\nReceived: from mx1 by ana.acme.test"
    via_bob = "Delivered-To: bob@acme.test\nReceived: from mx2 by bob.acme.test"
    first, second = message(via_ana), message(via_bob)
    assert first.raw_sha256 != second.raw_sha256
    assert dedupe_key(first) == dedupe_key(second) == "<new@x>"


def test_dedupe_key_without_message_id_is_the_raw_hash() -> None:
    parsed = message(message_id="")
    assert parsed.message_id_is_synthetic
    assert dedupe_key(parsed) == parsed.raw_sha256
    raw = b"From: a@x\r\nSubject: Re: Quarterly numbers\r\n\r\n\r\nbody\r\n"
    assert dedupe_key(parse_message(raw)) == hashlib.sha256(raw).hexdigest()
