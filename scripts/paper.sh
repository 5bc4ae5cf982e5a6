#!/usr/bin/env bash
# Build the reproduction manuscript: set up the environment if needed, generate the macros,
# tables and figure list from results/<set>/ and figures/<set>/, then compile paper/main.tex
# with latexmk. Default set: paper (the PDF is copied to paper/kag-reproduction.pdf).
#   bash scripts/paper.sh                          # from the committed results/paper
#   bash scripts/paper.sh --params quick --out /tmp/quick   # a set run elsewhere
# The build is byte-reproducible: the same inputs give the same PDF, whenever and wherever it is
# built (SOURCE_DATE_EPOCH = the newest result's timestamp, FORCE_SOURCE_DATE=1, the trailer ID
# from the input digest, no build paths in included figures; kag_utils/manuscript/latex.py).
# Needs Debian's TeX Live; without it, it prints the apt-get line to run and exits 3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
exec python -m kag_utils.manuscript build "$@"
