"""Render the committed sample clips into ``sample_videos/``.

Run ``python -m formcheck.synth.samples`` (the lead wires it to a CLI command).

For every exercise there is at least one correct clip and one with a typical fault. The set
is fully determined by the table below: re-running the command reproduces every byte.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from formcheck.synth.clip import render_clip
from formcheck.synth.exercises import motion_class
from formcheck.synth.faults import Fault
from formcheck.synth.motion import MotionConfig
from formcheck.synth.scene import random_style
from formcheck.synth.spec import CameraSpec, ClipSpec
from formcheck.synth.timeline import Tempo

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "sample_videos"
SAMPLE_TEMPO = Tempo(down_s=1.6, pause_s=0.6, up_s=1.4, rest_s=0.6)
SAMPLE_REPS = 2
SAMPLE_HOLD_S = 6.0
SAMPLE_CRF = 28
FAULTY_REP = (1,)  # faults go into the second rep; the first is the person's own reference


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    exercise: str
    label: str
    faults: tuple[Fault, ...] = ()
    variant: str = ""
    height_m: float = 1.75
    yaw_deg: float = 0.0
    side: str = "left"


SAMPLES: tuple[Sample, ...] = (
    Sample("hip_hinge_correct", "hip_hinge", "correct", variant="bodyweight", height_m=1.75),
    Sample(
        "hip_hinge_rounded_back",
        "hip_hinge",
        "rounded lower back (25 deg lumbar flexion) in rep 2",
        (Fault("lumbar_flexion", 25.0, FAULTY_REP),),
        "bodyweight",
        1.68,
        side="right",
    ),
    Sample(
        "hip_hinge_arched_back",
        "hip_hinge",
        "arched lower back (20 deg lumbar extension) in rep 2",
        (Fault("lumbar_extension", 20.0, FAULTY_REP),),
        "dowel",
        1.82,
    ),
    Sample(
        "hip_hinge_knee_first",
        "hip_hinge",
        "knees bend 350 ms before the hips in rep 2",
        (Fault("knee_first", 350.0, FAULTY_REP),),
        "kettlebell",
        1.62,
        side="right",
    ),
    Sample(
        "hip_hinge_hips_rise_first",
        "hip_hinge",
        "hips rise 450 ms before the trunk in rep 2",
        (Fault("hips_rise_first", 450.0, FAULTY_REP),),
        "dowel",
        1.78,
    ),
    Sample(
        "hip_hinge_squatty",
        "hip_hinge",
        "knee-dominant hinge (30 deg extra knee flexion) in rep 2",
        (Fault("knee_dominant", 30.0, FAULTY_REP),),
        "kettlebell",
        1.90,
    ),
    Sample(
        "hip_hinge_oblique_correct",
        "hip_hinge",
        "correct, camera 30 deg off the side",
        (),
        "bodyweight",
        1.72,
        yaw_deg=30.0,
    ),
    Sample("squat_correct", "squat", "correct", height_m=1.58),
    Sample(
        "squat_rounded_back",
        "squat",
        "rounded lower back at the bottom (20 deg) in rep 2",
        (Fault("lumbar_flexion", 20.0, FAULTY_REP),),
        height_m=1.85,
        side="right",
    ),
    Sample("glute_bridge_correct", "glute_bridge", "correct", height_m=1.70),
    Sample(
        "glute_bridge_arched",
        "glute_bridge",
        "arches the back instead of extending the hips (15 deg)",
        (Fault("lumbar_extension", 15.0, FAULTY_REP),),
        height_m=1.80,
        side="right",
    ),
    Sample("bird_dog_correct", "bird_dog", "correct", height_m=1.66),
    Sample(
        "bird_dog_pelvis_rotation",
        "bird_dog",
        "pelvis rotates 15 deg as the leg lifts in rep 2",
        (Fault("pelvis_rotation", 15.0, FAULTY_REP),),
        height_m=1.76,
        side="right",
    ),
    Sample("dead_bug_correct", "dead_bug", "correct", height_m=1.74),
    Sample(
        "dead_bug_arched",
        "dead_bug",
        "lower back arches off the floor (15 deg) in rep 2",
        (Fault("lumbar_extension", 15.0, FAULTY_REP),),
        height_m=1.60,
        side="right",
    ),
    Sample("side_plank_correct", "side_plank", "correct (camera in front)", height_m=1.72),
    Sample(
        "side_plank_hip_drop",
        "side_plank",
        "hips drop 80 mm during the hold",
        (Fault("side_plank_hip_drop", 80.0),),
        height_m=1.84,
    ),
    Sample("forearm_plank_correct", "forearm_plank", "correct", height_m=1.78),
    Sample(
        "forearm_plank_sag",
        "forearm_plank",
        "hips sag 60 mm during the hold",
        (Fault("plank_sag", 60.0),),
        height_m=1.64,
        side="right",
    ),
    Sample("sit_to_stand_correct", "sit_to_stand", "correct", height_m=1.69),
    Sample(
        "sit_to_stand_rounded_back",
        "sit_to_stand",
        "rounded back (20 deg) while rising in rep 2",
        (Fault("lumbar_flexion", 20.0, FAULTY_REP),),
        height_m=1.81,
        side="right",
    ),
    Sample("cat_camel_correct", "cat_camel", "correct", height_m=1.73),
    Sample(
        "cat_camel_rushed",
        "cat_camel",
        "rep 2 is 1.5 s faster than prescribed",
        (Fault("tempo", 1.5, FAULTY_REP),),
        height_m=1.61,
        side="right",
    ),
    Sample("standing_posture_correct", "standing_posture", "correct", height_m=1.77),
    Sample(
        "standing_posture_forward_head",
        "standing_posture",
        "head drifts 50 mm forward",
        (Fault("forward_head", 50.0),),
        height_m=1.67,
        side="right",
    ),
    # New exercises go last: each sample's scene is drawn from its place in this table.
    Sample(
        "lunge_correct", "lunge", "correct, left leg in front", variant="left_front", height_m=1.71
    ),
    Sample(
        "lunge_knee_travel",
        "lunge",
        "front knee 80 mm further past the toes at the bottom of rep 2, hands on hips",
        (Fault("knee_travel", 80.0, FAULTY_REP),),
        "right_front_hands_on_hips",
        1.79,
        side="right",
    ),
)


def sample_spec(sample: Sample, index: int) -> ClipSpec:
    rng = np.random.default_rng(1000 + index)
    floor = motion_class(sample.exercise).on_floor
    return ClipSpec(
        exercise=sample.exercise,
        seed=1000 + index,
        height_m=sample.height_m,
        motion=MotionConfig(
            reps=SAMPLE_REPS, tempo=SAMPLE_TEMPO, hold_s=SAMPLE_HOLD_S, variant=sample.variant
        ),
        faults=sample.faults,
        camera=CameraSpec(
            distance_m=3.0, height_m=0.8 if floor else 1.1, yaw_deg=sample.yaw_deg, side=sample.side
        ),
        style=random_style(rng),
        crf=SAMPLE_CRF,
        prescribed_tempo=SAMPLE_TEMPO,
        label=sample.label,
    )


def render_samples(out_dir: Path, names: set[str] | None = None) -> list[dict[str, object]]:
    rows = []
    for i, sample in enumerate(SAMPLES):
        if names and sample.name not in names:
            continue
        truth = render_clip(sample_spec(sample, i), out_dir, sample.name)
        rows.append(
            {
                "name": sample.name,
                "exercise": sample.exercise,
                "label": sample.label,
                "correct": not sample.faults,
                "faults": [f.kind for f in sample.faults],
                "video": truth.video_path.name,
                "truth": truth.truth_path.name,
                "meta": truth.json_path.name,
                "duration_s": round(truth.duration_s, 3),
                "frames": truth.frames,
            }
        )
        print(f"{sample.name}: {truth.frames} frames")
    return rows


def write_labels(out_dir: Path) -> None:
    """``LABELS.tsv``: one line per sample with its exercise, correctness and faults."""
    lines = ["name\texercise\tcorrect\tfaults\tlabel"]
    for s in SAMPLES:
        faults = "; ".join(f"{f.kind} {f.size:g} {f.unit}" for f in s.faults)
        lines.append(
            f"{s.name}\t{s.exercise}\t{'yes' if not s.faults else 'no'}\t{faults}\t{s.label}"
        )
    (out_dir / "LABELS.tsv").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render the sample clips with their ground truth.")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: sample_videos/)"
    )
    parser.add_argument("--only", nargs="*", help="render only these sample names")
    args = parser.parse_args(argv)
    rows = render_samples(args.out, set(args.only) if args.only else None)
    if not args.only:
        (args.out / "index.json").write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
        write_labels(args.out)


if __name__ == "__main__":
    main()
