"""Names of the measures in a Sample, with their units in the name.

This is the contract between kinematics (which computes them) and the analyzers (which read
them). Unsided names refer to the side nearer the camera (the better-seen one); ``left_``/
``right_`` prefixes are the person's own sides.

Sign conventions stay stable when the person turns around: "forward" is the direction the
person faces, "up" is against gravity (image up), whatever side faces the camera.
"""

from __future__ import annotations

# --- joint angles (degrees) -----------------------------------------------------------------
HIP_FLEXION_DEG = "hip_flexion_deg"  # 180 - angle(shoulder, hip, knee); 0 standing tall
KNEE_FLEXION_DEG = "knee_flexion_deg"  # 180 - angle(hip, knee, ankle); 0 straight knee
ANKLE_DORSIFLEXION_DEG = "ankle_dorsiflexion_deg"  # angle(shin, foot) - 90; + knee over toes
TRUNK_INCLINATION_DEG = "trunk_inclination_deg"  # hip->shoulder from vertical; 0 upright, 90 flat
# Signed (needs the facing direction, else NaN): mid-hip->mid-shoulder from vertical, + forward,
# - leaning back. Unlike the unsigned inclination it does not dip through 0 when a person who
# reads as leaning slightly back starts to tip forward (that dip delayed movement onsets).
TRUNK_LEAN_DEG = "trunk_lean_deg"
SHIN_ANGLE_DEG = "shin_angle_deg"  # ankle->knee from vertical; + knee ahead of the ankle
NECK_FLEXION_DEG = (
    "neck_flexion_deg"  # shoulder->ear line against the trunk line; + chin down/forward
)

CAMERA_YAW_FROM_SIDE_DEG = "camera_yaw_from_side_deg"  # 0 pure side view, 90 front or back view

SIDED_ANGLES = (HIP_FLEXION_DEG, KNEE_FLEXION_DEG, ANKLE_DORSIFLEXION_DEG)

# --- lengths and positions (millimetres, after calibration) ---------------------------------
HEAD_FORWARD_MM = "head_forward_mm"  # mid-ear ahead of the mid-hip->mid-shoulder line (+ fwd)
STANCE_WIDTH_MM = "stance_width_mm"  # ankle to ankle distance across the body
HIP_HEIGHT_MM = "hip_height_mm"  # hip above the ankle (floor) level
SHOULDER_HEIGHT_MM = "shoulder_height_mm"  # shoulder above the ankle level
HIP_BACK_MM = "hip_back_mm"  # hip behind the ankle along the facing direction (+ behind)
KNEE_FORWARD_MM = "knee_forward_mm"  # knee ahead of the toes (foot index) (+ past the toes)
THIGH_LENGTH_MM = "thigh_length_mm"
SHANK_LENGTH_MM = "shank_length_mm"
TRUNK_LENGTH_MM = "trunk_length_mm"  # hip to shoulder, image plane

# --- spine shape (millimetres, from the person mask; see kinematics.spine) --------------------
BACK_BULGE_MM = "back_bulge_mm"  # dorsal outline from the shoulder-hip chord; + rounded, - arched
SPINE_CHORD_MM = "spine_chord_mm"  # shoulder-hip distance (landmarks, mean of both sides)
BACK_CURVE_MM = "back_curve_mm"  # quadratic sagitta of the lumbar/lower-thoracic outline
BACK_OFFSET_MM = "back_offset_mm"  # mean outline distance from the shoulder-hip chord (middle)
CHIN_DROP_MM = "chin_drop_mm"  # nose below the ear along the trunk axis (+ chin down)

# --- lumbar shape judged absolutely (kinematics.back_shape; no personal reference needed) ----
# Lumbar flexion against a neutral lower back, from one frame's outline and posture by a model
# learned from renders of many bodies, clothes and cameras: + rounded, - arched (degrees).
LUMBAR_FLEXION_DEG = "lumbar_flexion_deg"
LUMBAR_FLEXION_SD_DEG = "lumbar_flexion_sd_deg"  # its uncertainty (one standard deviation)
# The outline change that lumbar_flexion_deg means on this person's trunk (+ rounded), for cues.
BACK_ROUNDING_MM = "back_rounding_mm"

# --- scale ----------------------------------------------------------------------------------
MM_PER_PX = "mm_per_px"  # the calibration scale used for this frame

# --- exercise measures (computed on request of an exercise spec: kinematics.providers) -----
HEEL_Y_PX = "heel_y_px"  # mean image row of both heels (down is +): a rise is a heel lift
# 1 when the set is filmed from the front (decided once per set), 0 from the side, NaN
# until a camera yaw has been seen
FRONT_VIEW_SET_FLAG = "front_view_set_flag"
WRIST_THIGH_MM = "wrist_thigh_mm"  # nearer wrist's distance from the thigh (hip->knee)
PELVIS_TILT_MM = "pelvis_tilt_mm"  # left hip above the right (image up), front view only
SPINE_ARC_DEG = "spine_arc_deg"  # bend of the lumbar/lower-thoracic outline; + flexed (cat)
LIMB_REACH_DEG = "limb_reach_deg"  # the largest limb reach of the frame (floor exercises)
ARMS_REACH_DEG = "arms_reach_deg"  # the larger reach of the two arms
LEGS_REACH_DEG = "legs_reach_deg"  # the larger reach of the two legs
ARM_REACH_DEG = {s: f"{s}_arm_reach_deg" for s in ("left", "right")}
LEG_REACH_DEG = {s: f"{s}_leg_reach_deg" for s in ("left", "right")}
HIP_LEVEL_MM = "hip_level_mm"  # left hip below the right hip in the image (+ left lower)
HIP_LEVEL_WORLD_MM = "hip_level_world_mm"  # the same from the metric world landmarks
HIP_WIDTH_WORLD_MM = "hip_width_world_mm"  # hip to hip distance (world landmarks)
BACK_HIP_END_MM = "back_hip_end_mm"  # dorsal outline off the chord at its hip end
HEAD_DIRECTION_X = "head_direction_x"  # +1 head towards image right, -1 left (dimensionless)
# body lines of the isometric holds (midpoints of both sides)
HIP_LINE_OFFSET_MM = "hip_line_offset_mm"  # hips below (+) the shoulder-ankle line
# ... as a fraction of the line's length (unchanged when the camera moves in or out)
HIP_LINE_OFFSET_FRACTION = "hip_line_offset_fraction"
BODY_LINE_LENGTH_MM = "body_line_length_mm"  # shoulder to ankle
HIP_LINE_BEND_DEG = "hip_line_bend_deg"  # bend of that line at the hips (+ hips low)
BODY_LINE_ELEVATION_DEG = "body_line_elevation_deg"  # foot->shoulder line above level
SUPPORT_ARM_FROM_VERTICAL_DEG = "support_arm_from_vertical_deg"  # elbow->shoulder lean
# The shoulder axis out of the image plane, unsigned (a left/right swap of the landmarks
# flips its sign), deg: 0 with the chest square to a camera in front.
SHOULDER_ROLL_DEG = "shoulder_roll_deg"
# Mid-shoulder ahead of mid-hip along the facing direction, mm (+ shoulders forward).
SHOULDER_AHEAD_MM = "shoulder_ahead_of_hip_mm"
# Mid-ear ahead of the mid-hip to mid-shoulder line, mm: head_forward_mm from midpoints (the
# near side's ear flips between frames when the feet move).
HEAD_AHEAD_MM = "head_ahead_of_trunk_mm"
# The heels apart in the image, mm: stance_width_mm (MediaPipe's depth) drifted 40 mm in a
# correct render and moved 36 mm for a 199 mm change.
HEEL_GAP_MM = "heel_gap_mm"
# split stance (lunge, split squat): the leg whose ankle is further forward is the front leg
FRONT_KNEE_FLEXION_DEG = "front_knee_flexion_deg"
REAR_KNEE_FLEXION_DEG = "rear_knee_flexion_deg"
FRONT_KNEE_PAST_TOES_MM = "front_knee_past_toes_mm"  # front knee ahead of its toes (+ past)
FRONT_LEG_RIGHT_FLAG = "front_leg_right_flag"  # 1 right leg in front, 0 left, NaN unknown
