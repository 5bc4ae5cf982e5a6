#!/usr/bin/env bash
# The test command (what CI runs): set up the environment, then run the whole test suite.
# Extra arguments go to pytest, e.g. `-m "not slow"` for the fast unit tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
exec python -m pytest "$@"
