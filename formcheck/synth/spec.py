"""What to render: the clip specification, and random specifications for evaluation sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from formcheck.synth.body import HEIGHT_MAX_M, HEIGHT_MIN_M
from formcheck.synth.exercises import motion_class
from formcheck.synth.faults import Fault
from formcheck.synth.motion import MotionConfig
from formcheck.synth.output import DEFAULT_CRF
from formcheck.synth.scene import SceneStyle, random_style
from formcheck.synth.timeline import Tempo

# Fault sizes drawn by random_clip_spec (units as in FAULT_UNITS).
FAULT_SIZE_RANGES: dict[str, tuple[float, float]] = {
    "lumbar_flexion": (15.0, 35.0),
    "lumbar_extension": (10.0, 25.0),
    "knee_first": (150.0, 500.0),
    "hips_rise_first": (200.0, 600.0),
    "knee_dominant": (20.0, 40.0),
    "plank_sag": (40.0, 100.0),
    "side_plank_hip_drop": (50.0, 120.0),
    "pelvis_rotation": (8.0, 20.0),
    "forward_head": (30.0, 70.0),
    "stance_width": (100.0, 250.0),
    "tempo": (1.0, 2.0),
    "trunk_lean": (10.0, 25.0),
    "knee_travel": (50.0, 100.0),
}
CORRECT_SHARE = 0.5  # random specs without explicit faults are correct this often
RANDOM_REPS = (3, 5)
CAMERA_DISTANCE_RANGE_M = (2.6, 3.6)
STANDING_CAMERA_HEIGHT_RANGE_M = (0.8, 1.4)
FLOOR_CAMERA_HEIGHT_RANGE_M = (0.5, 1.0)
TEMPO_DOWN_RANGE_S = (1.5, 3.0)
TEMPO_PAUSE_RANGE_S = (0.3, 1.0)
TEMPO_UP_RANGE_S = (1.2, 2.5)
TEMPO_REST_RANGE_S = (0.6, 1.2)
HOLD_RANGE_S = (5.0, 8.0)


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """Where the camera stands, relative to the person's starting position.

    yaw_deg: 0 is an exact side view (front view for exercises filmed from the front);
        positive turns the camera towards the person's front, up to 45 degrees.
    side: which of the person's sides faces a side-view camera ("left" or "right").
    distance_m: horizontal distance from the centre of the person's movement.
    height_m: lens height above the floor; the camera looks at the movement's centre.
    """

    distance_m: float = 3.0
    height_m: float = 1.0
    yaw_deg: float = 0.0
    side: str = "left"
    vertical_fov_deg: float = 45.0
    width_px: int = 640
    height_px: int = 480
    fps: float = 30.0


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """Everything needed to render one clip; the same spec always gives the same bytes."""

    exercise: str
    seed: int = 0
    height_m: float = 1.75
    vary_body: bool = True  # random proportions and girths from the seed
    motion: MotionConfig = field(default_factory=MotionConfig)
    faults: tuple[Fault, ...] = ()
    camera: CameraSpec = field(default_factory=CameraSpec)
    style: SceneStyle = field(default_factory=SceneStyle)
    crf: int = DEFAULT_CRF
    prescribed_tempo: Tempo | None = None  # the tempo asked for (tempo faults deviate from it)
    label: str = ""  # free text, e.g. "correct" or "rounded back"
    write_masks: bool = True

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        if not self.motion.ending:  # a set without an ending is written as it always was
            motion = out["motion"]
            del motion["ending"], motion["ending_pause_s"]
        return out


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], ndigits: int = 2) -> float:
    return round(float(rng.uniform(*bounds)), ndigits)


def random_clip_spec(
    exercise: str,
    rng: np.random.Generator,
    *,
    faults: Sequence[Fault] | None = None,
    fault_kind: str | None = None,
    yaw_max_deg: float = 30.0,
    width_px: int = 640,
    height_px: int = 480,
    fps: float = 30.0,
) -> ClipSpec:
    """A randomised clip of ``exercise``: body, camera, scene, tempo and posture varied.

    faults: the faults to inject; None draws them (no fault with probability CORRECT_SHARE,
    else one supported fault of random size, in every rep but the first).
    fault_kind: inject this supported fault, of random size, in every rep but the first
    (instead of ``faults``).
    """
    cls = motion_class(exercise)
    seed = int(rng.integers(2**31 - 1))
    reps = int(rng.integers(RANDOM_REPS[0], RANDOM_REPS[1] + 1))
    tempo = Tempo(
        _uniform(rng, TEMPO_DOWN_RANGE_S),
        _uniform(rng, TEMPO_PAUSE_RANGE_S),
        _uniform(rng, TEMPO_UP_RANGE_S),
        _uniform(rng, TEMPO_REST_RANGE_S),
    )
    params = {k: _uniform(rng, b) for k, b in sorted(cls.ranges.items())}
    variant = cls.variants[int(rng.integers(len(cls.variants)))]
    config = MotionConfig(
        reps=reps, tempo=tempo, params=params, variant=variant, hold_s=_uniform(rng, HOLD_RANGE_S)
    )
    if fault_kind is not None:
        if fault_kind not in cls.supported_faults:
            raise ValueError(f"{exercise} has no fault {fault_kind!r}")
        size = _uniform(rng, FAULT_SIZE_RANGES[fault_kind], 1)
        affected = None if cls.is_hold else tuple(range(1, reps))
        chosen: tuple[Fault, ...] = (Fault(fault_kind, size, reps=affected),)
    elif faults is None:
        chosen = ()
        if cls.supported_faults and rng.random() >= CORRECT_SHARE:
            kind = cls.supported_faults[int(rng.integers(len(cls.supported_faults)))]
            size = _uniform(rng, FAULT_SIZE_RANGES[kind], 1)
            chosen = (Fault(kind, size, reps=None if cls.is_hold else tuple(range(1, reps))),)
    else:
        chosen = tuple(faults)
    floor = cls.on_floor
    camera = CameraSpec(
        distance_m=_uniform(rng, CAMERA_DISTANCE_RANGE_M),
        height_m=_uniform(
            rng, FLOOR_CAMERA_HEIGHT_RANGE_M if floor else STANDING_CAMERA_HEIGHT_RANGE_M
        ),
        yaw_deg=_uniform(rng, (-yaw_max_deg, yaw_max_deg), 1),
        side="left" if rng.random() < 0.5 else "right",
        width_px=width_px,
        height_px=height_px,
        fps=fps,
    )
    label = ", ".join(f"{f.kind} {f.size:g} {f.unit}" for f in chosen) or "correct"
    return ClipSpec(
        exercise=exercise,
        seed=seed,
        height_m=_uniform(rng, (HEIGHT_MIN_M, HEIGHT_MAX_M)),
        motion=config,
        faults=chosen,
        camera=camera,
        style=random_style(rng),
        prescribed_tempo=tempo,
        label=label,
    )
