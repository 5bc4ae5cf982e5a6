#!/usr/bin/env bash
# The HTML edition: a static site of one parameter set's executed notebooks, its verdict table
# and the manuscript PDF, in site/<set>/ (git-ignored; open site/<set>/index.html or serve the
# folder). Default set: paper.
#   bash scripts/site.sh                     # from runs/paper/ and results/paper/
#   bash scripts/site.sh quick --out /tmp/q  # a set run with kag-run --params quick --out /tmp/q
# The executed notebooks (runs/<set>/*.ipynb) are not committed: run the set first
# (bash scripts/main.sh --params <set>, or kag-run); the script says so when they are missing.
# Options: --out DIR (results), --runs DIR (executed notebooks), --dest DIR, --pdf FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
exec python -m kag_utils.cli.site "$@"
