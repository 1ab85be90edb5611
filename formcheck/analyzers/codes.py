"""Every fault code, in one place (stable in report.json and in events)."""

# the back and head
SPINE_ROUNDED = "spine_rounded"
SPINE_ARCHED = "spine_arched"
HEAD_FORWARD = "head_forward"
# tempo: the move away from the start position, or the return to it, was rushed
TEMPO_DOWN_FAST = "tempo_down_fast"
TEMPO_UP_FAST = "tempo_up_fast"
# timing and pattern of standing exercises
KNEE_FIRST = "knee_first"  # the knees start the descent before the hips sit back
KNEE_DOMINANT = "knee_dominant"  # a squat pattern where a hinge was asked for
HIPS_RISE_FIRST = "hips_rise_first"  # the hips rise before the chest on the way up
DEPTH_SHORT = "depth_short"  # short of a prescribed depth
STANCE_WIDTH_CHANGE = "stance_width_change"  # the feet moved apart or together
HEEL_LIFT = "heel_lift"
HANDS_ON_THIGHS = "hands_on_thighs"  # pushing off the thighs to stand up
TRUNK_LEAN = "trunk_lean"  # the trunk tipped further forward than the reference
KNEE_TRAVEL = "knee_travel"  # the front knee travelled further forward past the toes
# floor exercises
HIPS_LOW = "hips_low"  # the hips stop short of full extension at the top of a bridge
PELVIS_TILT = "pelvis_tilt"  # one hip lower than the other (front view)
PELVIS_ROTATION = "pelvis_rotation"  # the pelvis turns or hikes with the lifted leg
RANGE_SHORT = "range_short"  # less spinal range than in the first cycle
# holds
HIP_SAG = "hip_sag"
HIP_PIKE = "hip_pike"
HIP_DROP = "hip_drop"
TRUNK_ROTATION = "trunk_rotation"
CHIN_DOWN = "chin_down"
CHIN_UP = "chin_up"
SHOULDERS_FORWARD = "shoulders_forward"
SHOULDERS_BACK = "shoulders_back"
