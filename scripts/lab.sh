#!/usr/bin/env bash
# Reading the notebooks: set up the environment if needed, then open the project in JupyterLab
# with every notebooks/*.py shown as a notebook (kernel python3), starting at
# notebooks/01_setup.py. The two settings this needs come from the project's configuration
# overlay jupyter-config/, for this session only: nothing is written to the user's Jupyter
# configuration. Extra arguments go to `jupyter lab`, e.g. `--no-browser --port 8899`, or a notebook
# path (relative to the project root) to open instead of 01_setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
exec python -m kag_utils.cli.lab "$@"
