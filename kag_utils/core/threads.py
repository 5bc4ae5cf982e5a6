"""Deliberate control of threads: torch's intra-op thread count, numba's idle workers.

On small tensors (the P1 models: [12, 250, 3] x [12, 3, 32]) one thread is ~25x faster than
two on this class of machine (PERFORMANCE-NOTES.md), so training loops pin one thread and
get their parallelism from processes instead.

numba's parallel kernels ran on its OpenMP threading layer here (the system libgomp, beside
torch's own libgomp); after the first such kernel, torch's CPU operations ran up to 40x slower
(`torch.isfinite` on 4e5 values: 40 ms instead of 1 ms, with OMP_WAIT_POLICY=PASSIVE too) and
`pair_metrics` 2-3x slower (issue 14). numba's own `workqueue` layer has neither problem and
runs the kernels as fast: `use_workqueue_layer` selects it; the modules that launch numba
kernels call it when imported. The workqueue layer must not be entered by two threads of one
process at once (parallelism here comes from processes: Dask workers run one thread each);
set NUMBA_THREADING_LAYER (e.g. to omp) to choose another layer.
"""
from __future__ import annotations

import contextlib
import os

import torch

__all__ = ["torch_threads", "use_workqueue_layer"]


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with `n` torch intra-op threads, restoring the previous count after."""
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def use_workqueue_layer() -> None:
    """Select numba's `workqueue` threading layer (see the module docstring) unless
    NUMBA_THREADING_LAYER chooses one. Takes effect only before numba's first parallel launch
    in the process (module import is early enough); no-op without numba."""
    if "NUMBA_THREADING_LAYER" in os.environ:
        return
    try:
        import numba
    except Exception:  # pragma: no cover - numba is a pinned dependency
        return
    numba.config.THREADING_LAYER = "workqueue"
