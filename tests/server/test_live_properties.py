"""Property-based tests of the live websocket protocol (hypothesis, stateful).

One connection per example to the real app (real pose model); each step sends one thing a
client might send: garbage text, JSON of any shape, start messages with odd fields and
prescriptions, binary frames with any header and payload (real JPEGs, random bytes,
truncated images, a picture claiming 60000 px), finish. Whatever arrives, the server:

- answers every message with exactly one message of the protocol (validated against the
  pydantic models), and never with ``internal``;
- echoes a frame's ``seq`` in its answer;
- answers a real JPEG with a good timestamp, during a set, with a frame result, and one
  whose timestamp leaps or goes back with ``bad_timestamp`` (never a broken session);
- keeps the connection open.

Bounded (a few dozen examples) to stay within the suite's time budget in CI.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pydantic import TypeAdapter

from formcheck.server.config import ServerConfig
from formcheck.server.live_guard import MAX_ABS_T_MS
from formcheck.server.messages import ServerMessage

WS_URL = "ws://127.0.0.1/ws/live"
HEADER = struct.Struct("<Id")
EXERCISES = ["hip_hinge", "squat", "plank", "juggling", ""]
MAX_STEP_MS = 200.0  # a good frame comes at most this long after the last (5 fps and up)
EXAMPLES = 25
STEPS = 20

ANSWER = TypeAdapter(ServerMessage)


def jpeg(level: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.full((48, 64, 3), level, np.uint8))
    assert ok
    return bytes(buffer.tobytes())


def claimed_huge_jpeg() -> bytes:
    real = bytearray(jpeg(128))
    sof = next(i for i in range(2, len(real) - 1) if real[i] == 0xFF and real[i + 1] == 0xC0)
    struct.pack_into(">HH", real, sof + 5, 60_000, 60_000)
    return bytes(real)


PAYLOADS = st.one_of(
    st.integers(0, 255).map(jpeg),  # listed twice: a real picture half of the time
    st.integers(0, 255).map(jpeg),
    st.binary(max_size=300),
    st.integers(0, 255).map(lambda level: jpeg(level)[: 20 + level]),
    st.just(claimed_huge_jpeg()),
    st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
)
ODD_FLOATS = st.one_of(
    st.sampled_from([0.0, -1.0, 1e300, -1e300, 2.0**53, float("nan"), float("inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
)
JUMPS = st.one_of(
    st.sampled_from([1e300, 1e18, 2.0**53, -1e300, -5_000.0]),
    st.floats(min_value=1e6, max_value=1e300),
    st.floats(min_value=-1e300, max_value=-1.0),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
PRESCRIPTIONS = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"name": st.sampled_from(["rx.toml", "rx.json", "x"]), "text": st.text(max_size=200)}
    ),
    st.just({"name": "rx.toml", "text": 'reps = 6\ntempo = "3-1-2"\n'}),
    st.just({"name": "rx.json", "text": json.dumps({"overrides": {"checks.nope": 1}})}),
)
STARTS = st.one_of(
    st.just({"type": "start", "exercise": "hip_hinge"}),  # a set begins often
    st.fixed_dictionaries(
        {"type": st.just("start"), "exercise": st.sampled_from(EXERCISES)},
        optional={
            "height_cm": st.one_of(st.none(), st.floats(allow_nan=False), st.integers()),
            "prescription": PRESCRIPTIONS,
            "surprise": JSON_VALUES,
        },
    ),
)


class LiveProtocol(RuleBasedStateMachine):
    client: ClassVar[TestClient]

    def __init__(self) -> None:
        super().__init__()
        self.ws = self.client.websocket_connect(WS_URL).__enter__()
        self.in_set = False
        self.last_t_ms: float | None = None

    def teardown(self) -> None:
        self.ws.__exit__(None, None, None)

    def answer(self) -> dict[str, Any]:
        reply: dict[str, Any] = self.ws.receive_json()
        ANSWER.validate_python(reply)  # one message of the protocol, well formed
        assert reply.get("code") != "internal", reply
        if reply["type"] == "started":
            self.in_set = True
        elif reply["type"] == "summary":
            self.in_set = False
        return reply

    @rule(text=st.text(max_size=200))
    def garbage_text(self, text: str) -> None:
        self.ws.send_text(text)
        self.answer()

    @rule(value=JSON_VALUES)
    def any_json(self, value: object) -> None:
        self.ws.send_text(json.dumps(value))
        self.answer()

    @rule(message=STARTS)
    def start(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message))
        reply = self.answer()
        plain = set(message) == {"type", "exercise"} and message["exercise"] in EXERCISES[:3]
        if plain:
            assert reply["type"] == "started", reply

    @rule()
    def finish(self) -> None:
        in_set = self.in_set
        self.ws.send_text(json.dumps({"type": "finish"}))
        reply = self.answer()
        assert reply["type"] == ("summary" if in_set else "error"), reply

    @rule(seq=st.integers(0, 2**32 - 1), t_ms=ODD_FLOATS, payload=PAYLOADS)
    def any_frame(self, seq: int, t_ms: float, payload: bytes) -> None:
        self.ws.send_bytes(HEADER.pack(seq, t_ms) + payload)
        reply = self.answer()
        assert reply["seq"] == seq, reply
        if reply.get("code") != "bad_timestamp":  # the socket's clock took this time
            self.last_t_ms = t_ms

    @precondition(lambda self: self.in_set)
    @rule(seq=st.integers(0, 2**32 - 1), step_ms=st.floats(0.0, MAX_STEP_MS),
          level=st.integers(0, 255))  # fmt: skip
    def good_frame(self, seq: int, step_ms: float, level: int) -> None:
        t_ms = (self.last_t_ms or 0.0) + step_ms
        assume(abs(t_ms) <= MAX_ABS_T_MS)
        self.ws.send_bytes(HEADER.pack(seq, t_ms) + jpeg(level))
        reply = self.answer()
        assert (reply["type"], reply["seq"]) == ("frame", seq), reply
        self.last_t_ms = t_ms

    @precondition(lambda self: self.in_set)
    @rule(seq=st.integers(0, 2**32 - 1), jump_ms=JUMPS, level=st.integers(0, 255))
    def jumping_frame(self, seq: int, jump_ms: float, level: int) -> None:
        """A real picture whose capture time leaps (a client clock gone wrong)."""
        t_ms = (self.last_t_ms or 0.0) + jump_ms
        self.ws.send_bytes(HEADER.pack(seq, t_ms) + jpeg(level))
        reply = self.answer()
        assert reply["seq"] == seq, reply
        if reply.get("code") != "bad_timestamp":
            self.last_t_ms = t_ms

    @invariant()
    def still_open(self) -> None:
        self.ws.send_text("{}")  # a cheap message: the connection must still answer
        assert self.answer()["type"] == "error"


@pytest.fixture(scope="module")
def live_client(model_path: Path) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    with TestClient(create_app(ServerConfig(), model=model_path),
                    base_url="http://127.0.0.1") as client:  # fmt: skip
        yield client


@pytest.mark.slow  # the real pose model
def test_the_live_protocol_holds_for_any_client(live_client: TestClient) -> None:
    LiveProtocol.client = live_client
    run = LiveProtocol.TestCase
    run.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run().runTest()
