#!/usr/bin/env bash
# System packages the test suite needs in CI (test.sh calls this when CI=true):
# Debian's chromium for the browser test (tests/server/test_browser_live.py), driven by the
# playwright Python package; playwright's own browser download is never used.
# Mesa's EGL and OpenGL drivers for the mesh body's headless renderer (formcheck/synth/gl_render.py).
# Redis for the job queue's tests (tests/queue_services.py starts its own redis-server on a
# loopback port; nothing is left running).
# PostgreSQL for the people database's tests (tests/db_services.py runs its own server from
# /usr/lib/postgresql/<version>/bin on a loopback port, as the postgres user when root).
set -euo pipefail
PACKAGES="chromium libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 redis-server postgresql"
missing=""
for package in $PACKAGES; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -z "$missing" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
chromium --version
