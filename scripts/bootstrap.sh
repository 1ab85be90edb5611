#!/usr/bin/env bash
# Creates .venv and installs formcheck with its development tools, and the page's npm
# packages (server/: MediaPipe's tasks-vision for pose in the browser); safe to run again.
# Sourced by run.sh and test.sh so a fresh machine needs nothing installed by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "setting up .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.formcheck-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e '.[dev]' >&2
  touch "$stamp"
fi
# The page's packages, exactly as locked (server/package-lock.json); nothing runs at install.
web_stamp=server/node_modules/.formcheck-installed
if [ ! -f "$web_stamp" ] || [ server/package-lock.json -nt "$web_stamp" ]; then
  if command -v npm >/dev/null 2>&1; then
    (cd server && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
    touch "$web_stamp"
  else
    echo "warning: npm not found: the live page will run pose on the server (install" \
      "Node.js 20 and npm, then run scripts/bootstrap.sh again)" >&2
  fi
fi
