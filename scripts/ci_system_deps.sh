#!/usr/bin/env bash
# System packages the test suite needs in CI (test.sh calls this when CI=true):
# Debian's chromium for the browser test (tests/server/test_browser_live.py), driven by the
# playwright Python package; playwright's own browser download is never used.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
chromium --version
