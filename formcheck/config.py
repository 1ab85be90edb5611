"""Pipeline settings with units in every name; one model feeds TOML, CLI flags and the server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OneEuroConfig(BaseModel):
    """One Euro filter parameters (Casiez et al. 2012).

    Coordinates are filtered in units of the person's size (landmark pixels divided by the
    torso length), so the same parameters suit a near and a far person. The defaults keep
    a movement onset within one frame period of the raw signal at 25-60 fps (tests/
    test_smoothing.py) while cutting still-standing jitter by about a third; MediaPipe's
    legacy values (0.1 Hz, beta 40) smooth more but delay onsets by 2-3 frames.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_cutoff_hz: float = Field(0.5, gt=0, description="cutoff at rest: lower = smoother still")
    beta: float = Field(
        200.0,
        ge=0,
        description="speed coefficient: higher = less lag when moving (per body size/s)",
    )
    derivative_cutoff_hz: float = Field(0.5, gt=0, description="cutoff of the speed estimate")


class QualityConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_person_height_px: float = Field(
        125.0,
        gt=0,
        description="people smaller than this (longest extent) are lost or swapped left/right"
        " (FACTS.md)",
    )
    min_visibility: float = Field(0.5, ge=0, le=1, description="a landmark counts as seen above it")
    edge_margin_px: float = Field(
        2.0, ge=0, description="key joints this close to the edge are out"
    )
    min_fill_share: float = Field(
        1.0 / 3.0,
        gt=0,
        le=1,
        description="a person filling less of the picture (height standing, length lying) "
        "is too small to measure in millimetres: the setup check asks to move closer and the "
        "report says so (the pose model's own advice: at least a third of the frame)",
    )
    min_mean_luma: float = Field(
        40.0, ge=0, le=255, description="a darker frame (mean of 0..255 luma) asks for light"
    )
    target_fill_share: tuple[float, float] = Field(
        (0.5, 0.8),
        description="the share of the picture to aim for: room for the movement, and big "
        "enough that a millimetre is more than a fraction of a pixel",
    )


class FilmingConfig(BaseModel):
    """When the report calls a set's filming a problem (the per-frame limits are
    ``QualityConfig``'s and the exercise's setup spec's, the live setup check's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_problem_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="a problem in fewer of the frames is a moment (stepping in or out, "
        "setting a weight down), not how the set was filmed",
    )
    min_pose_rate: float = Field(
        0.9,
        gt=0,
        le=1,
        description="with a person found in fewer of the frames, tracking was patchy: a set "
        "seen in fewer than 9 frames in 10 loses reps' phases and checks (issue 14's real "
        "clips: 100% on clean ones)",
    )
    span_gap_s: float = Field(
        0.5, ge=0, description="stretches of a problem closer than this are one stretch"
    )
    max_spans: int = Field(3, ge=1, description="the longest stretches of a problem reported")


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    still_window_s: float = Field(
        1.0, gt=0, description="length of the still period for the baseline"
    )
    search_window_s: float = Field(
        6.0, gt=0, description="look for the still period within this time from the start"
    )
    still_max_spread_body: float = Field(
        0.03,
        gt=0,
        description="max median joint spread (std, in torso lengths) in a 'still' window",
    )


class PipelineConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_inference_side_px: int = Field(
        1280, ge=256, description="frames with a longer side are downscaled before inference"
    )
    segmentation: bool = Field(True, description="ask the model for a person mask (back outline)")
    max_people: int = Field(
        2, ge=1, le=5, description="people told apart at the start; the pipeline locks onto one"
    )
    smoothing: OneEuroConfig = OneEuroConfig()
    quality: QualityConfig = QualityConfig()
    calibration: CalibrationConfig = CalibrationConfig()
