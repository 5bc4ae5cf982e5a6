"""Deliberate control of torch's intra-op thread count.

On small tensors (the P1 models: [12, 250, 3] x [12, 3, 32]) one thread is ~25x faster than
two on this class of machine (PERFORMANCE-NOTES.md), so training loops pin one thread and
get their parallelism from processes instead.
"""
from __future__ import annotations

import contextlib

import torch


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
