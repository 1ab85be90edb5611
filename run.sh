#!/usr/bin/env bash
# The main job on a fresh machine: install, obtain the pose model, analyze a bundled sample
# clip (report in out/sample/), then start the web app on http://127.0.0.1:8000/.
# With arguments it analyzes that clip instead and stops: ./run.sh CLIP [analyze options]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
.venv/bin/formcheck models
if [ $# -gt 0 ]; then
  exec .venv/bin/formcheck analyze "$@" --out out/sample
fi
.venv/bin/formcheck analyze sample_videos/hip_hinge_rounded_back.mp4 --exercise hip_hinge \
  --out out/sample
exec .venv/bin/formcheck serve
