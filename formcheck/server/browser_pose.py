"""Browser-pose mode of a live session: the page runs the pose model, the server the rest.

The page (server/public/pose_browser.js) runs MediaPipe's PoseLandmarker in WebAssembly with
the same model bundle and the same settings as the server's PoseEstimator, which the server
sends it in :class:`BrowserPoseSettings` (one place for them), and sends one binary payload
per camera frame (``formcheck.pose.remote``): landmarks, world landmarks and the mask around
the trunk, never image bytes. :class:`BrowserPoseInput` checks each payload, keeps the
capture times strictly increasing and hands the LiveSession a PoseFrame, which goes through
the same smoothing, kinematics and analyzer as a frame posed on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from formcheck.config import PipelineConfig
from formcheck.errors import FormcheckError
from formcheck.kinematics.mask_crop import DEFAULT_MASK_CROP
from formcheck.pose.estimator import (
    DEFAULT_LOST_AFTER_MS,
    DEFAULT_MAX_JUMP_BODY,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_SINGLE_PERSON_CONFIRM_MS,
)
from formcheck.pose.remote import (
    PAYLOAD_MAGIC,
    PayloadLimits,
    PosePayload,
    TimestampOrderError,
    decode_payload,
)
from formcheck.server.web import MODEL_URL, TASKS_VISION_URL


class BrowserPoseUnavailableError(FormcheckError):
    """The server cannot offer pose in the browser (its tasks-vision files are missing)."""


class MaskCropOut(BaseModel):
    """The trunk box the page crops the mask to (formcheck.kinematics.mask_crop)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reach_frac: float = Field(description="of the longest shoulder-hip chord, around the trunk")
    margin_px: float
    min_chord_px: float


class BrowserPoseSettings(BaseModel):
    """What the page needs to pose frames exactly as the server's PoseEstimator would."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payload_magic: str = Field(description="first 4 bytes of every pose payload")
    max_payload_bytes: int
    model_url: str = Field(description="the model bundle, served by this app")
    tasks_vision_url: str = Field(description="tasks-vision's ES module and wasm/, this app")
    max_people: int = Field(description="poses looked for until one person is locked")
    min_detection_confidence: float
    min_presence_confidence: float
    min_tracking_confidence: float
    max_jump_body: float = Field(description="person lock: largest move between frames")
    lost_after_ms: float = Field(description="person lock: forget someone gone this long")
    single_person_confirm_ms: float = Field(
        description="alone this long: track one person only (steady tracking)"
    )
    segmentation: bool
    mask_crop: MaskCropOut


def browser_pose_settings(
    pipeline: PipelineConfig, max_payload_bytes: int, model_version: str
) -> BrowserPoseSettings:
    return BrowserPoseSettings(
        payload_magic=PAYLOAD_MAGIC.decode("ascii"),
        max_payload_bytes=max_payload_bytes,
        # The checksum in the URL: a rebuilt model is fetched afresh, never an old cached one.
        model_url=f"{MODEL_URL}?v={model_version}",
        tasks_vision_url=TASKS_VISION_URL,
        max_people=pipeline.max_people,
        min_detection_confidence=DEFAULT_MIN_CONFIDENCE,
        min_presence_confidence=DEFAULT_MIN_CONFIDENCE,
        min_tracking_confidence=DEFAULT_MIN_CONFIDENCE,
        max_jump_body=DEFAULT_MAX_JUMP_BODY,
        lost_after_ms=DEFAULT_LOST_AFTER_MS,
        single_person_confirm_ms=DEFAULT_SINGLE_PERSON_CONFIRM_MS,
        segmentation=pipeline.segmentation,
        mask_crop=MaskCropOut(
            reach_frac=DEFAULT_MASK_CROP.reach_frac,
            margin_px=DEFAULT_MASK_CROP.margin_px,
            min_chord_px=DEFAULT_MASK_CROP.min_chord_px,
        ),
    )


@dataclass
class BrowserPoseInput:
    """One session's pose payloads: checked, in strictly increasing capture time."""

    limits: PayloadLimits
    last_t_ms: float | None = None

    def read(self, data: bytes) -> PosePayload:
        """Raises PosePayloadError (TimestampOrderError for a time that does not advance)."""
        payload = decode_payload(data, self.limits)
        if self.last_t_ms is not None and payload.t_ms <= self.last_t_ms:
            raise TimestampOrderError(
                f"Frame {payload.seq} was captured at t_ms={payload.t_ms:.3f}, not after the "
                f"previous frame's {self.last_t_ms:.3f}: capture times must increase."
            )
        self.last_t_ms = payload.t_ms
        return payload
