#!/usr/bin/env bash
# Runs the whole test suite (and lint and type checks) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/mypy formcheck
.venv/bin/formcheck models >/dev/null
.venv/bin/python -m pytest "$@"
