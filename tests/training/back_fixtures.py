"""A small synthetic still dataset in the format ``formcheck.training.back_data`` saves."""

from __future__ import annotations

import json

import numpy as np

from formcheck.kinematics.spine import SpineConfig
from tests.kinematics.test_back_shape import CHORD_PX, hinge_landmarks

BULGE_PX_PER_DEG = 0.25


def synthetic_dataset(n: int = 120, seed: int = 0) -> dict[str, object]:
    """Stills whose lumbar bulge grows with their true flexion, with noise, in 20 groups."""
    rng = np.random.default_rng(seed)
    fractions = SpineConfig().fractions()
    truth = rng.uniform(-25.0, 40.0, n)
    scale = rng.uniform(0.6, 2.0, n)
    offsets = np.empty((n, fractions.size))
    lms = np.empty((n, 33, 3))
    u = np.clip((fractions - 0.45) / 0.45, 0.0, 1.0)
    for k in range(n):
        bulge = BULGE_PX_PER_DEG * truth[k] + rng.normal(0.0, 0.5)
        offsets[k] = (30.0 + 4.0 * bulge * u * (1.0 - u)) * scale[k]
        lms[k] = hinge_landmarks(scale[k])
    offsets[0, :] = np.nan  # one still without an outline
    meta = [
        {
            "exercise": "hip_hinge",
            "variant": "bodyweight",
            "body": "capsule" if k % 2 else "woman_older",
            "clothing": "capsule" if k % 2 else "hoodie/trousers",
            "camera_yaw_deg": float(rng.uniform(-45.0, 45.0)),
            "image": "640x480",
            "height_m": 1.7,
        }
        for k in range(n)
    ]
    return {
        "group": np.arange(n) % 20,
        "lumbar_deg": truth,
        "true_trunk_deg": np.full(n, 60.0),
        "true_hip_flexion_deg": np.full(n, 80.0),
        "true_profile_mm": np.zeros((n, 41)),
        "found": np.ones(n, bool),
        "facing": -np.ones(n, np.int64),
        "yaw_deg": rng.uniform(0.0, 40.0, n),
        "chord_px": CHORD_PX * scale,
        "offsets_px": offsets,
        "usable": np.arange(n) != 0,
        "mask_confidence": rng.uniform(0.8, 1.0, n),
        "landmarks_px": lms,
        "visibility": np.ones((n, 33)),
        "meta": json.loads(json.dumps(meta)),
    }
