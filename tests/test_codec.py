"""The y-protocols codec: round trips, known frames, and truncated input named clearly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crdt import codec
from crdt.errors import CloseCode, ProtocolError


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02")],
)
def test_var_uint_matches_lib0(value: int, encoded: bytes) -> None:
    assert codec.var_uint(value) == encoded
    assert codec.Decoder(encoded).read_var_uint() == value


@given(st.integers(min_value=0, max_value=2**63))
def test_var_uint_round_trip(value: int) -> None:
    assert codec.Decoder(codec.var_uint(value)).read_var_uint() == value


def test_empty_sync_step2_is_the_known_frame() -> None:
    assert codec.sync_step2(codec.EMPTY_UPDATE) == b"\x00\x01\x02\x00\x00"


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"\x80", "truncated varuint"),
        (b"\x00\x02\x05ab", "runs past the end"),
        (b"\xff" * 11, "longer than 10 bytes"),
    ],
)
def test_truncated_frames_are_named(frame: bytes, problem: str) -> None:
    decoder = codec.Decoder(frame)
    with pytest.raises(ProtocolError) as caught:
        decoder.read_var_uint()
        codec.read_sync(decoder)
    assert caught.value.code == CloseCode.MALFORMED_MESSAGE
    assert problem in caught.value.reason


def test_unknown_sync_subtype_is_refused() -> None:
    with pytest.raises(ProtocolError) as caught:
        codec.read_sync(codec.Decoder(b"\x07\x00"))
    assert caught.value.code == CloseCode.UNKNOWN_MESSAGE


entries = st.lists(
    st.builds(
        codec.AwarenessEntry,
        st.integers(0, 2**53),
        st.integers(0, 2**32),
        st.sampled_from(["null", "{}", '{"user":{"name":"Zoë"}}', '{"cursor":[1,2]}']),
    ),
    max_size=8,
)


@given(entries)
def test_awareness_round_trip(items: list[codec.AwarenessEntry]) -> None:
    assert codec.decode_awareness(codec.encode_awareness(items)) == items


def test_awareness_with_trailing_bytes_is_malformed() -> None:
    payload = codec.encode_awareness([codec.AwarenessEntry(1, 1, "{}")]) + b"\x00"
    with pytest.raises(ProtocolError, match="trailing"):
        codec.decode_awareness(payload)


def test_state_vector_decodes_pycrdt_output() -> None:
    from pycrdt import Doc, Text

    doc: Doc = Doc(client_id=42)
    doc.get("t", type=Text).insert(0, "hello")
    assert codec.decode_state_vector(doc.get_state()) == {42: 5}
