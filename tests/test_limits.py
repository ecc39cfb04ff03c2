"""Every limit closes the offending socket with its named code, and the room and the other
connections carry on."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
import websockets

from crdt import codec
from crdt.errors import CloseCode
from crdt.schemas import draft_seed
from server.settings import Settings
from tests.fixtures.server import LiveServer, Person, make_person, run_server
from tests.yclient import YClient, yws

DOC = "draft:limits"


@pytest.fixture
async def limited(app_settings: Settings) -> AsyncIterator[tuple[LiveServer, Person]]:
    settings = dataclasses.replace(
        app_settings,
        max_frame_bytes=64 * 1024,
        max_document_bytes=256 * 1024,
        max_connections_per_document=3,
        max_bytes_before_auth=4096,
        max_documents_per_socket=2,
        auth_timeout_s=0.5,
        send_queue_messages=64,
    )
    async with run_server(settings) as live:
        person = await make_person(live.services, "alice@acme.test")
        await live.services.storage.create_draft(
            "limits", person.org.id, person.user.id, "s", draft_seed("s", ["seed"], {})
        )
        yield live, person


async def _raw_close(url: str, frames: list[bytes | str]) -> tuple[int | None, str]:
    async with websockets.connect(url, max_size=None) as ws:
        for frame in frames:
            await ws.send(frame)
        try:
            async with asyncio.timeout(5):
                async for _ in ws:
                    pass
        except websockets.ConnectionClosed:
            pass
        assert ws.close_code is not None, "socket stayed open"
        return ws.close_code, ws.close_reason or ""


async def _bystander_still_edits(live: LiveServer, person: Person) -> None:
    async with yws(live.ws, DOC, person.token) as client:
        await asyncio.wait_for(client.synced.wait(), 5)
        client.write_paragraph("still fine")
        await client.flush()
        await client.wait_saved()


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (
            [b"\x00\x00" + codec.var_uint(70 * 1024) + b"\x00" * (70 * 1024)],
            CloseCode.MESSAGE_TOO_BIG,
        ),
        (["a text frame"], CloseCode.MALFORMED_MESSAGE),
        ([b"\x00\x02\x10abc"], CloseCode.MALFORMED_MESSAGE),
        ([b"\x00\x02\x04\x01\x02\x03\x04"], CloseCode.MALFORMED_MESSAGE),
        ([b"\x07"], CloseCode.UNKNOWN_MESSAGE),
        ([b"\x00\x09\x00"], CloseCode.UNKNOWN_MESSAGE),
    ],
    ids=["oversized", "text", "truncated", "undecodable-update", "unknown-type", "unknown-sync"],
)
async def test_bad_frames_on_yws_close_with_a_named_code(
    limited: tuple[LiveServer, Person], frames: list[bytes | str], code: CloseCode
) -> None:
    live, person = limited
    async with yws(live.ws, DOC, person.token) as bystander:
        await asyncio.wait_for(bystander.synced.wait(), 5)
        got, reason = await _raw_close(f"{live.ws}/yws/{DOC}?token={person.token}", frames)
        assert got == code, reason
        bystander.write_paragraph("after the bad frame")
        await bystander.flush()
        await bystander.wait_saved()


async def test_document_size_cap_refuses_the_update_without_applying_it(
    limited: tuple[LiveServer, Person],
) -> None:
    live, person = limited
    async with yws(live.ws, DOC, person.token) as writer:
        await asyncio.wait_for(writer.synced.wait(), 5)
        writer.write_paragraph("x" * 60_000)
        await writer.flush()
        await writer.wait_saved()
        for _ in range(4):
            writer.write_paragraph("y" * 60_000)
            await writer.flush()
        code, _ = await writer.wait_closed()
        assert code == CloseCode.DOCUMENT_TOO_LARGE
    async with yws(live.ws, DOC, person.token) as reader:
        await asyncio.wait_for(reader.synced.wait(), 5)
        assert len(reader.text()) < 256 * 1024


async def test_room_full(limited: tuple[LiveServer, Person]) -> None:
    live, person = limited
    async with (
        yws(live.ws, DOC, person.token),
        yws(live.ws, DOC, person.token),
        yws(live.ws, DOC, person.token) as third,
    ):
        await asyncio.wait_for(third.synced.wait(), 5)
        async with yws(live.ws, DOC, person.token) as fourth:
            # a liveness bound, not a speed claim: a loaded 2-core CI box has taken over 5 s
            assert (await fourth.wait_closed(timeout=20))[0] == CloseCode.ROOM_FULL
    await _bystander_still_edits(live, person)


async def test_hocuspocus_limits_before_authentication(limited: tuple[LiveServer, Person]) -> None:
    live, person = limited
    prefix = codec.var_string(DOC)
    flood: list[bytes | str] = [prefix + b"\x01" + codec.var_bytes(b"\x00" * 1000)] * 6
    assert (await _raw_close(f"{live.ws}/ws", flood))[0] == CloseCode.PRE_AUTH_LIMIT
    assert (await _raw_close(f"{live.ws}/ws", []))[0] == CloseCode.AUTH_TIMEOUT
    many: list[bytes | str] = [codec.var_string(f"draft:d{i}") + b"\x03" for i in range(3)]
    assert (await _raw_close(f"{live.ws}/ws", many))[0] == CloseCode.TOO_MANY_DOCUMENTS
    await _bystander_still_edits(live, person)


async def _stalled_socket(
    live: LiveServer, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket client that completes the handshake and then stops reading."""
    host, port = "127.0.0.1", int(live.ws.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await writer.drain()
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.transport.pause_reading()
    return reader, writer


def _close_code_at_end(stream: bytes) -> int | None:
    """The code of the close frame that ends an unmasked server-to-client stream."""
    for start in range(len(stream) - 4, max(-1, len(stream) - 130), -1):
        if stream[start] == 0x88 and stream[start + 1] == len(stream) - start - 2:
            return int.from_bytes(stream[start + 2 : start + 4], "big")
    return None


async def test_slow_consumer_is_closed_and_others_keep_receiving(
    limited: tuple[LiveServer, Person],
) -> None:
    live, person = limited
    slow, slow_writer = await _stalled_socket(live, f"/yws/{DOC}?token={person.token}")
    async with yws(live.ws, DOC, person.token) as writer, yws(live.ws, DOC, person.token) as reader:
        await asyncio.wait_for(asyncio.gather(writer.synced.wait(), reader.synced.wait()), 5)
        # presence fans out to every member, so it fills the stalled socket's buffers too
        me = writer.doc.client_id
        for i in range(300):
            await writer.set_awareness(me, i + 1, {"i": i, "pad": "z" * 30_000})
            await asyncio.sleep(0.001)  # a brisk typist, not a flood: healthy peers keep up

        def reader_has_all() -> bool:
            state = reader.awareness.get(me)
            return state is not None and state[1]["i"] == 299

        await reader.wait_for(reader_has_all, timeout=20)
    slow_writer.transport.resume_reading()
    stream = b""
    async with asyncio.timeout(20):
        while _close_code_at_end(stream) is None and not slow.at_eof():
            stream += await slow.read(1 << 20)
    slow_writer.close()
    assert _close_code_at_end(stream) == CloseCode.SLOW_CONSUMER


async def test_a_client_writing_a_valid_update_with_missing_history_is_kept(
    limited: tuple[LiveServer, Person],
) -> None:
    live, person = limited
    async with yws(live.ws, DOC, person.token) as client:
        await asyncio.wait_for(client.synced.wait(), 5)
        detached = YClient(DOC)
        text = detached.scratch_text()
        text.insert(0, "first")
        first = detached.doc.get_update()
        state = detached.doc.get_state()
        text.insert(5, " second")
        second = detached.doc.get_update(state)
        logged = len((await live.services.storage.load_document(DOC)).updates)
        await client.send_raw(codec.sync_update(second))  # depends on `first`, not yet sent
        await client.wait_for(lambda: len(client.acks) == 2)
        # acknowledged, so durable, although nothing of it is visible yet
        assert len((await live.services.storage.load_document(DOC)).updates) == logged + 1
        await client.send_raw(codec.sync_update(first))
        await client.wait_for(lambda: len(client.acks) == 3)
        assert all(client.acks)
    async with yws(live.ws, DOC, person.token) as reader:
        await asyncio.wait_for(reader.synced.wait(), 5)
        await reader.wait_for(lambda: str(reader.scratch_text()) == "first second")


async def test_hocuspocus_serves_two_documents_on_one_socket(
    limited: tuple[LiveServer, Person],
) -> None:
    live, person = limited
    await live.services.storage.create_draft(
        "second", person.org.id, person.user.id, "s", draft_seed("s", ["two"], {})
    )
    pending = {DOC, "draft:second"}
    async with websockets.connect(f"{live.ws}/ws") as ws:
        for name in sorted(pending):
            prefix = codec.var_string(name)
            await ws.send(prefix + bytes((2, 0)) + codec.var_string(person.token))
            await ws.send(prefix + codec.sync_step1(b"\x00"))
        async with asyncio.timeout(5):
            while pending:
                frame = await ws.recv()
                assert isinstance(frame, bytes)
                decoder = codec.Decoder(frame)
                name = decoder.read_var_string()
                if decoder.read_var_uint() == 0 and decoder.read_var_uint() == codec.SYNC_STEP2:
                    pending.discard(name)
