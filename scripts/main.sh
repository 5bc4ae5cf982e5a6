#!/usr/bin/env bash
# The main job: set up the environment, then run every notebook headless with a parameter set
# (default: params/default.yaml). Extra arguments go to `kag-run`, e.g. `--params paper`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
exec kag-run "$@"
