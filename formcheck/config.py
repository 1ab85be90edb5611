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


class ShotCutConfig(BaseModel):
    """Where a video cuts from one camera shot to another (edited clips people post).

    Every frame is shrunk to a thumbnail; a cut is a frame whose mean absolute HSV change
    from the previous thumbnail is both large and a spike against the frames around it
    (camera shake and fast movement change many frames in a row; a cut changes one).
    Measured on the 63 labelled real clips (``../shared/videos``, decoded as ``analyze``
    decodes them): the 17 cuts changed 5.0-75 (of 255) at 4.6-30 times the change around
    them; no other frame with a change of 5 or more stood above 2.1 times its surroundings
    (a handheld oblique squat changes about 20 a frame, a plate swinging past a phone's lens
    about 10 with the frames beside it as large).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="look for cuts in video files")
    thumbnail_width_px: int = Field(48, ge=8, le=256, description="thumbnail width (16:9-ish)")
    thumbnail_height_px: int = Field(27, ge=8, le=256, description="thumbnail height")
    change_min_level: float = Field(
        5.0, gt=0, le=255, description="mean absolute HSV change (0-255) a cut at least makes"
    )
    spike_ratio_min: float = Field(
        4.0,
        gt=1,
        description="... and at least this many times the median change of the frames just "
        "before it and of those just after it (whichever is larger)",
    )
    frames_before: int = Field(15, ge=1, description="frames before that set the usual change")
    frames_after: int = Field(5, ge=1, description="frames after it (read ahead)")
    change_floor_level: float = Field(
        1.0, gt=0, description="the usual change is taken as at least this (still, clean video)"
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
    shots: ShotCutConfig = ShotCutConfig()
