"""Independent clients co-edit one draft and converge: the Node `y-websocket` provider,
`@hocuspocus/provider`, and pycrdt-websocket's Python provider, all at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from pycrdt import Doc, Provider, XmlElement, XmlFragment, XmlText

from crdt.schemas import draft_seed
from tests.fixtures.node import NODE_DIR
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import yws


async def run_node(node: str, *args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "client.mjs"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    lines = stdout.decode().strip().splitlines()
    assert lines, f"node client printed nothing; stderr:\n{stderr.decode()}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert result.get("ok"), f"{result}\nstderr:\n{stderr.decode()}"
    return result


class WebsocketChannel:
    """pycrdt's `Channel` over a `websockets` client connection."""

    def __init__(self, ws: websockets.ClientConnection, path: str) -> None:
        self._ws = ws
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> WebsocketChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except websockets.ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        await self._ws.send(message)

    async def recv(self) -> bytes:
        message = await self._ws.recv()
        assert isinstance(message, bytes)
        return message


@contextlib.asynccontextmanager
async def pycrdt_provider(live: LiveServer, name: str, token: str) -> AsyncIterator[Doc[Any]]:
    doc: Doc[Any] = Doc()
    doc.get("body", type=XmlFragment)
    async with (
        websockets.connect(f"{live.ws}/yws/{name}?token={token}") as ws,
        Provider(doc, WebsocketChannel(ws, name)) as provider,
    ):
        await asyncio.wait_for(provider.synced.wait(), 10)
        yield doc


def plain_text(doc: Doc[Any]) -> str:
    body = doc.get("body", type=XmlFragment)
    lines = []
    for block in body.children:
        if isinstance(block, XmlElement):
            lines.append("".join(str(c) for c in block.children if isinstance(c, XmlText)))
    return "\n".join(lines)


async def shared_draft(live: LiveServer) -> tuple[Person, str]:
    alice = await make_person(live.services, "alice@acme.test")
    seed = draft_seed("Interop", ["Dear customer,"], {})
    await live.services.storage.create_draft("interop", alice.org.id, alice.user.id, "s", seed)
    return alice, "draft:interop"


async def test_node_and_python_clients_co_edit_one_draft_and_converge(
    live_server: LiveServer, node: str
) -> None:
    alice, name = await shared_draft(live_server)
    common = ["--url", live_server.ws, "--doc", name, "--token", alice.token, "--count", "5"]
    expect = ["--expect", "yws 4", "--expect", "hocuspocus 4", "--expect", "python 4"]
    async with pycrdt_provider(live_server, name, alice.token) as doc:
        node_yws = run_node(node, "--protocol", "yws", "--text", "yws", *common, *expect)
        node_hocus = run_node(
            node, "--protocol", "hocuspocus", "--text", "hocuspocus", *common, *expect
        )
        tasks = [asyncio.ensure_future(node_yws), asyncio.ensure_future(node_hocus)]
        body = doc.get("body", type=XmlFragment)
        for i in range(5):
            with doc.transaction():
                paragraph = body.children.append(XmlElement("paragraph"))
                paragraph.children.append(XmlText(f"python {i}"))
        yws_result, hocus_result = await asyncio.gather(*tasks)
        async with asyncio.timeout(10):
            while "yws 4" not in plain_text(doc) or "hocuspocus 4" not in plain_text(doc):
                await asyncio.sleep(0.05)
        python_text = plain_text(doc)

    assert hocus_result["unsynced"] == 0  # every hocuspocus update was acknowledged
    texts = {yws_result["docs"][name]["text"], hocus_result["docs"][name]["text"], python_text}
    async with yws(live_server.ws, name, alice.token) as fresh:
        await asyncio.wait_for(fresh.synced.wait(), 5)
        texts.add(fresh.text())
    assert len(texts) == 1, f"clients diverged: {texts}"
    final = texts.pop()
    assert final.startswith("Dear customer,")
    for source in ("yws", "hocuspocus", "python"):
        for i in range(5):
            assert final.count(f"{source} {i}") == 1, f"{source} {i} missing or duplicated"


async def test_hocuspocus_provider_multiplexes_documents_and_sees_server_identity(
    live_server: LiveServer, node: str
) -> None:
    alice, name = await shared_draft(live_server)
    await live_server.services.storage.create_draft(
        "second", alice.org.id, alice.user.id, "s", draft_seed("Second", ["Hi"], {})
    )
    async with yws(live_server.ws, name, alice.token) as watcher:
        await asyncio.wait_for(watcher.synced.wait(), 5)
        await watcher.set_awareness(watcher.doc.client_id, 1, {"user": {"name": "Forger"}})
        result = await run_node(
            node,
            "--protocol", "hocuspocus", "--url", live_server.ws, "--token", alice.token,
            "--doc", name, "--doc", "draft:second", "--session-awareness",
            "--text", "multi", "--count", "2",
        )  # fmt: skip
        await watcher.wait_for(lambda: "multi 1 draft:interop" in watcher.text())
        node_states = [s for s in watcher.awareness_seen if s.get("user", {}).get("color")]
    assert result["docs"]["draft:second"]["text"].endswith("multi 1 draft:second")
    assert result["unsynced"] == 0
    seen_by_node = [state["user"] for state in result["awareness"]]
    assert {"id": alice.user.id, "name": "Alice"} in seen_by_node  # not "Forger"
    assert node_states and node_states[0]["user"]["id"] == alice.user.id


async def test_node_clients_are_refused_another_users_draft(
    live_server: LiveServer, node: str
) -> None:
    _alice, name = await shared_draft(live_server)
    bob = await make_person(live_server.services, "bob@acme.test")
    common = ["--url", live_server.ws, "--doc", name, "--token", bob.token, "--timeout-ms", "8000"]
    refused = await run_node(node, "--protocol", "yws", *common)
    assert refused["closeCode"] == 4403
    denied = await run_node(node, "--protocol", "hocuspocus", *common)
    assert denied["denied"].startswith("4403")
