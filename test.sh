#!/usr/bin/env bash
# Runs the whole test suite (and lint and type checks) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
# CI also installs the system packages the browser tests need (Debian's chromium);
# elsewhere those tests skip with the reason when chromium is missing.
if [ "${CI:-}" = "true" ] && [ -f scripts/ci_system_deps.sh ]; then
  bash scripts/ci_system_deps.sh
fi
.venv/bin/ruff check .
.venv/bin/mypy formcheck
.venv/bin/formcheck models >/dev/null
.venv/bin/python -m pytest --cov --cov-report=term:skip-covered --durations=25 "$@"
