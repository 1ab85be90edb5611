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
