"""Every mail of the corpus (`tests/fixtures/mail/`: charsets by their WHATWG labels, 8-bit
and broken headers, odd transfer encodings, nesting, bounces, dates out of range, bombs)
imported one file at a time through `tandem import` and through the HTTP import, on both
backends, then read back through the messages API and held to `expectations.json`: the
outcome of each import, what a reader sees, the original bytes, the attachments' bytes and
the rejected mail kept with its reason and exact bytes."""

from __future__ import annotations

import contextlib
import email
import hashlib
import importlib.util
import json
import time
from collections.abc import Awaitable, Callable
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.settings import Settings
from sync.mbox import split_mbox
from tests.fixtures.app import http_client, running_app
from tests.fixtures.cli import tandem
from tests.fixtures.mail import mail, mbox
from tests.fixtures.server import LiveServer, Person, make_person

CORPUS_DIR = Path(__file__).parent / "fixtures" / "mail"
ACCOUNT = "support@acme.test"
MESSAGE_KEYS = {
    "id", "message_id", "in_reply_to", "references", "subject", "from", "to", "cc", "bcc",
    "reply_to", "date", "received_at", "direction", "account", "text", "html", "attachments",
    "raw_url",
}  # fmt: skip
ATTACHMENT_KEYS = {
    "id", "filename", "content_type", "size", "sha256", "inline", "content_id", "url"
}  # fmt: skip
RESULT_KEYS = {"imported", "duplicates", "rejected", "total", "conversations", "errors"}
COUNTS = {"stored": (1, 0, 0), "duplicate": (0, 1, 0), "rejected": (0, 0, 1)}


def _generator() -> Any:
    """`tests/fixtures/mail/generate.py`, loaded by path (see its docstring)."""
    spec = importlib.util.spec_from_file_location("mail_corpus", CORPUS_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _generator()
CORPUS: list[tuple[str, bytes]] = GENERATE.corpus()
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads(
    (CORPUS_DIR / "expectations.json").read_text("utf-8")
)

Importer = Callable[[str, bytes], Awaitable[dict[str, Any]]]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_corpus_file_has_an_expectation_and_the_committed_part_is_small() -> None:
    names = [name for name, _ in CORPUS]
    assert names == sorted(EXPECTATIONS)
    assert all(name[:2].isdigit() and name[2] == "-" for name in names)
    assert 35 <= len(names) <= 50
    committed = sum(path.stat().st_size for path in CORPUS_DIR.iterdir())
    assert committed < 2_000_000
    for name, expected in EXPECTATIONS.items():
        assert expected["outcome"] in COUNTS, name
        assert ("reason_contains" in expected) == (expected["outcome"] == "rejected"), name


# --- the two ways in ------------------------------------------------------------------------


async def _owner_and_account(live: LiveServer) -> Person:
    owner = await make_person(live.services, "owner@acme.test", role="owner")
    await live.services.storage.create_account(
        owner.org.id, ACCOUNT, owner.user.id, "inbox", None, []
    )
    return owner


async def test_the_corpus_through_the_http_import(live_server: LiveServer) -> None:
    owner = await _owner_and_account(live_server)
    started = int(time.time())
    async with live_server.client(owner.token) as http:

        async def post(name: str, raw: bytes) -> dict[str, Any]:
            answer = await http.post(
                f"/api/admin/accounts/{ACCOUNT}/import",
                content=raw,
                headers={"content-type": "message/rfc822"},
            )
            assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text}"
            result: dict[str, Any] = answer.json()
            return result

        failures = await _import_and_check(http, post, started)
        member = await make_person(live_server.services, "member@acme.test")
        async with live_server.client(member.token) as other:
            listing = await other.get(f"/api/admin/accounts/{ACCOUNT}/rejected")
            assert listing.status_code == 403, listing.text
    _report(failures)


async def test_the_corpus_through_tandem_import(
    cli_on_storage: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    async def ok(*args: str) -> dict[str, Any]:
        status, result, err = await tandem(capsys, *args)
        assert status == 0, f"tandem {' '.join(args)}: {err}"
        assert isinstance(result, dict)
        return result

    await ok("org", "create", "Acme")
    await ok("user", "create", "owner@acme.test", "--org", "Acme", "--role", "owner")
    await ok("account", "create", "Acme", ACCOUNT, "--owner", "owner@acme.test")
    token = (await ok("token", "create", "owner@acme.test"))["token"]
    files = tmp_path / "corpus"
    files.mkdir()

    async def run(name: str, raw: bytes) -> dict[str, Any]:
        path = files / name
        path.write_bytes(raw)
        return await ok("import", ACCOUNT, str(path))

    started = int(time.time())
    results = {name: await run(name, raw) for name, raw in CORPUS}

    async def replay(name: str, raw: bytes) -> dict[str, Any]:
        return results[name]

    async with running_app(cli_on_storage) as app, http_client(app) as http:
        http.headers["authorization"] = f"Bearer {token}"
        failures = await _import_and_check(http, replay, started)
    _report(failures)


# --- what every import must give --------------------------------------------------------------


async def _import_and_check(http: httpx.AsyncClient, run: Importer, started: int) -> list[str]:
    """Import each corpus file alone and check its counts; then check every stored mail as a
    reader sees it and every rejected one as an admin finds it. Every file is checked; the
    failures come back one line per file, for `_report` to show together."""
    failures: list[str] = []
    results: dict[str, dict[str, Any]] = {}
    for name, raw in CORPUS:
        results[name] = await run(name, raw)
        await _collect(failures, name, _check_result(name, results[name]))
    finished = int(time.time()) + 1
    reader = _Reader(http)
    for name, raw in CORPUS:
        if EXPECTATIONS[name]["outcome"] == "stored" and results[name]["imported"] == 1:
            checked = _check_stored(http, reader, name, raw, results[name], (started, finished))
            await _collect(failures, name, checked)
    rejected = [name for name, result in results.items() if result["rejected"]]
    await _collect(failures, "rejected mail", _check_rejected(http, rejected))
    return failures


def _report(failures: list[str]) -> None:
    assert not failures, f"{len(failures)} files fail:\n" + "\n".join(failures)


async def _collect(failures: list[str], name: str, check: Awaitable[None]) -> None:
    try:
        await check
    except AssertionError as exc:
        first_line = str(exc).splitlines()[0][:600]
        failures.append(first_line if first_line.startswith(name) else f"{name}: {first_line}")


async def _check_stored(
    http: httpx.AsyncClient,
    reader: _Reader,
    name: str,
    raw: bytes,
    result: dict[str, Any],
    window: tuple[int, int],
) -> None:
    message = await reader.message_for(name, raw, result["conversations"])
    _check_message(name, message, EXPECTATIONS[name], _receipt_times(raw, *window))
    assert (await _json(http, f"/api/messages/{message['id']}")) == {"message": message}
    await _check_attachments(http, name, raw, message)


async def _check_result(name: str, result: dict[str, Any]) -> None:
    expected = EXPECTATIONS[name]
    assert result.keys() >= RESULT_KEYS, f"{name}: {result}"
    counts = (result["imported"], result["duplicates"], result["rejected"])
    assert counts == COUNTS[expected["outcome"]], f"{name}: {result}"
    assert result["total"] == 1, f"{name}: {result}"
    if expected["outcome"] == "stored":
        assert len(result["conversations"]) == 1, f"{name}: {result}"
    if expected["outcome"] == "rejected":
        [error] = result["errors"]
        assert "message 1: " in error, f"{name}: {error}"
        assert expected["reason_contains"] in error.lower(), f"{name}: {error}"
    else:
        assert result["errors"] == [], f"{name}: {result}"


class _Reader:
    """Reads conversations page by page and finds the message holding a file's exact bytes."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.raws: dict[str, bytes] = {}

    async def message_for(self, name: str, raw: bytes, conv_ids: list[str]) -> dict[str, Any]:
        found = []
        for conv_id in conv_ids:
            for message in await all_messages(self.http, conv_id):
                if await self.raw(message) == raw:
                    found.append(message)
        assert len(found) == 1, f"{name}: {len(found)} messages hold these bytes"
        return found[0]

    async def raw(self, message: dict[str, Any]) -> bytes:
        if message["id"] not in self.raws:
            answer = await self.http.get(message["raw_url"])
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("message/rfc822")
            direct = await self.http.get(f"/api/messages/{message['id']}/raw")
            assert direct.content == answer.content
            self.raws[message["id"]] = answer.content
        return self.raws[message["id"]]


async def _json(http: httpx.AsyncClient, url: str, **params: Any) -> Any:
    answer = await http.get(url, params=params)
    assert answer.status_code == 200, f"GET {url}: {answer.status_code} {answer.text}"
    return answer.json()


async def all_messages(
    http: httpx.AsyncClient, conv_id: str, limit: int | None = None
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    params: dict[str, Any] = {} if limit is None else {"limit": limit}
    for _ in range(100):
        page = await _json(http, f"/api/conversations/{conv_id}/messages", **params)
        assert set(page) == {"messages", "next"}
        assert len(page["messages"]) <= (limit or 50)
        messages += page["messages"]
        if page["next"] is None:
            return messages
        params["cursor"] = page["next"]
    raise AssertionError(f"conversation {conv_id}: more than 100 pages")


# --- one stored message against its expectations ---------------------------------------------


def _person(value: dict[str, Any]) -> tuple[str, str]:
    return value["address"].lower(), value.get("name") or ""


def _bare(message_id: str | None) -> str | None:
    return None if message_id is None else message_id.strip("<>")


CONTROLS = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]


def _receipt_times(raw: bytes, started: int, finished: int) -> set[int]:
    """When the mail may say it was received: during the import, or at the time one of its
    Received headers gives (an archive keeps when the mail arrived)."""
    times = set(range(started - 1, finished + 1))
    parsed = email.message_from_bytes(raw, policy=policy.compat32)
    for value in parsed.get_all("Received") or []:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            times.add(int(parsedate_to_datetime(str(value).rsplit(";", 1)[1]).timestamp()))
    return times


def _check_message(
    name: str, message: dict[str, Any], expected: dict[str, Any], receipt_times: set[int]
) -> None:
    """Every expectation of the file, each on its own: all the misses are reported."""
    misses: list[str] = []

    def want(ok: bool, what: str) -> None:
        if not ok:
            misses.append(what)

    want(message.keys() >= MESSAGE_KEYS, f"missing keys {MESSAGE_KEYS - message.keys()}")
    account = message.get("account") or {}
    want(message.get("direction") == "inbound", f"direction {message.get('direction')!r}")
    want(account.get("address") == ACCOUNT, f"account {account!r}")
    received = message.get("received_at")
    want(received in receipt_times, f"received_at {received}")
    text, html = message.get("text"), message.get("html")
    want(isinstance(text, str), f"text {text!r}")
    text = text if isinstance(text, str) else ""
    subject, sender = message.get("subject") or "", message.get("from") or {}
    for field in ("to", "cc", "bcc", "reply_to"):
        people = message.get(field) or []
        want(all({"address", "name"} <= set(who) for who in people), f"{field} {people!r}")
    sender_name = sender.get("name") or ""
    want(
        not any(c in subject + sender_name for c in CONTROLS),
        f"control characters in {subject!r} / {sender_name!r}",
    )
    if "subject" in expected:
        want(subject == expected["subject"], f"subject {subject!r}, wanted {expected['subject']!r}")
    if "from" in expected:
        want(
            _person(sender) == _person(expected["from"]),
            f"from {sender!r}, wanted {expected['from']!r}",
        )
    if "to" in expected:
        got_to = [_person(who) for who in message.get("to") or []]
        want(got_to == [_person(who) for who in expected["to"]], f"to {message.get('to')!r}")
    for key in ("message_id", "in_reply_to"):
        if key in expected:
            want(_bare(message.get(key)) == _bare(expected[key]), f"{key} {message.get(key)!r}")
    references = [_bare(ref) for ref in message.get("references") or []]
    if "references_count" in expected:
        ends = (references[:1], references[-1:])
        wanted_ends = ([_bare(expected["references_first"])], [_bare(expected["references_last"])])
        count = len(references)
        want(
            count == expected["references_count"] and ends == wanted_ends,
            f"{count} references from {ends[0]} to {ends[1]}",
        )
    if expected.get("date_null"):
        want(message.get("date") is None, f"date {message.get('date')}, wanted null")
    if "date" in expected:
        want(
            message.get("date") == expected["date"],
            f"date {message.get('date')}, wanted {expected['date']}",
        )
    if "text" in expected:
        want(text.strip() == expected["text"], f"text {text!r}, wanted {expected['text']!r}")
    for wanted in expected.get("text_contains", []):
        want(wanted in text, f"{wanted!r} not in text {text[:300]!r}")
    for unwanted in expected.get("text_excludes", []):
        want(unwanted not in text, f"{unwanted!r} in text {text[:300]!r}")
    if "html" in expected:
        want(html is None, f"html {html!r:.200}, wanted null")
    if "html_contains" in expected or "html_excludes" in expected:
        want(isinstance(html, str), "no html")
        for wanted in expected.get("html_contains", []):
            want(wanted in (html or ""), f"{wanted!r} not in html {html!r:.300}")
        for unwanted in expected.get("html_excludes", []):
            want(unwanted not in (html or ""), f"{unwanted!r} in html {html!r:.300}")
    attachments = message.get("attachments") or []
    for attachment in attachments:
        want(attachment.keys() >= ATTACHMENT_KEYS, f"attachment keys {sorted(attachment)}")
    if "attachments" in expected:
        names = sorted(a.get("filename") or "" for a in attachments)
        wanted_names = sorted(n or "" for n in expected["attachments"])
        want(names == wanted_names, f"attachments {names}, wanted {wanted_names}")
    for filename in expected.get("html_references", []):
        inline = [a for a in attachments if a.get("filename") == filename]
        linked = [a for a in inline if a.get("inline") is True and a.get("content_id")]
        linked = [a for a in linked if a.get("url", "?") in (html or "")]
        want(len(linked) == 1, f"{filename} is not an inline image linked from the html: {inline}")
    assert not misses, f"message {message.get('id')}: " + "; ".join(misses)


# --- attachments and rejected mail ------------------------------------------------------------


def _leaf_payloads(raw: bytes) -> set[str] | None:
    """The SHA-256 of every decoded leaf part, when the stdlib reads the mail without a
    defect (else None: the expected bytes cannot be computed independently)."""
    parsed = email.message_from_bytes(raw, policy=policy.compat32)
    digests: set[str] = set()
    for part in parsed.walk():
        if part.defects:
            return None
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            digests.add(sha256(payload))
    return digests


async def _check_attachments(
    http: httpx.AsyncClient, name: str, raw: bytes, message: dict[str, Any]
) -> None:
    payloads = _leaf_payloads(raw)
    for attachment in message["attachments"]:
        where = f"{name}: attachment {attachment['filename']!r}"
        answer = await http.get(attachment["url"])
        assert answer.status_code == 200, f"{where}: {answer.status_code} {answer.text}"
        assert sha256(answer.content) == attachment["sha256"], where
        assert len(answer.content) == attachment["size"], where
        assert answer.headers["x-content-type-options"] == "nosniff", where
        kind = attachment["content_type"]
        assert answer.headers["content-type"].split(";")[0] == kind, where
        disposition = answer.headers["content-disposition"].split(";")[0]
        shown = {"attachment", "inline"} if kind.startswith("image/") else {"attachment"}
        assert disposition in shown, f"{where}: Content-Disposition {disposition}"
        direct = await http.get(f"/api/attachments/{attachment['id']}")
        assert direct.content == answer.content, where
        if kind.startswith("message/"):  # an attached mail: its bytes as they came
            assert answer.content and answer.content in raw, f"{where}: not the attached mail"
        elif payloads is not None:
            assert attachment["sha256"] in payloads, f"{where}: not the decoded part's bytes"


async def _check_rejected(http: httpx.AsyncClient, rejected_names: list[str]) -> None:
    """Every mail that was rejected is listed with its reason and exact bytes; retrying one
    that is still not an email rejects it again."""
    base = f"/api/admin/accounts/{ACCOUNT}/rejected"
    listing = (await _json(http, base))["rejected"]
    by_digest = {row["sha256"]: row for row in listing}
    assert len(listing) == len(rejected_names), [row["reason"] for row in listing]
    corpus = dict(CORPUS)
    for name in rejected_names:
        raw = corpus[name]
        row = by_digest.get(sha256(raw))
        assert row is not None, f"{name}: not listed as rejected"
        assert {"id", "reason", "size", "sha256", "created_at", "source", "raw_url"} <= row.keys()
        assert row["size"] == len(raw), name
        wanted = EXPECTATIONS[name].get("reason_contains", "")
        assert wanted in row["reason"].lower(), (name, row)
        assert isinstance(row["created_at"], int), name
        for url in (row["raw_url"], f"{base}/{row['id']}/raw"):
            answer = await http.get(url)
            assert answer.status_code == 200, f"{name}: GET {url}: {answer.text}"
            assert answer.content == raw, f"{name}: the rejected bytes differ"
    not_an_email = by_digest[sha256(corpus["35-not-an-email.eml"])]
    retried = await http.post(f"{base}/{not_an_email['id']}/retry")
    assert retried.status_code == 200, retried.text
    result = retried.json()
    assert (result["imported"], result["duplicates"], result["rejected"]) == (0, 0, 1), result
    assert "email" in result["errors"][0].lower(), result


# --- an mbox with the nesting bomb in the middle; paging ----------------------------------------


async def test_an_mbox_with_a_nesting_bomb_between_two_good_mails(live_server: LiveServer) -> None:
    owner = await _owner_and_account(live_server)
    first = mail("<before-bomb@example.com>", "Before the bomb", "I come first.")
    after = mail("<after-bomb@example.com>", "After the bomb", "I come last.")
    archive = mbox(first, GENERATE.deeply_nested(), after)
    bomb = split_mbox(archive)[1]
    async with live_server.client(owner.token) as http:
        answer = await http.post(
            f"/api/admin/accounts/{ACCOUNT}/import",
            content=archive,
            headers={"content-type": "application/mbox"},
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        counts = (result["imported"], result["duplicates"], result["rejected"], result["total"])
        assert counts == (2, 0, 1, 3), result
        [error] = result["errors"]
        assert error.startswith("message 2: ") and "nest" in error.lower(), error
        subjects = []
        for conv_id in result["conversations"]:
            subjects += [m["subject"] for m in await all_messages(http, conv_id)]
        assert sorted(subjects) == ["After the bomb", "Before the bomb"]
        [row] = (await _json(http, f"/api/admin/accounts/{ACCOUNT}/rejected"))["rejected"]
        assert (row["sha256"], row["size"]) == (sha256(bomb), len(bomb))
        assert "nest" in row["reason"].lower()
        assert (await http.get(row["raw_url"])).content == bomb


async def test_a_conversation_reads_oldest_first_page_by_page(live_server: LiveServer) -> None:
    owner = await _owner_and_account(live_server)
    thread = [
        mail(
            f"<page-{n}@example.com>",
            "Re: Paging" if n else "Paging",
            f"Message {n}.",
            reply_to="<page-0@example.com>" if n else None,
        ).replace(b"10:00:00", f"10:0{n}:00".encode())
        for n in range(7)
    ]
    async with live_server.client(owner.token) as http:
        answer = await http.post(
            f"/api/admin/accounts/{ACCOUNT}/import",
            content=mbox(*thread),
            headers={"content-type": "application/mbox"},
        )
        assert answer.status_code == 200, answer.text
        [conv_id] = answer.json()["conversations"]
        whole = await all_messages(http, conv_id)
        assert [m["message_id"].strip("<>") for m in whole] == [
            f"page-{n}@example.com" for n in range(7)
        ]
        assert await all_messages(http, conv_id, limit=3) == whole
        first = await _json(http, f"/api/conversations/{conv_id}/messages", limit=3)
        assert len(first["messages"]) == 3 and first["next"] is not None
