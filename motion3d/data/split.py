"""A deterministic, seeded split of files into train / val / test.

The split is by FILE (every window of a clip lands in the same split, so no take leaks from
train into evaluation) and depends only on the files' keys, the fractions and the seed: not on
the order in which the files were found, nor on where the dataset folder sits on disk.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["SPLITS", "split_counts", "split_by_file"]

SPLITS = ("train", "val", "test")


def split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    """How many of ``n`` files go to each split.

    ``fractions`` (one per split, non-negative, summing to 1) are rounded to counts that add up
    to ``n``; a split with a positive fraction gets at least one file whenever there are enough
    files for every such split.
    """
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (len(SPLITS),):
        raise ValueError(f"split needs {len(SPLITS)} fractions (train, val, test), got {list(fractions)}")
    if (f < 0).any() or not np.isfinite(f).all() or abs(f.sum() - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {list(fractions)}")
    counts = np.floor(f * n + 1e-9).astype(np.int64)
    # hand out the remainder by largest fractional part (ties: earlier split first)
    rest = f * n - counts
    for k in np.argsort(-rest, kind="stable")[: n - int(counts.sum())]:
        counts[k] += 1
    wanted = np.flatnonzero(f > 0)
    if n >= len(wanted):
        for k in wanted:
            if counts[k] == 0:
                donor = int(np.argmax(np.where(counts > 1, counts, -1)))
                counts[donor] -= 1
                counts[k] += 1
    return counts.tolist()


def split_by_file(
    keys: Sequence[str], fractions: Sequence[float], seed: int = 0, groups: Sequence | None = None
) -> np.ndarray:
    """``(N,)`` int array: the split (index into :data:`SPLITS`) of each of the ``N`` files.

    ``keys`` identify the files (relative paths, unique); they are sorted before a seeded
    permutation, so the result does not depend on their order. ``groups`` (one hashable value per
    file, e.g. its content label) stratifies: each group is split on its own with the same
    fractions (a group of one or two files goes to train first).
    """
    keys = list(keys)
    if len(set(keys)) != len(keys):
        raise ValueError("split keys must be unique")
    n = len(keys)
    if groups is not None:
        if len(groups) != n:
            raise ValueError(f"{len(groups)} groups for {n} files")
        split_counts(0, fractions)  # validates
        out = np.empty(n, dtype=np.int64)
        for g in sorted(set(groups), key=repr):
            idx = [i for i in range(n) if groups[i] == g]
            out[idx] = split_by_file([keys[i] for i in idx], fractions, seed)
        return out
    counts = split_counts(n, fractions)
    order = sorted(range(n), key=lambda i: keys[i])
    perm = np.random.default_rng(seed).permutation(n)
    labels = np.repeat(np.arange(len(SPLITS)), counts)  # (N,) split of each permuted slot
    out = np.empty(n, dtype=np.int64)
    out[np.asarray(order, dtype=np.int64)[perm]] = labels
    return out
