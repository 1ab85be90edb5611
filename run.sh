#!/usr/bin/env bash
# The main job on a fresh machine: install, obtain the pose model, analyze a sample clip.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
.venv/bin/formcheck models
if [ $# -eq 0 ]; then
  set -- sample_videos/hip_hinge_rounded_back.mp4 --exercise hip_hinge
fi
.venv/bin/formcheck analyze "$@" --out out/sample
