"""Timing shared by the benchmark scripts (the machine may be shared: the best run is kept)."""
from __future__ import annotations

import time
from typing import Callable

import torch


def best_time(fn: Callable[[], object], repeat: int, warmup: int = 0, sync=None) -> float:
    """Shortest wall time in seconds of ``repeat`` calls of ``fn()``, after ``warmup`` untimed calls.
    ``sync``: a CUDA device to synchronise before and after each timed call (its kernels run
    asynchronously), or None."""
    wait = (lambda: torch.cuda.synchronize(sync)) if sync is not None else (lambda: None)
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(max(1, int(repeat))):
        wait()
        t0 = time.perf_counter()
        fn()
        wait()
        best = min(best, time.perf_counter() - t0)
    return best
