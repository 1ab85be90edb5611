"""MediaPipe Tasks pose estimation (stage 2). The only module that imports MediaPipe."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from formcheck.errors import ModelUnavailableError
from formcheck.kinematics.mask_crop import DEFAULT_MASK_CROP, MaskCropConfig, trunk_mask_box
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.pose.native_log import quiet_native_stderr
from formcheck.types import PoseFrame, VideoFrame

L = Landmark
_TORSO = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP]

# MediaPipe's own defaults for its three confidence thresholds.
DEFAULT_MIN_CONFIDENCE = 0.5
# The locked person may move this many body sizes between frames and still be the same one.
DEFAULT_MAX_JUMP_BODY = 0.5
# Gone this long: the lock forgets them and takes whoever is largest and most central next.
DEFAULT_LOST_AFTER_MS = 1000.0
# Nobody else seen for this long: switch to the cheaper one-person landmarker.
DEFAULT_SINGLE_PERSON_CONFIRM_MS = 500.0


@dataclass(frozen=True, slots=True)
class Candidate:
    landmarks_px: np.ndarray
    world_m: np.ndarray
    visibility: np.ndarray
    index: int

    @property
    def centre_px(self) -> np.ndarray:
        return np.asarray(self.landmarks_px[_TORSO, :2].mean(axis=0))

    @property
    def size_px(self) -> float:
        """Height of the landmark bounding box: a stand-in for how big the person looks."""
        return float(np.ptp(self.landmarks_px[:, 1]) + np.ptp(self.landmarks_px[:, 0])) / 2.0


class PersonLock:
    """Chooses one person when several are visible and keeps them.

    At the start the lock takes the largest, most central person; afterwards the candidate
    nearest to the last position of the locked person, as long as they are within
    ``max_jump_body`` body sizes of it.
    """

    def __init__(self, max_jump_body: float = DEFAULT_MAX_JUMP_BODY) -> None:
        self._max_jump_body = max_jump_body
        self._last: Candidate | None = None

    def choose(
        self, candidates: list[Candidate], width_px: int, height_px: int
    ) -> Candidate | None:
        if not candidates:
            return None
        if self._last is None:
            centre = np.array([width_px / 2.0, height_px / 2.0])
            diagonal = math.hypot(width_px, height_px)

            def start_score(c: Candidate) -> float:
                off_centre = float(np.linalg.norm(c.centre_px - centre)) / diagonal
                return c.size_px * (1.0 - off_centre)

            chosen = max(candidates, key=start_score)
        else:
            last = self._last
            chosen = min(
                candidates, key=lambda c: float(np.linalg.norm(c.centre_px - last.centre_px))
            )
            jump = float(np.linalg.norm(chosen.centre_px - last.centre_px))
            if jump > self._max_jump_body * max(last.size_px, 1.0):
                return None
        self._last = chosen
        return chosen

    def release(self) -> None:
        """Forget the locked person (e.g. after they have been gone a long time)."""
        self._last = None


class PoseEstimator:
    """Wraps MediaPipe PoseLandmarkers; one instance per stream (it keeps tracking state).

    MediaPipe's VIDEO mode serves files and live frames alike: it is synchronous and takes
    each frame's timestamp (from the video, or from the client's clock when live).
    Timestamps must increase; a repeated or earlier timestamp is nudged forward by 1 ms, as
    MediaPipe rejects them.

    Several people: asking MediaPipe for ``max_people`` poses makes it run its person
    detector on every frame (about twice the cost of tracking one). So the estimator starts
    in multi-person mode, locks onto one person (``PersonLock``), and once nobody else has
    been seen for ``single_person_confirm_ms`` it switches to a one-person landmarker that
    only tracks. If that landmarker's pose ever jumps away from the locked person (someone
    else took over), it switches back.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        segmentation: bool = True,
        max_people: int = 2,
        min_detection_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_presence_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_tracking_confidence: float = DEFAULT_MIN_CONFIDENCE,
        lost_after_ms: float = DEFAULT_LOST_AFTER_MS,
        single_person_confirm_ms: float = DEFAULT_SINGLE_PERSON_CONFIRM_MS,
        mask_crop: MaskCropConfig = DEFAULT_MASK_CROP,
    ) -> None:
        self._model_path = model_path
        self._confidences = (
            min_detection_confidence,
            min_presence_confidence,
            min_tracking_confidence,
        )
        self._segmentation = segmentation
        self._mask_crop = mask_crop
        self._max_people = max_people
        self._lock = PersonLock()
        self._last_ts_ms = -1
        self._last_seen_ms: float | None = None
        self._lost_after_ms = lost_after_ms
        self._single_confirm_ms = single_person_confirm_ms
        self._alone_since_ms: float | None = None
        self._active: Any = None
        self._active_num_poses = 0
        self._fresh = True
        self._switch_to(max_people)

    @property
    def tracking_one_person(self) -> bool:
        return self._active_num_poses == 1

    def _switch_to(self, num_poses: int) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        detection, presence, tracking = self._confidences
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=detection,
            min_pose_presence_confidence=presence,
            min_tracking_confidence=tracking,
            output_segmentation_masks=self._segmentation,
        )
        try:
            with quiet_native_stderr():
                landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelUnavailableError(
                f"The pose model {self._model_path} could not be loaded ({exc}); run "
                "`formcheck models` to rebuild it or pass --model with an official bundle."
            ) from exc
        if self._active is not None:
            self._active.close()
        self._active = landmarker
        self._active_num_poses = num_poses
        self._fresh = True
        self._alone_since_ms = None

    def process(self, frame: VideoFrame) -> PoseFrame:
        import mediapipe as mp

        height_px, width_px = frame.rgb.shape[:2]
        ts_ms = max(round(frame.t_ms), self._last_ts_ms + 1)
        self._last_ts_ms = ts_ms
        # MediaPipe silently finds nobody in an image with padded rows: make sure it has none.
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame.rgb))
        if self._fresh:
            with quiet_native_stderr():  # MediaPipe logs graph warnings on the first frame
                result = self._active.detect_for_video(image, ts_ms)
            self._fresh = False
        else:
            result = self._active.detect_for_video(image, ts_ms)
        candidates = [
            _candidate(i, lms, result.pose_world_landmarks[i], width_px, height_px)
            for i, lms in enumerate(result.pose_landmarks)
        ]
        if self._last_seen_ms is not None and frame.t_ms - self._last_seen_ms > self._lost_after_ms:
            self._lock.release()
        chosen = self._lock.choose(candidates, width_px, height_px)
        self._adapt(frame.t_ms, candidates, chosen)
        steady = self.tracking_one_person or self._max_people <= 1
        if chosen is None:
            return PoseFrame(
                frame.t_ms,
                width_px,
                height_px,
                people_detected=len(candidates),
                steady_tracking=steady,
            )
        self._last_seen_ms = frame.t_ms
        mask = None
        box = None
        if self._segmentation and result.segmentation_masks:
            # Only the part around the trunk that the back measures read is copied out.
            box = trunk_mask_box(chosen.landmarks_px, width_px, height_px, self._mask_crop)
            if box is not None:
                view = result.segmentation_masks[chosen.index].numpy_view()
                if view.ndim == 3:
                    view = view[:, :, 0]
                mask = np.array(view[box.y0 : box.y1, box.x0 : box.x1], dtype=np.float32)
        return PoseFrame(
            t_ms=frame.t_ms,
            image_width_px=width_px,
            image_height_px=height_px,
            landmarks_px=chosen.landmarks_px,
            world_m=chosen.world_m,
            visibility=chosen.visibility,
            mask=mask,
            mask_origin_px=(box.x0, box.y0) if mask is not None and box is not None else (0, 0),
            people_detected=len(candidates),
            steady_tracking=steady,
        )

    def _adapt(self, t_ms: float, candidates: list[Candidate], chosen: Candidate | None) -> None:
        """Switch between the multi-person and the cheaper one-person landmarker."""
        if self._max_people <= 1:
            return
        if self.tracking_one_person:
            if candidates and chosen is None:  # the one tracked pose is someone else now
                self._switch_to(self._max_people)
            return
        if len(candidates) > 1 or chosen is None:
            self._alone_since_ms = None
            return
        if self._alone_since_ms is None:
            self._alone_since_ms = t_ms
        elif t_ms - self._alone_since_ms >= self._single_confirm_ms:
            self._switch_to(1)

    def close(self) -> None:
        if self._active is not None:
            self._active.close()
            self._active = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _candidate(index: int, lms: Any, world: Any, width_px: int, height_px: int) -> Candidate:
    px = np.empty((NUM_LANDMARKS, 3), dtype=np.float64)
    wm = np.empty((NUM_LANDMARKS, 3), dtype=np.float64)
    vis = np.empty(NUM_LANDMARKS, dtype=np.float64)
    for k, (lm, wl) in enumerate(zip(lms, world, strict=True)):
        # MediaPipe's z uses roughly the same scale as x (normalised by image width).
        px[k] = (lm.x * width_px, lm.y * height_px, lm.z * width_px)
        wm[k] = (wl.x, wl.y, wl.z)
        vis[k] = lm.visibility if lm.visibility is not None else 0.0
    return Candidate(landmarks_px=px, world_m=wm, visibility=vis, index=index)
