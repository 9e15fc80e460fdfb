"""The one check of the hostile-input tests: a loader refuses a crafted file with a FormatError that
names it, fast and without allocating what the file claims (issue 16: under 1 s and 200 MB).

The time is this process's CPU time (``time.process_time``), not the wall clock: a refusal costs
milliseconds, a loader that believes a crafted size spends seconds to hours of CPU, and the CPU time
of one process is not stretched by other jobs on a loaded 2-core machine (the wall clock was: 1.88 s
for an empty npz under a parallel build)."""
from __future__ import annotations

import time
import tracemalloc
import warnings

import pytest

from motion3d.io import FormatError

MB = 2**20


def refused_within_bounds(load, path, *args, seconds: float = 1.0, megabytes: int = 200, match: str | None = None,
                          error: type[Exception] = FormatError, names_path: bool = True) -> Exception:
    """``load(path, *args)`` raises ``error`` (matching ``match``; naming ``path`` when ``names_path``)
    in under ``seconds`` of CPU time with a traced peak under ``megabytes``; returns the error."""
    tracemalloc.start()
    start = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(error, match=match) as info:
                load(path, *args)
        elapsed = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if names_path and isinstance(info.value, FormatError):
        assert info.value.path == str(path), info.value
    assert elapsed < seconds, f"took {elapsed:.2f} s of CPU"
    assert peak < megabytes * MB, f"peak {peak / MB:.0f} MB"
    return info.value
