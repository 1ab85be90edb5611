"""Rendered stills: the posture asked for, its truth, and the image the pose model sees."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from formcheck.synth.real_use import BODY_SHAPES
from formcheck.synth.scene import SceneStyle
from formcheck.synth.spec import CameraSpec
from formcheck.training.stills import StillSpec, render_still
from tests.synth.mesh_helpers import need_gl, need_mesh

SPEC = StillSpec(
    exercise="hip_hinge",
    variant="bodyweight",
    params={"bottom_pelvis_tilt_deg": 65.0},
    down_fraction=1.0,
    lumbar_deg=0.0,
    pelvis_share=0.5,
    thoracic_deg=3.0,
    body="capsule",
    camera=CameraSpec(yaw_deg=10.0, width_px=320, height_px=240),
    style=SceneStyle(),
    capsule_seed=7,
)


def test_capsule_still_rounds_the_back_it_is_asked_to() -> None:
    neutral = render_still(SPEC)
    rounded = render_still(replace(SPEC, lumbar_deg=30.0))
    arched = render_still(replace(SPEC, lumbar_deg=-20.0))
    assert neutral.rgb.shape == (240, 320, 3) and neutral.rgb.dtype == np.uint8
    assert neutral.truth.person_px.sum() > 1000
    assert rounded.truth.lumbar_deg == 30.0
    # the skin's true outline bulges more when rounded, less when arched
    assert rounded.truth.back_bulge_mean_mm > neutral.truth.back_bulge_mean_mm + 10.0
    assert arched.truth.back_bulge_mean_mm < neutral.truth.back_bulge_mean_mm - 5.0
    assert 50.0 < neutral.truth.trunk_inclination_deg < 80.0
    # the same spec gives the same image
    np.testing.assert_array_equal(render_still(SPEC).rgb, neutral.rgb)


@pytest.mark.parametrize("exercise", ["squat", "sit_to_stand"])
def test_other_exercises_render(exercise: str) -> None:
    spec = replace(SPEC, exercise=exercise, variant="", params={}, down_fraction=0.5)
    still = render_still(spec)
    assert still.truth.person_px.sum() > 1000
    assert still.truth.hip_flexion_deg > 20.0


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="exercise"):
        replace(SPEC, exercise="plank")
    with pytest.raises(ValueError, match="body"):
        replace(SPEC, body="robot")
    with pytest.raises(ValueError, match="mesh shape"):
        replace(SPEC, body="mesh")


def test_mesh_still_with_loose_clothes() -> None:
    need_mesh()
    need_gl()
    spec = replace(SPEC, body="mesh", mesh=BODY_SHAPES[4], top="hoodie", bottom="trousers")
    still = render_still(spec)
    assert spec.body_name == BODY_SHAPES[4].name and spec.clothing == "hoodie/trousers"
    assert still.truth.person_px.sum() > 1000
    rounded = render_still(replace(spec, lumbar_deg=30.0))
    assert rounded.truth.back_bulge_mean_mm > still.truth.back_bulge_mean_mm + 5.0
