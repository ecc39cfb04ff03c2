"""Random frames at both endpoints: every bad frame ends in a named close code (or is
harmless), the server never crashes, and the document keeps serving a healthy client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from crdt import codec
from crdt.errors import CloseCode
from crdt.schemas import draft_seed
from server.app import create_app
from server.settings import Settings
from tests.fixtures.server import make_person

NAMED = {int(code) for code in CloseCode}
DOC = "draft:fuzz"


class ThreadServer:
    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(
            data_dir=data_dir, secret_key="fuzz", unload_grace_s=60, auth_timeout_s=2
        )
        self.app = create_app(self.settings)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=0, log_level="error", ws="websockets-sansio"
            )
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.server.serve(),)
        )
        self.token = ""

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.ws = f"ws://127.0.0.1:{port}"
        future = asyncio.run_coroutine_threadsafe(self._seed(), self.loop)
        self.token = future.result(10)
        return self

    async def _seed(self) -> str:
        services = self.app.state.services
        person = await make_person(services, "fuzz@acme.test")
        await services.storage.create_draft(
            "fuzz", person.org.id, person.user.id, "s", draft_seed("s", ["seed"], {})
        )
        return person.token

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


def _close_code_after(url: str, frames: list[bytes]) -> int | None:
    with connect(url, open_timeout=5, close_timeout=2) as ws:
        try:
            for frame in frames:
                ws.send(frame)
            while True:
                ws.recv(timeout=0.3)
        except TimeoutError:
            return None  # still open: the frames were harmless
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


def _healthy(url: str, hocuspocus: bool) -> None:
    """A well-behaved client still syncs the document after the abuse."""
    prefix = codec.var_string(DOC) if hocuspocus else b""
    with connect(url, open_timeout=5) as ws:
        if hocuspocus:
            ws.send(prefix + bytes((2, 0)) + codec.var_string(FUZZ_TOKEN[0]))
        ws.send(prefix + codec.sync_step1(b"\x00"))
        for _ in range(10):
            frame = ws.recv(timeout=5)
            assert isinstance(frame, bytes)
            decoder = codec.Decoder(frame)
            if hocuspocus:
                decoder.read_var_string()
            if decoder.read_var_uint() == 0 and decoder.read_var_uint() == codec.SYNC_STEP2:
                return
        raise AssertionError("no SyncStep2 after the fuzzing")


FUZZ_TOKEN = [""]

y_frames = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda sub, body: bytes((0, sub)) + body, st.integers(0, 4), st.binary(max_size=48)),
    st.builds(lambda body: b"\x01" + body, st.binary(max_size=48)),
    st.builds(lambda n: bytes((n,)), st.integers(0, 255)),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=st.lists(y_frames, min_size=1, max_size=4))
def test_random_frames_on_yws(fuzz_server: ThreadServer, frames: list[bytes]) -> None:
    FUZZ_TOKEN[0] = fuzz_server.token
    url = f"{fuzz_server.ws}/yws/{DOC}?token={fuzz_server.token}"
    code = _close_code_after(url, frames)
    assert code is None or code in NAMED, f"unnamed close code {code}"
    _healthy(url, hocuspocus=False)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    frames=st.lists(y_frames, min_size=1, max_size=4),
    authenticate=st.booleans(),
    address=st.sampled_from([DOC, DOC + "\0session", "draft:other", ""]),
)
def test_random_frames_on_ws(
    fuzz_server: ThreadServer, frames: list[bytes], authenticate: bool, address: str
) -> None:
    FUZZ_TOKEN[0] = fuzz_server.token
    prefix = codec.var_string(address)
    auth = [prefix + bytes((2, 0)) + codec.var_string(fuzz_server.token)] if authenticate else []
    raw = [prefix + frame for frame in frames] + frames[:1]
    code = _close_code_after(f"{fuzz_server.ws}/ws", auth + raw)
    assert code is None or code in NAMED, f"unnamed close code {code}"
    _healthy(f"{fuzz_server.ws}/ws", hocuspocus=True)
