#!/usr/bin/env bash
# The main job on a fresh machine: install, obtain the pose model, analyze a sample clip.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
.venv/bin/formcheck models
.venv/bin/formcheck analyze "${1:-sample_videos/hip_hinge_correct.mp4}" --out out/sample "${@:2}"
