"""Deliberate control of threads: torch's intra-op thread count, numba's idle workers.

On small tensors (the P1 models: [12, 250, 3] x [12, 3, 32]) one thread is ~25x faster than
two on this class of machine (PERFORMANCE-NOTES.md), so training loops pin one thread and
get their parallelism from processes instead.

numba's parallel kernels run on its OpenMP threading layer here (GNU libgomp), whose idle
workers spin after each kernel; on the 2-core machine that starved the torch operations run
between kernels (`torch.isfinite` on 2e5 values took 120 ms instead of 0.3 ms for about a
second after a kernel; `pair_metrics` ran 2-3x slower; issue 14). `quiet_numba_threads` lets
them sleep instead; the modules that launch numba kernels call it when imported.
"""
from __future__ import annotations

import contextlib
import os

import torch

__all__ = ["torch_threads", "quiet_numba_threads"]


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


def quiet_numba_threads() -> None:
    """Make numba's OpenMP workers sleep, not spin, between parallel kernels: sets
    OMP_WAIT_POLICY=PASSIVE unless OMP_WAIT_POLICY or NUMBA_THREADING_LAYER is already set.
    libgomp reads it when numba loads it at its first parallel launch, so call this before
    that (torch's own OpenMP runtime, loaded by ``import torch``, is not affected in this
    process; child processes inherit the variable)."""
    if "OMP_WAIT_POLICY" not in os.environ and "NUMBA_THREADING_LAYER" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
