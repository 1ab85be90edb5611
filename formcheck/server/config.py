"""Server settings, with units in every name."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from formcheck.config import PipelineConfig
from formcheck.jobs.config import JobsConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ServerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_sessions: int = Field(
        32,
        ge=1,
        description="live connections at once; with pose in the browser a set costs the "
        "server about 1-2 ms of CPU a frame (bench/bench_live.py)",
    )
    max_server_pose_sessions: int = Field(
        4,
        ge=0,
        description="sets with pose on the server at once (the fallback for browsers that "
        "cannot run it): each costs ~27 CPU ms a frame, so two cores give two of them 30 "
        "frames/s and more of them fewer; further ones are refused as busy",
    )
    live_workers: int | None = Field(
        None,
        ge=0,
        le=64,
        description="processes running browser-pose sets (their Python work is GIL-bound); "
        "None: one per core; 0: in the app's own process",
    )
    max_pose_payload_bytes: int = Field(
        400_000,
        ge=2_000,
        description="larger browser pose payloads are refused (a 640x480 frame's is 2-8 kB)",
    )
    max_frame_bytes: int = Field(
        2_000_000, ge=1_000, description="larger frame messages are refused with an error"
    )
    max_frame_side_px: int = Field(
        4096, ge=64, description="images claiming a longer side are refused before decoding"
    )
    min_mean_luma: float = Field(
        40.0, ge=0, le=255, description="a darker frame (mean of 0..255 luma) asks for light"
    )
    setup_ok_hold_s: float = Field(
        0.3, ge=0, description="the setup must be right this long before the set starts"
    )
    tracker_settle_max_s: float = Field(
        3.0,
        ge=0,
        description="the set waits for the pose tracker to settle on one person at most this "
        "long after the setup is right (its switch would shake the calibration)",
    )
    ws_max_message_bytes: int = Field(
        8_000_000, ge=1_000, description="uvicorn closes the socket on larger messages (1009)"
    )
    pipeline: PipelineConfig = PipelineConfig()
    jobs: JobsConfig | None = Field(
        None,
        description="uploads and background jobs (data directory, workers, limits, retention); "
        "None serves the live page only",
    )
