"""Render a clip with its ground truth: ``<name>.mp4``, ``<name>.npz``, ``<name>.json`` and
(optionally) ``<name>.mask.npz``. See the package docstring for the file formats."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.synth.body import BodyShape, make_body
from formcheck.synth.camera import Camera
from formcheck.synth.exercises import motion_class
from formcheck.synth.faults import FaultEvent
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.motion import FAULT_MEASURES, Motion, make_event
from formcheck.synth.output import Mp4Writer, save_npz
from formcheck.synth.placement import PlacedBody, place
from formcheck.synth.raycast import HitBuffer, RayCaster
from formcheck.synth.scene import cast_shadow, render_background, shade
from formcheck.synth.spec import ClipSpec
from formcheck.synth.timeline import ENDING_PHASES
from formcheck.synth.truth import BULGE_STATIONS, all_measures

FORMAT_VERSION = 1
FRAMING_SAMPLES = 24  # poses sampled to find the centre of the movement
MS_PER_S = 1000.0
JSON_DIGITS = 4
WORLD_FRAME_DOC = "metres; +y up, floor y=0, the person starts facing +x, +z to their right"
CAMERA_FRAME_DOC = "metres; OpenCV axes: x right, y down, z forward"
OCCLUSION_MARGIN_FRAC = 0.07  # of body height: how deep a landmark may lie under the surface


@dataclass(frozen=True, slots=True)
class ClipTruth:
    """Summary of a rendered clip (the JSON file holds the same, the NPZ the per-frame data)."""

    name: str
    video_path: Path
    truth_path: Path
    json_path: Path
    mask_path: Path | None
    exercise: str
    frames: int
    duration_s: float
    fps: float
    reps: list[dict[str, str | float]]
    phases: list[dict[str, object]]
    faults: list[FaultEvent]
    still_s: tuple[float, float]
    frames_in_frame: int


def _camera(
    spec: ClipSpec, motion: Motion, shape: BodyShape
) -> tuple[Camera, npt.NDArray[np.float64]]:
    pts = []
    for k in range(FRAMING_SAMPLES):
        t = motion.set_end_s * k / (FRAMING_SAMPLES - 1)
        placed = place(shape, motion.pose_at(t), motion.support_at(t))
        pts.append(landmarks_world(shape, placed.skeleton))
    allp = np.concatenate(pts)
    target = (allp.min(axis=0) + allp.max(axis=0)) / 2.0
    cam = spec.camera
    yaw = math.radians(cam.yaw_deg)
    if motion.camera_view == "front":
        direction = np.array([math.cos(yaw), 0.0, math.sin(yaw)])
    else:
        side = -1.0 if cam.side == "left" else 1.0
        direction = np.array([math.sin(yaw), 0.0, side * math.cos(yaw)])
    position = target + cam.distance_m * direction
    position[1] = cam.height_m
    return Camera.look_at(
        position, target, cam.vertical_fov_deg, cam.width_px, cam.height_px
    ), target


def _visible(
    buf: HitBuffer,
    px: npt.NDArray[np.float64],
    lm: npt.NDArray[np.float64],
    camera: Camera,
    height_m: float,
) -> npt.NDArray[np.bool_]:
    """Per landmark: inside the image and not hidden behind another part of the body (the
    nearest surface at its pixel lies at most OCCLUSION_MARGIN_FRAC * height in front of it)."""
    h, w = buf.depth.shape
    inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    cols = np.clip(px[:, 0].astype(int), 0, w - 1)
    rows = np.clip(px[:, 1].astype(int), 0, h - 1)
    dist = np.linalg.norm(lm - camera.position_m, axis=1)
    surface = buf.depth[rows, cols]
    return np.asarray(inside & (surface >= dist - OCCLUSION_MARGIN_FRAC * height_m))


def measured_fault_size(
    motion: Motion, shape: BodyShape, event_times: tuple[float, float, float, float], kind: str
) -> float:
    """How much the fault's true measure changes at full size (mid-way through the full-size
    window, against the same instant without faults); NaN for timing faults."""
    measure = FAULT_MEASURES[kind]
    if measure is None:
        return float("nan")
    t = (event_times[1] + event_times[2]) / 2.0
    values = []
    for with_faults in (True, False):
        placed = place(shape, motion.pose_at(t, with_faults), motion.support_at(t))
        lm = landmarks_world(shape, placed.skeleton)
        values.append(frame_measures(motion, lm, placed)[0][measure])
    return round(values[0] - values[1], JSON_DIGITS)


def frame_measures(
    motion: Motion, lm: npt.NDArray[np.float64], placed: PlacedBody
) -> tuple[dict[str, float], npt.NDArray[np.float64]]:
    """Every true measure of one frame (the common ones and the exercise's own) and the back
    profile (mm)."""
    values, profile = all_measures(lm, placed.skeleton, placed.prims)
    values.update(motion.extra_measures(lm, placed.skeleton, values))
    return values, profile


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, JSON_DIGITS) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


@dataclass
class TruthRecorder:
    """Per-frame ground truth of a clip being rendered, and the files written from it (the
    NPZ, the mask NPZ and the JSON; see the package docstring). Both bodies use it."""

    motion: Motion
    fps: float
    height_px: int
    width_px: int
    write_masks: bool

    def __post_init__(self) -> None:
        n = math.floor(self.motion.duration_s * self.fps) + 1
        self.n_frames = n
        self.t_ms = np.zeros(n)
        self.lm_world = np.zeros((n, NUM_LANDMARKS, 3))
        self.lm_cam = np.zeros((n, NUM_LANDMARKS, 3))
        self.lm_px = np.zeros((n, NUM_LANDMARKS, 2))
        self.profile = np.zeros((n, BULGE_STATIONS))
        self.visible = np.zeros((n, NUM_LANDMARKS), bool)
        self.measures: dict[str, list[float]] = {}
        self.masks: list[npt.NDArray[np.uint8]] = []
        motion = self.motion
        self.phase_names = (
            ["still", *motion.phase_names] if not motion.is_hold else ["still", "hold"]
        )
        if motion.ending is not None:
            self.phase_names += list(ENDING_PHASES)
        self.phase_index = np.full(n, -1, np.int16)
        self.rep_index = np.full(n, -1, np.int16)
        self.phases = motion.phases()

    def time_s(self, k: int) -> float:
        return k / self.fps

    def record_pose(
        self,
        k: int,
        lm: npt.NDArray[np.float64],
        camera: Camera,
        values: dict[str, float],
        profile: npt.NDArray[np.float64],
    ) -> None:
        """Frame k's landmarks (world metres, MediaPipe order) and true measures."""
        t = self.time_s(k)
        self.t_ms[k] = t * MS_PER_S
        self.lm_world[k] = lm
        self.lm_cam[k] = camera.to_camera(lm)
        self.lm_px[k] = camera.project(lm)
        self.profile[k] = profile
        for key, v in values.items():
            self.measures.setdefault(key, []).append(v)
        for pname, t0, t1 in self.phases:
            if t0 <= t < t1:
                self.phase_index[k] = self.phase_names.index(pname)
        rep = self.motion.rep_at(t)
        if rep is not None and t < rep.end_s:
            self.rep_index[k] = rep.index

    def record_image(
        self, k: int, visible: npt.NDArray[np.bool_], person: npt.NDArray[np.bool_]
    ) -> None:
        """Frame k's landmark visibility and (when masks are written) person silhouette."""
        self.visible[k] = visible
        if self.write_masks:
            self.masks.append(np.packbits(person, axis=-1))

    def write(
        self,
        out_dir: Path,
        name: str,
        video_path: Path,
        doc: dict[str, object],
        camera_doc: dict[str, object],
        measured_size: Callable[[tuple[float, float, float, float], str], float],
    ) -> ClipTruth:
        """Write the NPZ, mask and JSON files; ``doc`` holds the clip's own keys (exercise,
        variant, label, seed, spec, params, body, ...), ``camera_doc`` the camera's."""
        h, w, n_frames, motion = self.height_px, self.width_px, self.n_frames, self.motion
        lm_px = self.lm_px
        in_frame = np.all(
            (lm_px[..., 0] >= 0) & (lm_px[..., 0] < w) & (lm_px[..., 1] >= 0) & (lm_px[..., 1] < h),
            axis=1,
        )
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "t_ms": self.t_ms,
            "landmarks_px": lm_px.astype(np.float32),
            "landmarks_world_m": self.lm_world.astype(np.float32),
            "landmarks_camera_m": self.lm_cam.astype(np.float32),
            "landmarks_in_frame": in_frame,
            "landmarks_visible": self.visible,
            "back_profile_mm": self.profile.astype(np.float32),
            "phase_index": self.phase_index,
            "rep_index": self.rep_index,
        }
        for key, vals in self.measures.items():
            arrays[key] = np.asarray(vals, np.float32)
        truth_path = out_dir / f"{name}.npz"
        save_npz(truth_path, arrays)
        mask_path = None
        if self.write_masks:
            mask_path = out_dir / f"{name}.mask.npz"
            save_npz(
                mask_path,
                {"mask_bits": np.stack(self.masks), "shape_px": np.array([n_frames, h, w])},
            )

        events = []
        for fault, rep_i, *times in motion.fault_events():
            tt = (times[0], times[1], times[2], times[3])
            events.append(make_event(fault, rep_i, tt, measured_size(tt, fault.kind)))
        reps = [
            {
                "index": r.index,
                "start_s": r.start_s,
                "bottom_start_s": r.bottom_start_s,
                "up_start_s": r.up_start_s,
                "end_s": r.end_s,
                "rest_end_s": r.rest_end_s,
                **motion.rep_truth(r),
            }
            for r in motion.reps
        ]
        phase_list: list[dict[str, object]] = [
            {"name": p, "start_s": a, "end_s": b} for p, a, b in self.phases
        ]
        still_s = motion.config.still_s
        truth = ClipTruth(
            name=name,
            video_path=video_path,
            truth_path=truth_path,
            json_path=out_dir / f"{name}.json",
            mask_path=mask_path,
            exercise=motion.exercise,
            frames=n_frames,
            duration_s=motion.duration_s,
            fps=self.fps,
            reps=reps,
            phases=phase_list,
            faults=events,
            still_s=(0.0, still_s),
            frames_in_frame=int(in_frame.sum()),
        )
        full = {
            "format_version": FORMAT_VERSION,
            "name": name,
            **doc,
            "camera": camera_doc,
            "frames": n_frames,
            "duration_s": motion.duration_s,
            "still_s": [0.0, still_s],
            "phase_names": self.phase_names,
            "reps": reps,
            **_ending_doc(motion),
            "phases": phase_list,
            "faults": [asdict(e) for e in events],
            "frames_all_landmarks_in_frame": int(in_frame.sum()),
            "files": {
                "video": video_path.name,
                "truth": truth_path.name,
                "mask": mask_path.name if mask_path else None,
            },
            "world_frame": WORLD_FRAME_DOC,
            "camera_frame": CAMERA_FRAME_DOC,
        }
        truth.json_path.write_text(json.dumps(_rounded(full), indent=1, sort_keys=True) + "\n")
        return truth


def _ending_doc(motion: Motion) -> dict[str, dict[str, object]]:
    """The set's ending in the JSON (key ``ending``, only when the set has one): what
    happens and when, and that it is not a rep."""
    ending = motion.ending
    if ending is None:
        return {}
    return {"ending": {
        "kind": motion.config.ending,
        "is_rep": False,
        "start_s": ending.start_s,
        "bottom_start_s": ending.bottom_start_s,
        "release_s": ending.release_s,
        "up_start_s": ending.up_start_s,
        "stand_s": ending.stand_s,
        "walk_start_s": ending.walk_start_s,
        "walk_end_s": ending.walk_end_s,
        "end_s": ending.end_s,
    }}  # fmt: skip


def camera_document(camera: Camera, spec: ClipSpec, view: str) -> dict[str, object]:
    return {
        **camera.as_dict(),
        "fps": spec.camera.fps,
        "view": view,
        "yaw_deg": spec.camera.yaw_deg,
        "side": spec.camera.side,
        "distance_m": spec.camera.distance_m,
    }


def render_clip(spec: ClipSpec, out_dir: Path, name: str) -> ClipTruth:
    """Render ``spec`` into ``out_dir/<name>.*``; frames stream to the encoder one at a time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    shape = make_body(spec.height_m, rng if spec.vary_body else None)
    motion = motion_class(spec.exercise)(shape, spec.motion, spec.faults)
    camera, target = _camera(spec, motion, shape)
    caster = RayCaster(camera)
    extra = ("prop", "chair")
    names, colours = spec.style.material_colours(extra)
    material_index = {n: i for i, n in enumerate(names)}
    person_materials = len(names) - len(extra)
    backdrop = render_background(spec.style, camera, caster.rays, target)
    scenery = motion.scenery()
    fps = spec.camera.fps
    h, w = camera.height_px, camera.width_px
    record = TruthRecorder(motion, fps, h, w, spec.write_masks)

    video_path = out_dir / f"{name}.mp4"
    with Mp4Writer(video_path, w, h, fps, spec.crf) as writer:
        for k in range(record.n_frames):
            t = record.time_s(k)
            placed: PlacedBody = place(
                shape, motion.pose_at(t), motion.support_at(t), spec.style.clothing
            )
            lm = landmarks_world(shape, placed.skeleton)
            values, profile = frame_measures(motion, lm, placed)
            record.record_pose(k, lm, camera, values, profile)
            buf = HitBuffer.empty(h, w)
            for prim in placed.prims:
                caster.draw(buf, prim, material_index[prim.material])
            for prop in motion.props_at(placed.skeleton, t):
                caster.draw(buf, prop, material_index[prop.material])
            for box in scenery:
                caster.draw(buf, box, material_index[box.material])
            background = cast_shadow(backdrop, camera, lm)
            writer.write(shade(buf, background, colours, spec.style))
            person = (buf.material >= 0) & (buf.material < person_materials)
            record.record_image(
                k, _visible(buf, record.lm_px[k], lm, camera, shape.height_m), person
            )

    doc: dict[str, object] = {
        "exercise": spec.exercise,
        "variant": motion.variant,
        "label": spec.label,
        "seed": spec.seed,
        "spec": spec.as_dict(),
        "params": motion.params,
        "body": {
            "height_m": shape.height_m,
            "build": shape.build,
            "thigh_m": shape.thigh_m,
            "shank_m": shape.shank_m,
            "upper_arm_m": shape.upper_arm_m,
            "forearm_m": shape.forearm_m,
        },
    }
    return record.write(
        out_dir,
        name,
        video_path,
        doc,
        camera_document(camera, spec, motion.camera_view),
        lambda times, kind: measured_fault_size(motion, shape, times, kind),
    )
