#!/usr/bin/env bash
# gpu_check.sh: the GPU checks of kag-paper in one prepared command (issue 14, item 7).
#
#   bash benchmarks/gpu_check.sh            # on a machine with a CUDA GPU, from any directory
#   GPU_CHECK_DRY_RUN=1 bash benchmarks/gpu_check.sh    # no GPU: the logic only, on the CPU
#
# What it does, within GPU_CHECK_BUDGET_S seconds (default 570, about 10 minutes) in all:
#   0. environment: nvidia-smi, python / torch / numba versions, CUDA visible to torch. Without
#      CUDA it prints why and exits with status 0 (nothing to check; GPU_CHECK_REQUIRE_CUDA=1
#      makes that status 3). Python packages the steps need but the machine lacks are installed
#      from the wheel folder .whl/ of the checkout (pip --no-index) when it exists; else the
#      steps that need them are skipped with the pip command that prepares the folder.
#   1. the CUDA tests: pytest -m cuda on the test files that carry the `cuda` marker
#      (tests/test_minor_kernels.py, tests/test_probe.py).
#   2. benchmarks/gpu_timings.py: MNIST MLP training (train_ensemble, 5 seeds, h = 128, 512)
#      and the sampled minors (h = 512, k = 2, 3, 10,000 x 10,000 tuples: PR/IPR sums, KL
#      histogram, RR maxima) and pair_metrics on CUDA against the CPU path on the same inputs:
#      seconds, ratios, largest differences.
#   3. notebook 06's paper protocol: kag-run --params paper 06 (--out outside the checkout),
#      stopped when the budget runs out (the full protocol takes hours: P2 reports 2-3
#      H100-hours per seed run), with its log. The paper set reads full MNIST from
#      $KAG_MNIST_DIR (or a carried folder .mnist/ holding MNIST/raw/*-ubyte); without it the
#      run uses a copy of params/paper.yaml with `data: embedded` (the machine cannot
#      download), and says so. GPU_CHECK_NB06_PARAMS=<set or YAML> runs another set instead;
#      GPU_CHECK_SKIP_NB06=1 skips the step.
#
# Output: everything goes to $OUT (default ./runs/gpu_check), as at most 8 files one level
# deep (what the device tool brings back): gpu_check.log (all steps, with timings),
# env.txt, pytest_cuda.log, gpu_timings.log, gpu_timings.json, nb06.log and
# nb06_outputs.tar.gz (the notebook's results/ and figures/ and the executed notebook).
#
# Variables: OUT, PYTHON (default: python3, or the checkout's .venv/bin/python when present
# and no CUDA python3 is), GPU_CHECK_BUDGET_S, GPU_CHECK_DRY_RUN, GPU_CHECK_REQUIRE_CUDA,
# GPU_CHECK_NB06_PARAMS, GPU_CHECK_SKIP_NB06, KAG_MNIST_DIR, KAG_CACHE_DIR (default: a fresh
# folder under /tmp, so that nothing is taken from an old run cache).
#
# Preparing the wheels (on a machine with the network; the device has none), e.g. for the
# device's Python 3.12:
#   pip download --dest .whl --python-version 3.12 --only-binary=:all: \
#       papermill jupytext ipykernel nbformat mlxtend
# then carry .whl (it is in .gitignore) with the checkout.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$ROOT/runs/gpu_check}
mkdir -p "$OUT"
BUDGET=${GPU_CHECK_BUDGET_S:-570}
DRY=${GPU_CHECK_DRY_RUN:-}
LOG=$OUT/gpu_check.log
: >"$LOG"
T0=$(date +%s)
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
export KAG_CACHE_DIR=${KAG_CACHE_DIR:-$(mktemp -d /tmp/kag_gpu_check_cache.XXXXXX)}

elapsed() { echo $(($(date +%s) - T0)); }
left() { echo $((BUDGET - $(elapsed))); }
log() { echo "[gpu_check $(elapsed)s] $*" | tee -a "$LOG"; }
# run NAME LIMIT CMD...: one step under `timeout`, its output to $OUT/NAME.log and the main log
run_step() {
    local name=$1 limit=$2
    shift 2
    if [ "$limit" -lt 10 ]; then
        log "$name: skipped, only ${limit}s of the budget left"
        return 124
    fi
    log "$name: start (limit ${limit}s): $*"
    local t=$(date +%s)
    timeout -k 15 "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 60 "$OUT/$name.log" | sed "s/^/  [$name] /" | tee -a "$LOG"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        log "$name: STOPPED by the time limit after $(($(date +%s) - t))s"
    else
        log "$name: exit $rc after $(($(date +%s) - t))s"
    fi
    return $rc
}

# ------------------------------------------------------------------ 0. environment, CUDA
if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
elif command -v python3 >/dev/null 2>&1 && python3 -c "import torch" >/dev/null 2>&1; then
    PY=python3
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY=$ROOT/.venv/bin/python
else
    log "no python with torch found (set PYTHON=...); nothing to check"
    [ -n "${GPU_CHECK_REQUIRE_CUDA:-}" ] && exit 3
    exit 0
fi
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   host: $(hostname)   budget: ${BUDGET}s"
    echo "checkout: $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    echo "python: $PY"
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi 2>&1 | head -n 15 || echo "nvidia-smi: not found"
    "$PY" - <<'EOF' 2>&1
import os, platform
import torch
print(f"python {platform.python_version()}, torch {torch.__version__}, "
      f"CUDA available: {torch.cuda.is_available()}, cpu count {os.cpu_count()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"GPU 0: {p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs, "
          f"CUDA {torch.version.cuda}")
try:
    import numba
    print(f"numba {numba.__version__}, {numba.config.NUMBA_NUM_THREADS} threads")
except Exception as exc:
    print(f"numba: {exc}")
EOF
} >"$OUT/env.txt" 2>&1
sed 's/^/  /' "$OUT/env.txt" | tee -a "$LOG"

CUDA=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
if [ "$CUDA" != 1 ] && [ -z "$DRY" ]; then
    log "no CUDA GPU: torch.cuda.is_available() is False for $PY. Nothing to check here;"
    log "run this script on a machine with a CUDA GPU (or GPU_CHECK_DRY_RUN=1 to check the logic)."
    [ -n "${GPU_CHECK_REQUIRE_CUDA:-}" ] && exit 3
    exit 0
fi
[ "$CUDA" != 1 ] && log "DRY RUN on the CPU (GPU_CHECK_DRY_RUN=$DRY): small sizes, CPU against CPU"

# packages: module name -> pip name
missing_for() {
    "$PY" - "$@" <<'EOF'
import importlib.util, sys
pip = {"yaml": "PyYAML"}
print(" ".join(pip.get(m, m) for m in sys.argv[1:] if importlib.util.find_spec(m) is None))
EOF
}
MISSING=$(missing_for numba scipy pandas matplotlib yaml pytest papermill jupytext ipykernel nbformat mlxtend seaborn)
if [ -n "$MISSING" ] && [ -d "$ROOT/.whl" ]; then
    log "installing from .whl/: $MISSING"
    "$PY" -m pip install --no-index --find-links "$ROOT/.whl" $MISSING >>"$LOG" 2>&1 \
        || log "pip install from .whl/ failed (see above)"
    MISSING=$(missing_for numba scipy pandas matplotlib yaml pytest papermill jupytext ipykernel nbformat mlxtend seaborn)
fi
[ -n "$MISSING" ] && log "missing Python packages: $MISSING (prepare .whl/: see this script's header)"
has() { for m in "$@"; do case " $MISSING " in *" $m "*) return 1 ;; esac; done; return 0; }

STATUS=0
# ------------------------------------------------------------------ 1. CUDA tests
if has numba scipy pandas PyYAML pytest; then
    FILES=$(cd "$ROOT" && grep -l "mark.cuda" tests/test_*.py | tr '\n' ' ')
    LIMIT=$(( $(left) < 180 ? $(left) : 180 ))
    (cd "$ROOT" && run_step pytest_cuda "$LIMIT" "$PY" -m pytest -m cuda -q -p no:cacheprovider $FILES)
    rc=$?
    # 5: no test collected/selected (a CPU dry run skips them all)
    [ $rc -ne 0 ] && [ $rc -ne 5 ] && STATUS=1
else
    log "pytest_cuda: skipped (missing packages)"
fi

# ------------------------------------------------------------------ 2. CUDA vs CPU timings
if has numba scipy pandas matplotlib PyYAML; then
    LIMIT=$(( $(left) - 150 < 240 ? $(left) - 150 : 240 ))
    [ "$LIMIT" -lt 60 ] && LIMIT=$(( $(left) - 20 ))
    (cd "$ROOT" && run_step gpu_timings "$LIMIT" "$PY" benchmarks/gpu_timings.py --out "$OUT" ${DRY:+--dry-run})
    [ $? -ne 0 ] && STATUS=1
else
    log "gpu_timings: skipped (missing packages)"
fi

# ------------------------------------------------------------------ 3. notebook 06, paper set
if [ -n "${GPU_CHECK_SKIP_NB06:-}" ]; then
    log "nb06: skipped (GPU_CHECK_SKIP_NB06)"
elif ! has papermill jupytext ipykernel nbformat PyYAML; then
    log "nb06: skipped (missing packages: kag-run needs papermill, jupytext, ipykernel, nbformat)"
else
    PARAMS=${GPU_CHECK_NB06_PARAMS:-paper}
    if [ -z "${KAG_MNIST_DIR:-}" ] && [ -d "$ROOT/.mnist/MNIST/raw" ]; then
        export KAG_MNIST_DIR=$ROOT/.mnist
    fi
    if [ "$PARAMS" = paper ] && [ -z "${KAG_MNIST_DIR:-}" ]; then
        ALT=$(mktemp -d /tmp/kag_gpu_check_params.XXXXXX)/paper-embedded.yaml
        "$PY" - "$ROOT/params/paper.yaml" "$ALT" <<'EOF'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["06_mnist_spatial"]["data"] = "embedded"
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
EOF
        PARAMS=$ALT
        log "nb06: no full MNIST here (\$KAG_MNIST_DIR unset, no .mnist/): the paper protocol on the" \
            "embedded digits instead ($PARAMS)"
    fi
    NB_OUT=$(mktemp -d /tmp/kag_gpu_check_nb06.XXXXXX)
    LIMIT=$(( $(left) - 30 ))
    [ -n "$DRY" ] && [ "$LIMIT" -gt 60 ] && LIMIT=60
    (cd "$ROOT" && run_step nb06 "$LIMIT" "$PY" -c \
        "import sys; from kag_utils.cli.runner import main; sys.exit(main())" \
        --params "$PARAMS" --out "$NB_OUT" --run-dir "$NB_OUT/runs" --log-output 06)
    rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        log "nb06: the paper protocol did not finish within the budget (expected: hours in full);" \
            "its log shows how far it got"
    elif [ $rc -ne 0 ]; then
        STATUS=1
    fi
    tar -czf "$OUT/nb06_outputs.tar.gz" -C "$NB_OUT" . 2>>"$LOG" \
        && log "nb06: outputs in nb06_outputs.tar.gz ($(du -h "$OUT/nb06_outputs.tar.gz" | cut -f1))"
fi

log "done in $(elapsed)s of ${BUDGET}s; status $STATUS (0: every step that ran passed)"
log "files: $(cd "$OUT" && ls | tr '\n' ' ')"
exit $STATUS
