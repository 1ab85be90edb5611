"""Browser-pose sets over the live websocket: pose payloads in, the same reps and cues out.

The payloads are made by the reference encoder (formcheck.pose.remote.encode_payload) from the
server's own PoseEstimator on the clip's frames, which is what the page sends (the page's
JavaScript and the Chromium parity test, test_browser_parity.py, check that it does). The set
must count the clip's true reps and give the offline run's cues; any other message is refused
with a typed error while the set goes on.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formcheck.kinematics.mask_crop import DEFAULT_MASK_CROP
from formcheck.pose.remote import HEADER, encode_payload
from formcheck.server.config import ServerConfig
from formcheck.types import PoseFrame, VideoFrame
from formcheck.video.luma import mean_luma
from tests.server.test_clips import (
    EXERCISE,
    MS_PER_S,
    assert_same_cues,
    offline_run,
    sample_clip,
    with_lead_in,
)

pytestmark = pytest.mark.slow  # the real pose model

CLIP = "hip_hinge_hips_rise_first"
FAULT = "hips_rise_first"
WALL_SHAPE = (480, 640, 3)
# The test client speaks to the app as 127.0.0.1: the server answers loopback names only.
BASE_URL = "http://127.0.0.1"
WS_URL = "ws://127.0.0.1/ws/live"


@dataclasses.dataclass(frozen=True)
class PosedClip:
    video: Path
    frames: list[tuple[float, PoseFrame, float]]  # (t_ms, pose, mean luma)


@pytest.fixture(scope="module")
def posed_clip(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> PosedClip:
    """The clip with its lead-in, posed once by the server's estimator."""
    from formcheck.pose.estimator import PoseEstimator

    clip, truth = sample_clip(CLIP)
    video = with_lead_in(clip, truth, tmp_path_factory.mktemp("browser_pose"))
    frames = []
    with av.open(str(video)) as container, PoseEstimator(model_path) as estimator:
        for index, frame in enumerate(container.decode(video=0)):
            assert frame.time is not None
            rgb = frame.to_ndarray(format="rgb24")
            t_ms = frame.time * MS_PER_S
            pose = estimator.process(VideoFrame(index=index, t_ms=t_ms, rgb=rgb))
            frames.append((t_ms, pose, mean_luma(rgb)))
    return PosedClip(video, frames)


@pytest.fixture(scope="module")
def client(model_path: Path) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    # Three sets at once from this one test client (the per-client cap would refuse the third).
    config = ServerConfig(max_server_pose_sessions=1, max_sessions_per_client=4)
    with TestClient(create_app(config, model=model_path), base_url=BASE_URL) as test_client:
        yield test_client


def start(ws: Any, pose: str = "browser") -> dict[str, Any]:
    ws.send_text(json.dumps({"type": "start", "exercise": EXERCISE, "pose": pose}))
    return dict(ws.receive_json())


def payload(seq: int, t_ms: float, pose: PoseFrame, luma: float) -> bytes:
    return encode_payload(pose, seq=seq, t_ms=t_ms, mean_luma=luma)


def test_a_browser_set_counts_the_reps_and_gives_the_offline_cues(
    client: TestClient, posed_clip: PosedClip, tmp_path: Path
) -> None:
    states: list[str] = []
    cues: list[dict[str, Any]] = []
    server_ms: list[float] = []
    nobody = PoseFrame(0.0, WALL_SHAPE[1], WALL_SHAPE[0])
    with client.websocket_connect(WS_URL) as ws, client.websocket_connect(WS_URL) as other:
        started = start(ws)
        assert started["pose"] == "browser" and started["protocol"] == 2
        settings = started["browser_pose"]
        assert settings["payload_magic"] == "FCP1"
        assert settings["model_url"].startswith("/models/pose_landmarker.task?v=")
        assert settings["mask_crop"]["reach_frac"] == DEFAULT_MASK_CROP.reach_frac
        assert start(other)["type"] == "started"
        health = client.get("/api/health").json()
        assert health["browser_pose"] and health["server_pose_sessions"] == 0
        for seq, (t_ms, pose, luma) in enumerate(posed_clip.frames):
            ws.send_bytes(payload(seq, t_ms, pose, luma))
            other.send_bytes(payload(seq, t_ms, dataclasses.replace(nobody, t_ms=t_ms), 150.0))
            reply = ws.receive_json()
            assert reply["type"] == "frame" and reply["seq"] == seq, reply
            assert reply["landmarks"] is None  # the page has its own
            if not states or states[-1] != reply["state"]:
                states.append(reply["state"])
            cues.extend(reply["cues"])
            server_ms.append(reply["server_ms"])
            bystander = other.receive_json()
            assert [p["code"] for p in bystander["setup"]] == ["no_person"]
        ws.send_text(json.dumps({"type": "finish"}))
        report = ws.receive_json()["report"]
    _, truth = sample_clip(CLIP)
    assert states == ["setup", "calibrating", "active"]
    assert report["pose"] == "browser"
    assert report["summary"]["reps"] == len(truth["reps"])
    assert FAULT in {c["code"] for c in cues}
    offline = offline_run(posed_clip.video, tmp_path / "offline")
    assert offline["summary"]["reps"] == len(truth["reps"])
    assert_same_cues(report["findings"], offline["findings"])
    assert np.median(server_ms) < 50.0  # no model on the server: a few ms (bench_live.py)


def test_browser_and_server_messages_are_kept_apart(
    client: TestClient, posed_clip: PosedClip
) -> None:
    _, pose, luma = posed_clip.frames[len(posed_clip.frames) // 2]
    jpeg = cv2.imencode(".jpg", np.full(WALL_SHAPE, 120, dtype=np.uint8))[1].tobytes()
    with client.websocket_connect(WS_URL) as ws:
        ws.send_bytes(payload(1, 10.0, pose, luma))
        assert ws.receive_json()["code"] == "not_started"
        start(ws)
        # A picture is refused unread in a browser set; the set goes on.
        ws.send_bytes(struct.pack("<Id", 2, 20.0) + jpeg)
        error = ws.receive_json()
        assert (error["code"], error["seq"]) == ("wrong_pose_mode", 2)
        ws.send_bytes(payload(3, 30.0, pose, luma))
        assert ws.receive_json()["type"] == "frame"
        # Capture times must increase.
        ws.send_bytes(payload(4, 30.0, pose, luma))
        error = ws.receive_json()
        assert (error["code"], error["seq"]) == ("time_not_increasing", 4)
        assert "30.000" in error["message"]
        # A damaged payload names its field.
        bad = bytearray(payload(5, 40.0, pose, luma))
        bad[HEADER.size : HEADER.size + 4] = struct.pack("<f", float("nan"))
        ws.send_bytes(bytes(bad))
        error = ws.receive_json()
        assert (error["code"], error["seq"]) == ("bad_pose", 5)
        assert "finite" in error["message"]
        ws.send_bytes(payload(6, 50.0, pose, luma))
        assert ws.receive_json()["type"] == "frame"
        # The same connection can run its next set with pose on the server; payloads are
        # then refused.
        assert start(ws, "server")["pose"] == "server"
        ws.send_bytes(payload(7, 60.0, pose, luma))
        assert ws.receive_json()["code"] == "wrong_pose_mode"
        ws.send_bytes(struct.pack("<Id", 8, 70.0) + jpeg)
        assert ws.receive_json()["type"] == "frame"
        assert client.get("/api/health").json()["server_pose_sessions"] == 1
    assert client.get("/api/health").json()["server_pose_sessions"] == 0


def test_server_pose_sets_are_capped_and_browser_sets_are_not(client: TestClient) -> None:
    with (
        client.websocket_connect(WS_URL) as first,
        client.websocket_connect(WS_URL) as second,
        client.websocket_connect(WS_URL) as third,
    ):
        assert start(first, "server")["type"] == "started"
        busy = start(second, "server")
        assert busy["code"] == "busy" and "runs pose for 1 sets" in busy["message"]
        assert start(second, "browser")["type"] == "started"
        assert start(third, "browser")["type"] == "started"
        # Moving the first set to the browser frees its slot.
        assert start(first, "browser")["type"] == "started"
        assert start(second, "server")["type"] == "started"
        health = client.get("/api/health").json()
        assert (health["sessions"], health["server_pose_sessions"]) == (3, 1)


def test_without_tasks_vision_a_browser_set_is_refused(model_path: Path, tmp_path: Path) -> None:
    from formcheck.server import app as app_module
    from formcheck.server.web import WebAssets

    app = app_module.create_app(ServerConfig(), model=model_path)
    app.state.context.web = WebAssets(
        public_dir=app.state.context.web.public_dir, tasks_vision_dir=tmp_path
    )
    app.state.context.live_pool = None  # as create_app leaves it without the files
    with (
        TestClient(app, base_url=BASE_URL) as test_client,
        test_client.websocket_connect(WS_URL) as ws,
    ):
        assert not test_client.get("/api/health").json()["browser_pose"]
        refused = start(ws)
        assert refused["code"] == "bad_start" and "pose='server'" in refused["message"]
