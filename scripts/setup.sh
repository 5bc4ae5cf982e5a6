#!/usr/bin/env bash
# Create (or reuse) ./.venv and install kag-utils with its pinned dependencies.
# Idempotent: a second call with nothing changed only checks the install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=.venv/.kag-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing kag-utils and pinned dependencies (torch first: ~1-2 min)"
  python -m pip install -q --upgrade pip
  # torch/torchvision first and explicitly, so pip takes the pinned pair in one resolve.
  python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
  python -m pip install -q -e ".[test]"
  python -m ipykernel install --sys-prefix --name python3 >/dev/null
  touch "$stamp"
fi
