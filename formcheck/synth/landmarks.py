"""Ground-truth BlazePose landmarks from the synthetic skeleton.

Placement (documented in the package docstring): shoulders, elbows, wrists, hips, knees and
ankles are joint centres; face points sit on the face (nose tip, eye centres and corners,
ear centres, mouth corners); pinky and index are the 5th and 2nd knuckles (MCP), thumb the
thumb's tip joint; heel is the back of the heel near the sole; foot_index the tip of the
big toe. MediaPipe's own points differ from joint centres by steady offsets (FACTS.md:
shoulder ~8 px above the joint at 330 px body height, hip 5-7 px forward).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.synth.body import BodyShape
from formcheck.synth.skeleton import SIDES, Skeleton
from formcheck.synth.surface import head_points

# Hand and foot points, fractions of body height in the hand / foot frame (forward, up, right).
INDEX_KNUCKLE_FRAC = (0.015, -0.050, 0.0)
PINKY_KNUCKLE_FRAC = (-0.015, -0.046, 0.0)
THUMB_TIP_FRAC = (0.028, -0.042, 0.0)
HEEL_FRAC = (-0.040, -0.030, 0.0)
FOOT_INDEX_FRAC = (0.100, -0.030, 0.0)


def landmarks_world(shape: BodyShape, skel: Skeleton) -> npt.NDArray[np.float64]:
    """(33, 3) world positions in metres, in MediaPipe's landmark order."""
    h = shape.height_m
    out = np.zeros((NUM_LANDMARKS, 3))
    face = head_points(shape, skel)
    out[Landmark.NOSE] = face["nose"]
    for side in SIDES:
        up = side.upper()
        for name in ("eye_inner", "eye", "eye_outer", "ear"):
            out[Landmark[f"{up}_{name.upper()}"]] = face[f"{side}_{name}"]
        out[Landmark[f"MOUTH_{up}"]] = face[f"mouth_{side}"]
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[Landmark[f"{up}_{joint.upper()}"]] = skel.points[f"{joint}_{side}"]
        for name, frac in (
            ("PINKY", PINKY_KNUCKLE_FRAC),
            ("INDEX", INDEX_KNUCKLE_FRAC),
            ("THUMB", THUMB_TIP_FRAC),
        ):
            out[Landmark[f"{up}_{name}"]] = skel.local_point(
                f"hand_{side}", f"wrist_{side}", np.array(frac) * h
            )
        for name, frac in (("HEEL", HEEL_FRAC), ("FOOT_INDEX", FOOT_INDEX_FRAC)):
            out[Landmark[f"{up}_{name}"]] = skel.local_point(
                f"foot_{side}", f"ankle_{side}", np.array(frac) * h
            )
    return out
